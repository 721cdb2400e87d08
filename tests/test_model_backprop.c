/* Gradient rules (Backprop, BackpropBias, Backprop_DendriticLoss) and btsp_net_loss_gradient.
 *
 * Gradient checks compare the library's float gradient with central finite differences of the
 * loss computed by an independent double-precision re-implementation of the forward dynamics
 * (below, `ref_forward`), which also checks that it agrees with btsp_net_forward. Truncation:
 * the reference keeps two copies of every parameter, one used by the steps before the window
 * and one by the K steps of the window (and, when K = T, by the reset state u(0) = b), and
 * differentiates with respect to the second: that is the truncated gradient, as EIANN computes
 * it with autograd enabled only inside the window.
 *
 * Tolerance: max |library - finite difference| <= 1e-3 * max |finite difference| for every
 * projection and bias. The finite differences (h = 1e-6 in double) are accurate to ~1e-9
 * relative; the library works in float (~1e-6 relative), so 1e-3 leaves room only for float
 * rounding, not for a wrong term. The worst relative error seen is printed. */
#include "test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Small networks described by a spec, built through the public API */

#define MAXP 8
#define MAXQ 16

typedef struct pop_spec {
    const char *layer, *name;
    size_t n;
    btsp_activation act;
    double p0, p1;
    int bias; /* 0 none, 1 fixed, 2 BackpropBias */
    double tau; /* 0: the network's */
} pop_spec;

enum { R_NONE, R_BP, R_BPDL };

typedef struct proj_spec {
    int pre, post;
    btsp_direction dir;
    btsp_compartment comp;
    btsp_phase phase;
    int rule;
    double lo, hi, lr;
    double ia, ib; /* uniform init range */
} proj_spec;

typedef struct spec {
    double tau;
    unsigned T, K;
    size_t np, nq;
    pop_spec p[MAXP];
    proj_spec q[MAXQ];
    int source; /* Backprop_DendriticLoss source population, -1 none */
    double bias_lr;
} spec;

typedef struct built {
    btsp_net *net;
    btsp_pop *p[MAXP];
    btsp_proj *q[MAXQ];
    btsp_rule *r[MAXQ], *rb[MAXP];
} built;

static void build(const spec *s, built *b, int finalize)
{
    memset(b, 0, sizeof *b);
    assert_int_equal(btsp_net_create(&b->net), BTSP_OK);
    btsp_net *net = b->net;
    assert_int_equal(btsp_net_set(net, BTSP_NET_TAU, s->tau), BTSP_OK);
    assert_int_equal(btsp_net_set(net, BTSP_NET_FORWARD_STEPS, s->T), BTSP_OK);
    assert_int_equal(btsp_net_set(net, BTSP_NET_BACKWARD_STEPS, s->K), BTSP_OK);
    btsp_net_seed(net, 1234);
    btsp_layer *layer = NULL;
    const char *lname = NULL;
    for (size_t i = 0; i < s->np; i++) {
        const pop_spec *ps = &s->p[i];
        if (!lname || strcmp(lname, ps->layer) != 0) {
            assert_int_equal(btsp_layer_add(net, ps->layer, &layer), BTSP_OK);
            lname = ps->layer;
        }
        assert_int_equal(btsp_pop_add(layer, ps->name, ps->n, &b->p[i]), BTSP_OK);
        if (i == 0)
            continue;
        assert_int_equal(btsp_pop_set_activation(b->p[i], ps->act, ps->p0, ps->p1), BTSP_OK);
        if (ps->tau > 0)
            assert_int_equal(btsp_pop_set(b->p[i], BTSP_POP_TAU, ps->tau), BTSP_OK);
        if (ps->bias) {
            assert_int_equal(btsp_pop_set_bias_init(b->p[i], BTSP_INIT_UNIFORM, -0.3, 0.5), BTSP_OK);
            if (ps->bias == 2) {
                assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP_BIAS, &b->rb[i]), BTSP_OK);
                assert_int_equal(btsp_rule_set(b->rb[i], BTSP_RULE_LEARNING_RATE, s->bias_lr), BTSP_OK);
                assert_int_equal(btsp_pop_set_bias_rule(b->p[i], b->rb[i]), BTSP_OK);
            }
        }
    }
    for (size_t j = 0; j < s->nq; j++) {
        const proj_spec *qs = &s->q[j];
        assert_int_equal(btsp_proj_add(b->p[qs->pre], b->p[qs->post], qs->comp, &b->q[j]), BTSP_OK);
        assert_int_equal(btsp_proj_set_direction(b->q[j], qs->dir), BTSP_OK);
        assert_int_equal(btsp_proj_set_phase(b->q[j], qs->phase), BTSP_OK);
        assert_int_equal(btsp_proj_set_init(b->q[j], BTSP_INIT_UNIFORM, qs->ia, qs->ib), BTSP_OK);
        if (qs->lo != 0.0 || qs->hi != 0.0)
            assert_int_equal(btsp_proj_set_bounds(b->q[j], qs->lo, qs->hi), BTSP_OK);
        if (qs->rule) {
            btsp_rule_kind k = qs->rule == R_BP ? BTSP_RULE_BACKPROP : BTSP_RULE_BACKPROP_DENDRITIC_LOSS;
            assert_int_equal(btsp_rule_create(net, k, &b->r[j]), BTSP_OK);
            assert_int_equal(btsp_rule_set(b->r[j], BTSP_RULE_LEARNING_RATE, qs->lr), BTSP_OK);
            if (qs->rule == R_BPDL)
                assert_int_equal(btsp_rule_set_source(b->r[j], b->p[s->source]), BTSP_OK);
            assert_int_equal(btsp_proj_set_rule(b->q[j], b->r[j]), BTSP_OK);
        }
    }
    if (finalize)
        assert_int_equal(btsp_net_finalize(net), BTSP_OK);
}

/* ------------------------------------------------------------------------------------------ */
/* Double-precision reference of the forward phase with separate pre-window / window parameters */

typedef struct ref {
    const spec *s;
    double *W0[MAXQ], *W1[MAXQ]; /* before the window / inside it */
    double *b0[MAXP], *b1[MAXP];
    /* input gradients: the window reads x1 (when set) instead of the sample, and the objective
     * is cot . a_cot_pop(T) (when cot is set) instead of a loss */
    double *x1;
    const double *cot;
    int cot_pop;
} ref;

static double *dup_f(const float *x, size_t n)
{
    double *d = malloc(n * sizeof *d);
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        d[i] = x[i];
    return d;
}

static void ref_init(ref *r, const spec *s, const built *b)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    for (size_t j = 0; j < s->nq; j++) {
        const float *w;
        size_t rows, cols;
        assert_int_equal(btsp_proj_weights(b->q[j], &w, &rows, &cols), BTSP_OK);
        r->W0[j] = dup_f(w, rows * cols);
        r->W1[j] = dup_f(w, rows * cols);
    }
    for (size_t i = 1; i < s->np; i++) {
        if (!s->p[i].bias)
            continue;
        const float *bb;
        size_t n;
        assert_int_equal(btsp_pop_state(b->p[i], BTSP_VAR_BIAS, &bb, &n), BTSP_OK);
        r->b0[i] = dup_f(bb, n);
        r->b1[i] = dup_f(bb, n);
    }
}

static void ref_free(ref *r)
{
    for (size_t j = 0; j < MAXQ; j++) {
        free(r->W0[j]);
        free(r->W1[j]);
    }
    for (size_t i = 0; i < MAXP; i++) {
        free(r->b0[i]);
        free(r->b1[i]);
    }
}

static void act(const pop_spec *p, const double *u, double *a)
{
    size_t n = p->n;
    double mx = -INFINITY, sum = 0.0;
    switch (p->act) {
    case BTSP_ACT_LINEAR:
        for (size_t i = 0; i < n; i++)
            a[i] = u[i];
        break;
    case BTSP_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            a[i] = u[i] > 0 ? u[i] : 0;
        break;
    case BTSP_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            a[i] = 1 / (1 + exp(-u[i]));
        break;
    case BTSP_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++)
            a[i] = log1p(exp(u[i]));
        break;
    case BTSP_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            a[i] = tanh(u[i]);
        break;
    case BTSP_ACT_CLAMP:
        for (size_t i = 0; i < n; i++)
            a[i] = fmin(fmax(u[i], p->p0), p->p1);
        break;
    case BTSP_ACT_POLY:
        for (size_t i = 0; i < n; i++)
            a[i] = p->p0 * pow(fmax(u[i], 0.0), p->p1);
        break;
    case BTSP_ACT_SOFTMAX:
        for (size_t i = 0; i < n; i++)
            mx = fmax(mx, u[i]);
        for (size_t i = 0; i < n; i++)
            sum += exp(u[i] - mx);
        for (size_t i = 0; i < n; i++)
            a[i] = exp(u[i] - mx) / sum;
        break;
    }
}

#define MAXN 16

/* Forward phase in double. Returns the output activities in out (if non-NULL), the loss
 * mean((a_out - y)^2) or, with source >= 0, mean(d_source^2). */
static double ref_forward(const ref *r, const float *x, const float *y, int source, double *out)
{
    const spec *s = r->s;
    static double u[MAXP][MAXN], a[MAXP][MAXN], pv[MAXP][MAXN];
    size_t T = s->T, K = s->K < T ? s->K : T, t0 = T - K;
    for (size_t i = 0; i < s->p[0].n; i++)
        a[0][i] = pv[0][i] = x[i];
    for (size_t p = 1; p < s->np; p++) {
        const double *bb = t0 == 0 ? r->b1[p] : r->b0[p];
        for (size_t i = 0; i < s->p[p].n; i++)
            u[p][i] = bb ? bb[i] : 0.0;
        act(&s->p[p], u[p], a[p]);
    }
    for (size_t t = 1; t <= T; t++) {
        int win = t > t0;
        for (size_t p = 1; p < s->np; p++)
            memcpy(pv[p], a[p], sizeof a[p]);
        for (size_t p = 1; p < s->np; p++) {
            size_t n = s->p[p].n;
            double I[MAXN];
            const double *bb = win ? r->b1[p] : r->b0[p];
            for (size_t i = 0; i < n; i++)
                I[i] = bb ? bb[i] : 0.0;
            for (size_t j = 0; j < s->nq; j++) {
                const proj_spec *q = &s->q[j];
                if (q->post != (int)p || q->comp != BTSP_SOMA || q->phase == BTSP_PHASE_BACKWARD)
                    continue;
                const double *src = q->pre == 0 ? (win && r->x1 ? r->x1 : a[0])
                                    : (q->dir == BTSP_DIR_FORWARD && q->pre < (int)p) ? a[q->pre]
                                                                                        : pv[q->pre];
                const double *W = win ? r->W1[j] : r->W0[j];
                size_t m = s->p[q->pre].n;
                for (size_t i = 0; i < n; i++)
                    for (size_t k = 0; k < m; k++)
                        I[i] += W[i * m + k] * src[k];
            }
            double tau = s->p[p].tau > 0 ? s->p[p].tau : s->tau;
            for (size_t i = 0; i < n; i++)
                u[p][i] = u[p][i] + (I[i] - u[p][i]) / tau;
            act(&s->p[p], u[p], a[p]);
        }
    }
    /* the output population is the first of the last layer */
    size_t o = s->np - 1;
    while (o > 1 && strcmp(s->p[o - 1].layer, s->p[s->np - 1].layer) == 0)
        o--;
    if (out)
        memcpy(out, a[o], s->p[o].n * sizeof *out);
    double L = 0.0;
    if (r->cot) {
        for (size_t i = 0; i < s->p[r->cot_pop].n; i++)
            L += r->cot[i] * a[r->cot_pop][i];
        return L;
    }
    if (source < 0) {
        for (size_t i = 0; i < s->p[o].n; i++)
            L += (a[o][i] - y[i]) * (a[o][i] - y[i]);
        return L / (double)s->p[o].n;
    }
    size_t n = s->p[source].n;
    double d[MAXN] = {0};
    for (size_t j = 0; j < s->nq; j++) {
        const proj_spec *q = &s->q[j];
        if (q->post != source || q->comp != BTSP_DEND)
            continue;
        const double *src = q->dir == BTSP_DIR_FORWARD ? a[q->pre] : pv[q->pre];
        size_t m = s->p[q->pre].n;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < m; k++)
                d[i] += r->W1[j][i * m + k] * src[k];
    }
    for (size_t i = 0; i < n; i++)
        L += d[i] * d[i];
    return L / (double)n;
}

/* Central difference of the loss with respect to every element of v (a window parameter). */
static void fd(ref *r, double *v, size_t n, const float *x, const float *y, int source, double *g)
{
    for (size_t k = 0; k < n; k++) {
        double keep = v[k], h = 1e-6 * fmax(1.0, fabs(keep));
        v[k] = keep + h;
        double lp = ref_forward(r, x, y, source, NULL);
        v[k] = keep - h;
        double lm = ref_forward(r, x, y, source, NULL);
        v[k] = keep;
        g[k] = (lp - lm) / (2 * h);
    }
}

static double worst_rel; /* over every gradient check in this file */

static double rel_err(const float *lib, const double *ref_g, size_t n)
{
    double mag = 0.0, diff = 0.0;
    for (size_t k = 0; k < n; k++) {
        mag = fmax(mag, fabs(ref_g[k]));
        diff = fmax(diff, fabs((double)lib[k] - ref_g[k]));
    }
    return mag > 0 ? diff / mag : diff;
}

/* max |after - (before - lr g)| / (lr max |g|), with 2 float ulps of the parameter forgiven:
 * <= 1e-3 means the step is right to 1e-3 of its size or to float resolution. */
static double step_err(const float *after, const double *before, const double *g, double lr, size_t n)
{
    double mag = 0.0, pmax = 0.0, diff = 0.0;
    for (size_t k = 0; k < n; k++) {
        mag = fmax(mag, fabs(g[k]));
        pmax = fmax(pmax, fabs(before[k]));
        diff = fmax(diff, fabs((double)after[k] - (before[k] - lr * g[k])));
    }
    diff = fmax(0.0, diff - 2.0 * ldexp(pmax, -23));
    return mag > 0 ? diff / (lr * mag) : diff;
}

static void fill(float *x, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(0.5 + 0.5 * sin(1.7 * (double)(i + 1) * (salt + 1) + 0.3 * salt));
}

/* Check every projection's gradient from btsp_net_loss_gradient and, by one training step with
 * known learning rates, every Backprop weight and BackpropBias bias gradient. */
static void check_spec(const spec *s, const char *label)
{
    built b;
    build(s, &b, 1);
    size_t nx = s->p[0].n, ny = btsp_pop_size(btsp_net_output(b.net));
    float x[MAXN], y[MAXN] = {0};
    fill(x, nx, 3);
    y[1 % ny] = 1.0f;
    ref r;
    ref_init(&r, s, &b);

    /* the reference forward agrees with the library's */
    double out[MAXN];
    ref_forward(&r, x, y, -1, out);
    assert_int_equal(btsp_net_forward(b.net, x, nx), BTSP_OK);
    const float *a;
    size_t n;
    assert_int_equal(btsp_pop_state(btsp_net_output(b.net), BTSP_VAR_ACTIVITY, &a, &n), BTSP_OK);
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(a[i] - out[i]) <= 1e-5 * (1.0 + fabs(out[i])));

    double worst = 0.0;
    float gl[MAXN * MAXN];
    double gr[MAXN * MAXN];
    for (size_t j = 0; j < s->nq; j++) {
        size_t rows = s->p[s->q[j].post].n, cols = s->p[s->q[j].pre].n;
        assert_int_equal(btsp_net_loss_gradient(b.net, x, nx, y, ny, s->K, b.q[j], gl, rows, cols), BTSP_OK);
        fd(&r, r.W1[j], rows * cols, x, y, -1, gr);
        double e = rel_err(gl, gr, rows * cols);
        worst = fmax(worst, e);
        if (!(e <= 1e-3))
            fail_msg("%s: gradient of projection %zu: relative error %.3g", label, j, e);
    }

    /* training step: W1 = W0 - lr * g for Backprop weights (no bounds here), b likewise; the
     * result is a float, so the check allows 2 ulps of the parameter besides 1e-3 of the step */
    double loss_ref = ref_forward(&r, x, y, -1, NULL);
    assert_int_equal(btsp_net_train_sample(b.net, x, nx, y, ny), BTSP_OK);
    assert_true(fabs(btsp_net_last_loss(b.net) - loss_ref) <= 1e-5 * (1.0 + loss_ref));
    for (size_t j = 0; j < s->nq; j++) {
        if (s->q[j].rule != R_BP)
            continue;
        const float *w;
        size_t rows, cols;
        btsp_proj_weights(b.q[j], &w, &rows, &cols);
        fd(&r, r.W1[j], rows * cols, x, y, -1, gr);
        double e = step_err(w, r.W0[j], gr, s->q[j].lr, rows * cols);
        if (!(e <= 1e-3))
            fail_msg("%s: training step of projection %zu: error %.3g of the step", label, j, e);
    }
    for (size_t i = 1; i < s->np; i++) {
        if (s->p[i].bias != 2)
            continue;
        const float *bb;
        assert_int_equal(btsp_pop_state(b.p[i], BTSP_VAR_BIAS, &bb, &n), BTSP_OK);
        fd(&r, r.b1[i], n, x, y, -1, gr);
        double e = step_err(bb, r.b0[i], gr, s->bias_lr, n);
        if (!(e <= 1e-3))
            fail_msg("%s: training step of the bias of population %zu: error %.3g of the step", label, i, e);
    }
    print_message("%s: worst relative error %.2e\n", label, worst);
    worst_rel = fmax(worst_rel, worst);
    ref_free(&r);
    btsp_net_destroy(b.net);
}

/* ------------------------------------------------------------------------------------------ */
/* The E/I test network: Input -> H.E (relu, learned bias) <-> H.I (linear) within a layer,
 * recurrent self-excitation, Out.E (act_out, learned bias) fed forward, Out.E -> H.E as a
 * forward projection from a later population (reads the previous step), Out.I recurrent. */

static spec ei_spec(unsigned T, unsigned K, btsp_activation act_h, btsp_activation act_out)
{
    spec s;
    memset(&s, 0, sizeof s);
    s.tau = 3.0;
    s.T = T;
    s.K = K;
    s.source = -1;
    s.bias_lr = 0.5;
    pop_spec p[] = {
        {"In", "E", 4, BTSP_ACT_LINEAR, 0, 0, 0, 0},
        {"H", "E", 5, act_h, 0, 1, 2, 0},
        {"H", "I", 3, BTSP_ACT_LINEAR, 0, 0, 1, 2.0},
        {"Out", "E", 3, act_out, 0, 1, 2, 0},
        {"Out", "I", 2, BTSP_ACT_RELU, 0, 0, 0, 0},
    };
    s.np = sizeof p / sizeof p[0];
    memcpy(s.p, p, sizeof p);
    proj_spec q[] = {
        /* pre post dir comp phase rule lo hi lr ia ib */
        {0, 1, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BP, 0, 0, 0.3, 0.0, 0.6},
        {2, 1, BTSP_DIR_RECURRENT, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BP, 0, 0, 0.2, -0.4, 0.0},
        {1, 1, BTSP_DIR_RECURRENT, BTSP_SOMA, BTSP_PHASE_ALL, R_BP, 0, 0, 0.25, -0.2, 0.3},
        {3, 1, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BP, 0, 0, 0.15, 0.0, 0.4},
        {1, 2, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BP, 0, 0, 0.1, 0.0, 0.5},
        {0, 2, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_NONE, 0, 0, 0, 0.0, 0.3},
        {1, 3, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BP, 0, 0, 0.4, -0.3, 0.7},
        {4, 3, BTSP_DIR_RECURRENT, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BP, 0, 0, 0.2, -0.5, 0.0},
        {3, 4, BTSP_DIR_RECURRENT, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BP, 0, 0, 0.2, 0.0, 0.6},
        {1, 4, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_NONE, 0, 0, 0, 0.0, 0.3},
        /* not in the forward pass: a backward-phase-only somatic projection */
        {4, 1, BTSP_DIR_RECURRENT, BTSP_SOMA, BTSP_PHASE_BACKWARD, R_NONE, 0, 0, 0, 0.0, 0.5},
    };
    s.nq = sizeof q / sizeof q[0];
    memcpy(s.q, q, sizeof q);
    return s;
}

static void ei_relu_window_shorter(void **state)
{
    (void)state;
    spec s = ei_spec(6, 3, BTSP_ACT_RELU, BTSP_ACT_LINEAR);
    check_spec(&s, "E/I relu, T 6, window 3");
    /* the self-excitation H.E -> H.E as a forward projection: a population is never earlier in
     * the sweep than itself, so it still reads a(t-1) (btsp.h, btsp_direction), as the
     * reference does; reading a(t) in the reverse sweep changes every gradient through it */
    s.q[2].dir = BTSP_DIR_FORWARD;
    check_spec(&s, "E/I relu, T 6, window 3, forward self-projection");
}

static void ei_relu_window_one(void **state)
{
    (void)state;
    spec s = ei_spec(5, 1, BTSP_ACT_RELU, BTSP_ACT_RELU);
    check_spec(&s, "E/I relu, T 5, window 1");
}

static void ei_relu_window_full(void **state)
{
    (void)state;
    /* K = T: the reset state u(0) = b is inside the window (bias gradient through it) */
    spec s = ei_spec(4, 4, BTSP_ACT_RELU, BTSP_ACT_LINEAR);
    check_spec(&s, "E/I relu, T 4, window 4");
    s.K = 9; /* longer than T: capped */
    check_spec(&s, "E/I relu, T 4, window 9");
}

static void ei_linear(void **state)
{
    (void)state;
    spec s = ei_spec(7, 5, BTSP_ACT_LINEAR, BTSP_ACT_LINEAR);
    check_spec(&s, "E/I linear, T 7, window 5");
}

static void activations(void **state)
{
    (void)state;
    static const struct {
        btsp_activation act;
        double p0, p1;
        const char *name;
    } acts[] = {
        {BTSP_ACT_SIGMOID, 0, 0, "sigmoid"}, {BTSP_ACT_SOFTPLUS, 0, 0, "softplus"},
        {BTSP_ACT_TANH, 0, 0, "tanh"},       {BTSP_ACT_CLAMP, -0.2, 0.6, "clamp"},
        {BTSP_ACT_POLY, 1.5, 2.0, "poly2"},  {BTSP_ACT_POLY, 0.7, 3.0, "poly3"},
        {BTSP_ACT_SOFTMAX, 0, 0, "softmax"},
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        spec s = ei_spec(4, 3, acts[i].act, acts[i].act);
        s.p[1].p0 = s.p[3].p0 = acts[i].p0;
        s.p[1].p1 = s.p[3].p1 = acts[i].p1;
        char label[64];
        snprintf(label, sizeof label, "E/I %s, T 4, window 3", acts[i].name);
        check_spec(&s, label);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Backprop_DendriticLoss: L = mean(d_E^2), d_E = W_top * a_top(T) + W_DI * a_DI(T-1), learned
 * on DI's inputs (recurrent) through the window, and on the two dendritic projections
 * themselves: there dL/dW = (2/n) d_E (outer) a_pre, with a_pre = a_DI(T-1) for the recurrent
 * DI -> E dendrite and a_top(T) for the forward Out -> E one (the reference's fd with source 1
 * takes the same pre activities). That direct term needs no window: it is there for K = 1 too. */

static void dendritic_loss(void **state)
{
    (void)state;
    spec s;
    memset(&s, 0, sizeof s);
    s.tau = 3.0;
    s.T = 6;
    s.K = 3;
    s.source = 1;
    pop_spec p[] = {
        {"In", "E", 4, BTSP_ACT_LINEAR, 0, 0, 0, 0},
        {"H", "E", 4, BTSP_ACT_RELU, 0, 0, 0, 0},
        {"H", "DI", 3, BTSP_ACT_RELU, 0, 0, 0, 0},
        {"Out", "E", 3, BTSP_ACT_RELU, 0, 0, 0, 0},
    };
    s.np = 4;
    memcpy(s.p, p, sizeof p);
    proj_spec q[] = {
        {0, 1, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_NONE, 0, 0, 0, 0.0, 0.6},
        {1, 2, BTSP_DIR_RECURRENT, BTSP_SOMA, BTSP_PHASE_ALL, R_BPDL, 0, 0, 0.3, 0.0, 0.5},
        {2, 2, BTSP_DIR_RECURRENT, BTSP_SOMA, BTSP_PHASE_FORWARD, R_BPDL, 0, 0, 0.2, -0.3, 0.0},
        {1, 3, BTSP_DIR_FORWARD, BTSP_SOMA, BTSP_PHASE_FORWARD, R_NONE, 0, 0, 0, 0.0, 0.6},
        {2, 1, BTSP_DIR_RECURRENT, BTSP_DEND, BTSP_PHASE_BACKWARD, R_BPDL, 0, 0, 0.15, -0.8, 0.0},
        {3, 1, BTSP_DIR_FORWARD, BTSP_DEND, BTSP_PHASE_BACKWARD, R_BPDL, 0, 0, 0.1, 0.0, 0.5},
    };
    s.nq = 6;
    memcpy(s.q, q, sizeof q);
    for (unsigned K = 1; K <= 6; K += 5) {
        s.K = K;
        built b;
        build(&s, &b, 1);
        ref r;
        ref_init(&r, &s, &b);
        float x[4], y[3] = {0, 1, 0};
        fill(x, 4, 7);
        /* the main-loss gradient of a dendritic projection is zero */
        float g[16];
        assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, K, b.q[4], g, 4, 3), BTSP_OK);
        for (size_t k = 0; k < 12; k++)
            assert_true(g[k] == 0.0f);
        assert_int_equal(btsp_net_train_sample(b.net, x, 4, y, 3), BTSP_OK);
        double worst = 0.0;
        static const size_t learned[] = {1, 2, 4, 5};
        for (size_t jj = 0; jj < sizeof learned / sizeof learned[0]; jj++) {
            const size_t j = learned[jj];
            const int dend = s.q[j].comp == BTSP_DEND;
            const float *w;
            size_t rows, cols;
            btsp_proj_weights(b.q[j], &w, &rows, &cols);
            double gr[16];
            float gl[16];
            fd(&r, r.W1[j], rows * cols, x, y, 1, gr);
            for (size_t k = 0; k < rows * cols; k++)
                gl[k] = (float)((r.W0[j][k] - (double)w[k]) / s.q[j].lr);
            double e = step_err(w, r.W0[j], gr, s.q[j].lr, rows * cols); /* checked */
            double er = rel_err(gl, gr, rows * cols); /* reported: includes float resolution */
            double mag = 0.0;
            for (size_t k = 0; k < rows * cols; k++)
                mag = fmax(mag, fabs(gr[k]));
            if (K == 1 && !dend) {
                /* window of one step: a_DI(T-1) is outside it, so there is no gradient */
                assert_true(mag == 0.0);
                for (size_t k = 0; k < rows * cols; k++)
                    assert_true(gl[k] == 0.0f);
                continue;
            }
            assert_true(mag > 1e-4);
            worst = fmax(worst, er);
            if (!(e <= 1e-3))
                fail_msg("dendritic loss, window %u: projection %zu relative error %.3g", K, j, e);
        }
        print_message("Backprop_DendriticLoss, T 6, window %u: worst relative error %.2e\n", K, worst);
        worst_rel = fmax(worst_rel, worst);
        ref_free(&r);
        btsp_net_destroy(b.net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* SGD by hand, Dale projection, van_bp closed form */

static btsp_net *linear_net(size_t nin, size_t nout, btsp_activation out_act, btsp_proj **w, btsp_rule **rule,
                            double lr)
{
    btsp_net *net;
    btsp_layer *l0, *l1;
    btsp_pop *in, *out;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    assert_int_equal(btsp_layer_add(net, "Input", &l0), BTSP_OK);
    assert_int_equal(btsp_layer_add(net, "Output", &l1), BTSP_OK);
    assert_int_equal(btsp_pop_add(l0, "E", nin, &in), BTSP_OK);
    assert_int_equal(btsp_pop_add(l1, "E", nout, &out), BTSP_OK);
    assert_int_equal(btsp_pop_set_activation(out, out_act, 0, 0), BTSP_OK);
    assert_int_equal(btsp_proj_add(in, out, BTSP_SOMA, w), BTSP_OK);
    assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP, rule), BTSP_OK);
    assert_int_equal(btsp_rule_set(*rule, BTSP_RULE_LEARNING_RATE, lr), BTSP_OK);
    assert_int_equal(btsp_proj_set_rule(*w, *rule), BTSP_OK);
    return net;
}

static void sgd_by_hand(void **state)
{
    (void)state;
    btsp_proj *w;
    btsp_rule *rule;
    btsp_net *net = linear_net(3, 2, BTSP_ACT_LINEAR, &w, &rule, 0.1);
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    const float W[6] = {0.5f, -0.25f, 1.0f, 0.0f, 0.75f, -0.5f};
    const float x[3] = {1.0f, 2.0f, -1.0f}, y[2] = {1.0f, 0.0f};
    assert_int_equal(btsp_proj_set_weights(w, W, 2, 3), BTSP_OK);
    /* out = W x = (0.5 - 0.5 - 1, 0 + 1.5 + 0.5) = (-1, 2); L = ((-2)^2 + 2^2) / 2 = 4;
     * dL/dout = 2 (out - y) / 2 = (-2, 2); dL/dW = dL/dout x^T; W' = W - 0.1 dL/dW */
    const float expect[6] = {0.5f + 0.2f, -0.25f + 0.4f, 1.0f - 0.2f, 0.0f - 0.2f, 0.75f - 0.4f, -0.5f + 0.2f};
    assert_int_equal(btsp_net_train_sample(net, x, 3, y, 2), BTSP_OK);
    assert_true(fabs(btsp_net_last_loss(net) - 4.0) < 1e-6);
    const float *got;
    size_t r, c;
    btsp_proj_weights(w, &got, &r, &c);
    for (size_t k = 0; k < 6; k++)
        assert_true(fabs(got[k] - expect[k]) < 1e-6);
    /* a frozen rule does not learn */
    assert_int_equal(btsp_rule_enable(rule, 0), BTSP_OK);
    float before[6];
    memcpy(before, got, sizeof before);
    assert_int_equal(btsp_net_train_sample(net, x, 3, y, 2), BTSP_OK);
    assert_memory_equal(before, got, sizeof before);
    btsp_net_destroy(net);
}

static void dale_after_step(void **state)
{
    (void)state;
    btsp_proj *w;
    btsp_rule *rule;
    btsp_net *net = linear_net(2, 2, BTSP_ACT_LINEAR, &w, &rule, 1.0);
    assert_int_equal(btsp_proj_set_bounds(w, 0.0, 0.9), BTSP_OK);
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    const float W[4] = {0.1f, 0.5f, 0.3f, 0.8f};
    assert_int_equal(btsp_proj_set_weights(w, W, 2, 2), BTSP_OK);
    const float x[2] = {1.0f, 0.5f}, y[2] = {0.0f, 1.0f};
    /* out = (0.35, 0.7); dL/dout = (out - y) = (0.35, -0.3); dL/dW = dL/dout x^T
     * W - dL/dW = (0.1 - 0.35, 0.5 - 0.175; 0.3 + 0.3, 0.8 + 0.15) = (-0.25, 0.325; 0.6, 0.95)
     * projected onto [0, 0.9]: (0, 0.325; 0.6, 0.9) */
    assert_int_equal(btsp_net_train_sample(net, x, 2, y, 2), BTSP_OK);
    const float *got;
    size_t r, c;
    btsp_proj_weights(w, &got, &r, &c);
    const float expect[4] = {0.0f, 0.325f, 0.6f, 0.9f};
    for (size_t k = 0; k < 4; k++)
        assert_true(fabs(got[k] - expect[k]) < 1e-6);
    btsp_net_destroy(net);
}

/* Plain feed-forward ANN (tau 1, one step): Input -> H (relu, bias) -> Out (linear or softmax).
 * The gradient equals the closed form of a 2-layer MLP. */
static void van_bp_closed_form(void **state)
{
    (void)state;
    for (int soft = 0; soft <= 1; soft++) {
        enum { NI = 6, NH = 5, NO = 4 };
        btsp_net *net;
        btsp_layer *l0, *l1, *l2;
        btsp_pop *in, *h, *o;
        btsp_proj *w1, *w2;
        btsp_rule *r1, *r2, *rb;
        assert_int_equal(btsp_net_create(&net), BTSP_OK);
        btsp_net_seed(net, 77);
        assert_int_equal(btsp_layer_add(net, "Input", &l0), BTSP_OK);
        assert_int_equal(btsp_layer_add(net, "H1", &l1), BTSP_OK);
        assert_int_equal(btsp_layer_add(net, "Output", &l2), BTSP_OK);
        assert_int_equal(btsp_pop_add(l0, "E", NI, &in), BTSP_OK);
        assert_int_equal(btsp_pop_add(l1, "E", NH, &h), BTSP_OK);
        assert_int_equal(btsp_pop_add(l2, "E", NO, &o), BTSP_OK);
        assert_int_equal(btsp_pop_set_activation(h, BTSP_ACT_RELU, 0, 0), BTSP_OK);
        assert_int_equal(btsp_pop_set_activation(o, soft ? BTSP_ACT_SOFTMAX : BTSP_ACT_LINEAR, 0, 0), BTSP_OK);
        assert_int_equal(btsp_pop_set_bias_init(h, BTSP_INIT_UNIFORM, -0.2, 0.2), BTSP_OK);
        assert_int_equal(btsp_proj_add(in, h, BTSP_SOMA, &w1), BTSP_OK);
        assert_int_equal(btsp_proj_add(h, o, BTSP_SOMA, &w2), BTSP_OK);
        assert_int_equal(btsp_proj_set_init(w1, BTSP_INIT_SCALED_KAIMING, 2.0, 0), BTSP_OK);
        assert_int_equal(btsp_proj_set_init(w2, BTSP_INIT_SCALED_KAIMING, 1.5, 0), BTSP_OK);
        assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP, &r1), BTSP_OK);
        assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP, &r2), BTSP_OK);
        assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP_BIAS, &rb), BTSP_OK);
        assert_int_equal(btsp_rule_set(r1, BTSP_RULE_LEARNING_RATE, 0.05), BTSP_OK);
        assert_int_equal(btsp_rule_set(r2, BTSP_RULE_LEARNING_RATE, 0.02), BTSP_OK);
        assert_int_equal(btsp_rule_set(rb, BTSP_RULE_LEARNING_RATE, 0.03), BTSP_OK);
        assert_int_equal(btsp_proj_set_rule(w1, r1), BTSP_OK);
        assert_int_equal(btsp_proj_set_rule(w2, r2), BTSP_OK);
        assert_int_equal(btsp_pop_set_bias_rule(h, rb), BTSP_OK);
        assert_int_equal(btsp_net_finalize(net), BTSP_OK);

        const float *W1, *W2, *B;
        size_t r, c, n;
        btsp_proj_weights(w1, &W1, &r, &c);
        btsp_proj_weights(w2, &W2, &r, &c);
        btsp_pop_state(h, BTSP_VAR_BIAS, &B, &n);
        float x[NI], y[NO] = {0, 0, 1, 0};
        fill(x, NI, 11);
        /* closed form in double */
        double z[NH], hh[NH], yo[NO], uo[NO], go[NO], gh[NH], G1[NH * NI], G2[NO * NH], Gb[NH];
        for (int i = 0; i < NH; i++) {
            z[i] = B[i];
            for (int k = 0; k < NI; k++)
                z[i] += (double)W1[i * NI + k] * x[k];
            hh[i] = z[i] > 0 ? z[i] : 0;
        }
        double mx = -INFINITY, sum = 0.0;
        for (int i = 0; i < NO; i++) {
            uo[i] = 0;
            for (int k = 0; k < NH; k++)
                uo[i] += (double)W2[i * NH + k] * hh[k];
            mx = fmax(mx, uo[i]);
        }
        for (int i = 0; i < NO; i++)
            sum += exp(uo[i] - mx);
        for (int i = 0; i < NO; i++)
            yo[i] = soft ? exp(uo[i] - mx) / sum : uo[i];
        double dot = 0.0;
        for (int i = 0; i < NO; i++) {
            go[i] = 2.0 * (yo[i] - y[i]) / NO; /* dL/dy */
            dot += go[i] * yo[i];
        }
        if (soft)
            for (int i = 0; i < NO; i++)
                go[i] = yo[i] * (go[i] - dot); /* through softmax */
        for (int i = 0; i < NO; i++)
            for (int k = 0; k < NH; k++)
                G2[i * NH + k] = go[i] * hh[k];
        for (int k = 0; k < NH; k++) {
            double s = 0;
            for (int i = 0; i < NO; i++)
                s += (double)W2[i * NH + k] * go[i];
            gh[k] = z[k] > 0 ? s : 0;
            Gb[k] = gh[k];
            for (int j = 0; j < NI; j++)
                G1[k * NI + j] = gh[k] * x[j];
        }
        float g1[NH * NI], g2[NO * NH];
        assert_int_equal(btsp_net_loss_gradient(net, x, NI, y, NO, 1, w1, g1, NH, NI), BTSP_OK);
        assert_int_equal(btsp_net_loss_gradient(net, x, NI, y, NO, 1, w2, g2, NO, NH), BTSP_OK);
        double e1 = rel_err(g1, G1, NH * NI), e2 = rel_err(g2, G2, NO * NH);
        assert_true(e1 < 1e-5);
        assert_true(e2 < 1e-5);
        /* and one training step applies exactly these, each with its own learning rate */
        float W1c[NH * NI], W2c[NO * NH], Bc[NH];
        memcpy(W1c, W1, sizeof W1c);
        memcpy(W2c, W2, sizeof W2c);
        memcpy(Bc, B, sizeof Bc);
        assert_int_equal(btsp_net_train_sample(net, x, NI, y, NO), BTSP_OK);
        for (int k = 0; k < NH * NI; k++)
            assert_true(fabs(W1[k] - (W1c[k] - 0.05 * G1[k])) < 1e-6);
        for (int k = 0; k < NO * NH; k++)
            assert_true(fabs(W2[k] - (W2c[k] - 0.02 * G2[k])) < 1e-6);
        for (int k = 0; k < NH; k++)
            assert_true(fabs(B[k] - (Bc[k] - 0.03 * Gb[k])) < 1e-6);
        print_message("van_bp %s output: relative error vs closed form %.2e, %.2e\n", soft ? "softmax" : "linear", e1,
                      e2);
        btsp_net_destroy(net);
    }
}

/* The clamp activation at its kinks, which finite differences cannot see: like torch.clamp's
 * backward, the gradient passes where lo <= u <= hi, bounds included. Input(1) -> Out(1, clamp
 * [0, 1], tau 1, one step, no bias), x = 1: u = W, a = clamp(W), L = (a - y)^2, so
 * dL/dW = 2 (a - y) * [0 <= W <= 1] * x. One training step with lr 0.1 applies the same. */
static void clamp_bounds_inclusive(void **state)
{
    (void)state;
    static const struct {
        float W, y, g; /* weight = u, target, dL/dW by hand */
        const char *what;
    } cases[] = {
        {0.0f, 1.0f, -2.0f, "u = lo"},   /* a = 0: 2 (0 - 1) */
        {1.0f, 0.0f, 2.0f, "u = hi"},    /* a = 1: 2 (1 - 0) */
        {-0.5f, 1.0f, 0.0f, "u < lo"},   /* clamped: no gradient */
        {1.5f, 0.0f, 0.0f, "u > hi"},    /* clamped: no gradient */
        {0.25f, 1.0f, -1.5f, "inside"},  /* a = 0.25: 2 (0.25 - 1) */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        btsp_proj *w;
        btsp_rule *rule;
        btsp_net *net = linear_net(1, 1, BTSP_ACT_LINEAR, &w, &rule, 0.1);
        assert_int_equal(btsp_pop_set_activation(btsp_net_output(net), BTSP_ACT_CLAMP, 0.0, 1.0), BTSP_OK);
        assert_int_equal(btsp_net_finalize(net), BTSP_OK); /* defaults: tau 1, T 1, window 1, no bias */
        assert_int_equal(btsp_proj_set_weights(w, &cases[c].W, 1, 1), BTSP_OK);
        const float x = 1.0f;
        float g = NAN;
        assert_int_equal(btsp_net_loss_gradient(net, &x, 1, &cases[c].y, 1, 1, w, &g, 1, 1), BTSP_OK);
        if (!(g == cases[c].g))
            fail_msg("clamp [0, 1], %s: dL/dW = %g, expected %g", cases[c].what, (double)g, (double)cases[c].g);
        assert_int_equal(btsp_net_train_sample(net, &x, 1, &cases[c].y, 1), BTSP_OK);
        const float *got;
        size_t r, cc;
        btsp_proj_weights(w, &got, &r, &cc);
        assert_true(fabs(got[0] - (cases[c].W - 0.1 * cases[c].g)) < 1e-6);
        btsp_net_destroy(net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* API contract */

/* What the gradient functions promise to leave alone on the E/I test network: the first
 * projection's weights (5 x 4), the last loss, the sample count and the forward snapshot of H.E. */
typedef struct state_probe {
    float w[20], fwd[5];
    double loss;
    uint64_t count;
} state_probe;

static void probe_take(const built *b, state_probe *p)
{
    assert_int_equal(btsp_proj_copy_weights(b->q[0], p->w, 5, 4), BTSP_OK);
    assert_int_equal(btsp_pop_copy_state(b->p[1], BTSP_VAR_FORWARD_ACTIVITY, p->fwd, 5), BTSP_OK);
    p->loss = btsp_net_last_loss(b->net);
    p->count = btsp_net_sample_count(b->net);
}

static void probe_expect_same(const built *b, const state_probe *before)
{
    state_probe now;
    probe_take(b, &now);
    assert_memory_equal(before->w, now.w, sizeof now.w);
    assert_true(now.loss == before->loss);
    assert_true(now.count == before->count);
    assert_memory_equal(before->fwd, now.fwd, sizeof now.fwd);
}

static void gradient_api(void **state)
{
    (void)state;
    spec s = ei_spec(5, 2, BTSP_ACT_RELU, BTSP_ACT_LINEAR);
    built b;
    build(&s, &b, 0);
    float x[4], y[3] = {1, 0, 0}, g[64];
    fill(x, 4, 1);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 2, b.q[0], g, 5, 4), BTSP_E_STATE);
    assert_int_equal(btsp_net_finalize(b.net), BTSP_OK);
    assert_int_equal(btsp_net_loss_gradient(NULL, x, 4, y, 3, 2, b.q[0], g, 5, 4), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_loss_gradient(b.net, NULL, 4, y, 3, 2, b.q[0], g, 5, 4), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, NULL, 3, 2, b.q[0], g, 5, 4), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 2, NULL, g, 5, 4), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 2, b.q[0], NULL, 5, 4), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 3, y, 3, 2, b.q[0], g, 5, 4), BTSP_E_SHAPE);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 2, 2, b.q[0], g, 5, 4), BTSP_E_SHAPE);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 2, b.q[0], g, 4, 5), BTSP_E_SHAPE);
    built other;
    build(&s, &other, 1);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 2, other.q[0], g, 5, 4), BTSP_E_INVALID_ARG);
    btsp_net_destroy(other.net);

    /* nothing but activities changes */
    assert_int_equal(btsp_net_train_sample(b.net, x, 4, y, 3), BTSP_OK);
    state_probe before;
    probe_take(&b, &before);
    fill(x, 4, 2);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 2, b.q[0], g, 5, 4), BTSP_OK);
    probe_expect_same(&b, &before);
    /* the output holds a_out(T) as after btsp_net_forward */
    float o1[3], o2[3];
    assert_int_equal(btsp_pop_copy_state(btsp_net_output(b.net), BTSP_VAR_ACTIVITY, o1, 3), BTSP_OK);
    assert_int_equal(btsp_net_forward(b.net, x, 4), BTSP_OK);
    assert_int_equal(btsp_pop_copy_state(btsp_net_output(b.net), BTSP_VAR_ACTIVITY, o2, 3), BTSP_OK);
    assert_memory_equal(o1, o2, sizeof o1);

    /* zero window, and projections that do not act on the forward output, give zeros */
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 0, b.q[0], g, 5, 4), BTSP_OK);
    for (size_t k = 0; k < 20; k++)
        assert_true(g[k] == 0.0f);
    assert_int_equal(btsp_net_loss_gradient(b.net, x, 4, y, 3, 3, b.q[10], g, 5, 2), BTSP_OK);
    for (size_t k = 0; k < 10; k++)
        assert_true(g[k] == 0.0f);
    btsp_net_destroy(b.net);
}

/* btsp_net_input_gradient against finite differences of cot . a_pop(T) with respect to the
 * input copy the window reads (the state entering the window is a constant), for every
 * population, several windows and two cotangent rows at once (a random one and a unit vector). */
static void input_gradient_fd(void **state)
{
    (void)state;
    const unsigned windows[][2] = {{6, 3}, {5, 1}, {4, 4}, {4, 9}};
    double worst = 0.0;
    for (size_t w = 0; w < sizeof windows / sizeof windows[0]; w++) {
        spec s = ei_spec(windows[w][0], windows[w][1], BTSP_ACT_RELU, BTSP_ACT_SIGMOID);
        built b;
        build(&s, &b, 1);
        float x[4];
        fill(x, 4, 5);
        ref r;
        ref_init(&r, &s, &b);
        double x1[4];
        for (size_t i = 0; i < 4; i++)
            x1[i] = x[i];
        r.x1 = x1;
        for (int p = 0; p < (int)s.np; p++) {
            size_t n = s.p[p].n;
            float cot[2 * MAXN], g[2 * 4];
            fill(cot, n, 7u + (unsigned)p);
            for (size_t i = 0; i < n; i++)
                cot[i] -= 0.5f; /* mixed signs */
            memset(cot + n, 0, n * sizeof *cot);
            cot[n + n / 2] = 1.0f; /* row 2: d a_p,j / dx for the middle unit j */
            assert_int_equal(btsp_net_input_gradient(b.net, x, 4, b.p[p], cot, 2, n, s.K, g, 8), BTSP_OK);
            for (size_t row = 0; row < 2; row++) {
                double c[MAXN], gr[4];
                for (size_t i = 0; i < n; i++)
                    c[i] = cot[row * n + i];
                r.cot = c;
                r.cot_pop = p;
                if (p == 0) /* the input itself: identity, whatever the window */
                    for (size_t i = 0; i < 4; i++)
                        gr[i] = c[i];
                else
                    fd(&r, x1, 4, x, NULL, -1, gr);
                double e = rel_err(g + row * 4, gr, 4);
                worst = fmax(worst, e);
                if (!(e <= 1e-3))
                    fail_msg("T %u window %u population %d row %zu: relative error %.3g", windows[w][0],
                             windows[w][1], p, row, e);
            }
        }
        /* the input gradient is not trivially zero here: the output depends on x */
        float cot[3] = {1, 1, 1}, g[4];
        assert_int_equal(btsp_net_input_gradient(b.net, x, 4, btsp_net_output(b.net), cot, 1, 3, s.K, g, 4), BTSP_OK);
        assert_true(fabs(g[0]) + fabs(g[1]) + fabs(g[2]) + fabs(g[3]) > 1e-4);
        ref_free(&r);
        btsp_net_destroy(b.net);
    }
    print_message("input gradients: worst relative error %.2e\n", worst);
    worst_rel = fmax(worst_rel, worst);
}

/* Argument checks, the zero window, and nothing but activities changes. */
static void input_gradient_api(void **state)
{
    (void)state;
    spec s = ei_spec(5, 2, BTSP_ACT_RELU, BTSP_ACT_LINEAR);
    built b;
    build(&s, &b, 0);
    btsp_pop *o = b.p[3];
    float x[4], c[6] = {1, 0, 0, 0, 1, 0}, g[8];
    fill(x, 4, 1);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 2, 3, 2, g, 8), BTSP_E_STATE);
    assert_int_equal(btsp_net_finalize(b.net), BTSP_OK);
    assert_int_equal(btsp_net_input_gradient(NULL, x, 4, o, c, 2, 3, 2, g, 8), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_input_gradient(b.net, NULL, 4, o, c, 2, 3, 2, g, 8), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, NULL, c, 2, 3, 2, g, 8), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, NULL, 2, 3, 2, g, 8), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 2, 3, 2, NULL, 8), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 0, 3, 2, g, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 3, o, c, 2, 3, 2, g, 6), BTSP_E_SHAPE);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 2, 2, 2, g, 8), BTSP_E_SHAPE);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 2, 3, 2, g, 7), BTSP_E_SHAPE);
    assert_non_null(strstr(btsp_net_errmsg(b.net), "expected 2 x 4"));
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, SIZE_MAX / 2, 3, 2, g, 8), BTSP_E_SHAPE);
    built other;
    build(&s, &other, 1);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, other.p[3], c, 2, 3, 2, g, 8), BTSP_E_INVALID_ARG);
    btsp_net_destroy(other.net);

    assert_int_equal(btsp_net_train_sample(b.net, x, 4, c, 3), BTSP_OK);
    state_probe before;
    probe_take(&b, &before);
    fill(x, 4, 2);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 2, 3, 2, g, 8), BTSP_OK);
    probe_expect_same(&b, &before);
    /* a zero window gives zeros; a window longer than the network's works (history enlarged) */
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 2, 3, 0, g, 8), BTSP_OK);
    for (size_t k = 0; k < 8; k++)
        assert_true(g[k] == 0.0f);
    assert_int_equal(btsp_net_input_gradient(b.net, x, 4, o, c, 2, 3, 5, g, 8), BTSP_OK);
    btsp_net_destroy(b.net);
}

/* Training never allocates; a gradient window longer than the network's enlarges the history
 * once. */
static void allocations(void **state)
{
    (void)state;
    test_alloc_state as = {0};
    btsp_allocator al = test_allocator(&as);
    btsp_net *net;
    assert_int_equal(btsp_net_create_with_allocator(&al, &net), BTSP_OK);
    assert_int_equal(btsp_net_set(net, BTSP_NET_TAU, 3.0), BTSP_OK);
    assert_int_equal(btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 6), BTSP_OK);
    assert_int_equal(btsp_net_set(net, BTSP_NET_BACKWARD_STEPS, 2), BTSP_OK);
    btsp_layer *l0, *l1;
    btsp_pop *in, *e, *i;
    btsp_proj *q1, *q2, *q3;
    btsp_rule *r1, *r2;
    assert_int_equal(btsp_layer_add(net, "In", &l0), BTSP_OK);
    assert_int_equal(btsp_layer_add(net, "H", &l1), BTSP_OK);
    assert_int_equal(btsp_pop_add(l0, "E", 4, &in), BTSP_OK);
    assert_int_equal(btsp_pop_add(l1, "E", 5, &e), BTSP_OK);
    assert_int_equal(btsp_pop_add(l1, "I", 3, &i), BTSP_OK);
    assert_int_equal(btsp_pop_set_activation(e, BTSP_ACT_RELU, 0, 0), BTSP_OK);
    assert_int_equal(btsp_proj_add(in, e, BTSP_SOMA, &q1), BTSP_OK);
    assert_int_equal(btsp_proj_add(e, i, BTSP_SOMA, &q2), BTSP_OK);
    assert_int_equal(btsp_proj_add(i, e, BTSP_SOMA, &q3), BTSP_OK);
    assert_int_equal(btsp_proj_set_direction(q3, BTSP_DIR_RECURRENT), BTSP_OK);
    assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP, &r1), BTSP_OK);
    assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP, &r2), BTSP_OK);
    assert_int_equal(btsp_proj_set_rule(q1, r1), BTSP_OK);
    assert_int_equal(btsp_proj_set_rule(q3, r2), BTSP_OK);
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    float x[4], y[5] = {0, 1, 0, 0, 0}, g[20];
    fill(x, 4, 5);
    size_t calls = as.n_calls;
    for (int k = 0; k < 5; k++)
        assert_int_equal(btsp_net_train_sample(net, x, 4, y, 5), BTSP_OK);
    assert_int_equal(btsp_net_loss_gradient(net, x, 4, y, 5, 2, q1, g, 5, 4), BTSP_OK);
    assert_int_equal(as.n_calls, calls);
    assert_int_equal(btsp_net_loss_gradient(net, x, 4, y, 5, 5, q1, g, 5, 4), BTSP_OK);
    assert_true(as.n_calls > calls);
    calls = as.n_calls;
    assert_int_equal(btsp_net_loss_gradient(net, x, 4, y, 5, 4, q1, g, 5, 4), BTSP_OK);
    for (int k = 0; k < 3; k++)
        assert_int_equal(btsp_net_train_sample(net, x, 4, y, 5), BTSP_OK);
    assert_int_equal(as.n_calls, calls);
    /* a failing enlargement changes nothing and training still works */
    as.fail_at = as.n_calls + 1;
    assert_int_equal(btsp_net_loss_gradient(net, x, 4, y, 5, 6, q1, g, 5, 4), BTSP_E_NOMEM);
    as.fail_at = 0;
    assert_int_equal(btsp_net_train_sample(net, x, 4, y, 5), BTSP_OK);
    btsp_net_destroy(net);
    assert_int_equal(as.live_bytes, 0);
}

static void source_and_validation(void **state)
{
    (void)state;
    btsp_net *net;
    btsp_layer *l0, *l1;
    btsp_pop *in, *e, *di;
    btsp_proj *q_in, *q_di, *q_dend;
    btsp_rule *r, *bp;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    assert_int_equal(btsp_layer_add(net, "In", &l0), BTSP_OK);
    assert_int_equal(btsp_layer_add(net, "H", &l1), BTSP_OK);
    assert_int_equal(btsp_pop_add(l0, "E", 3, &in), BTSP_OK);
    assert_int_equal(btsp_pop_add(l1, "E", 4, &e), BTSP_OK);
    assert_int_equal(btsp_pop_add(l1, "DI", 2, &di), BTSP_OK);
    assert_int_equal(btsp_proj_add(in, e, BTSP_SOMA, &q_in), BTSP_OK);
    assert_int_equal(btsp_proj_add(e, di, BTSP_SOMA, &q_di), BTSP_OK);
    assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP_DENDRITIC_LOSS, &r), BTSP_OK);
    assert_int_equal(btsp_rule_create(net, BTSP_RULE_BACKPROP, &bp), BTSP_OK);
    assert_null(btsp_rule_source(r));
    assert_null(btsp_rule_source(NULL));
    assert_int_equal(btsp_rule_set_source(NULL, e), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_rule_set_source(r, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_rule_set_source(bp, e), BTSP_E_INVALID_ARG); /* other kind */
    btsp_net *other;
    btsp_layer *ol;
    btsp_pop *op;
    assert_int_equal(btsp_net_create(&other), BTSP_OK);
    assert_int_equal(btsp_layer_add(other, "X", &ol), BTSP_OK);
    assert_int_equal(btsp_pop_add(ol, "E", 2, &op), BTSP_OK);
    assert_int_equal(btsp_rule_set_source(r, op), BTSP_E_INVALID_ARG);
    btsp_net_destroy(other);
    assert_int_equal(btsp_proj_set_rule(q_di, r), BTSP_OK);
    assert_int_equal(btsp_proj_set_rule(q_in, bp), BTSP_OK);
    /* no source */
    assert_int_equal(btsp_net_finalize(net), BTSP_E_STATE);
    assert_non_null(strstr(btsp_net_errmsg(net), "source"));
    /* a source without dendrite */
    assert_int_equal(btsp_rule_set_source(r, e), BTSP_OK);
    assert_ptr_equal(btsp_rule_source(r), e);
    assert_int_equal(btsp_net_finalize(net), BTSP_E_STATE);
    assert_non_null(strstr(btsp_net_errmsg(net), "dendritic"));
    assert_int_equal(btsp_proj_add(di, e, BTSP_DEND, &q_dend), BTSP_OK);
    assert_int_equal(btsp_proj_set_direction(q_dend, BTSP_DIR_RECURRENT), BTSP_OK);
    /* Backprop needs a window */
    assert_int_equal(btsp_net_set(net, BTSP_NET_BACKWARD_STEPS, 0), BTSP_OK);
    assert_int_equal(btsp_net_finalize(net), BTSP_E_STATE);
    assert_non_null(strstr(btsp_net_errmsg(net), "BACKWARD_STEPS"));
    assert_int_equal(btsp_net_set(net, BTSP_NET_BACKWARD_STEPS, 1), BTSP_OK);
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    assert_int_equal(btsp_rule_set_source(r, e), BTSP_E_STATE);
    float x[3] = {0.2f, 0.5f, 0.9f}, y[4] = {0, 1, 0, 0};
    assert_int_equal(btsp_net_train_sample(net, x, 3, y, 4), BTSP_OK);
    btsp_net_destroy(net);
}

static void report(void **state)
{
    (void)state;
    print_message("test_model_backprop: worst relative error of all finite-difference checks: %.2e\n", worst_rel);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ei_relu_window_shorter),
        cmocka_unit_test(ei_relu_window_one),
        cmocka_unit_test(ei_relu_window_full),
        cmocka_unit_test(ei_linear),
        cmocka_unit_test(activations),
        cmocka_unit_test(dendritic_loss),
        cmocka_unit_test(sgd_by_hand),
        cmocka_unit_test(dale_after_step),
        cmocka_unit_test(van_bp_closed_form),
        cmocka_unit_test(clamp_bounds_inclusive),
        cmocka_unit_test(gradient_api),
        cmocka_unit_test(input_gradient_fd),
        cmocka_unit_test(input_gradient_api),
        cmocka_unit_test(allocations),
        cmocka_unit_test(source_and_validation),
        cmocka_unit_test(report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
