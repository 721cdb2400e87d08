/* Plasticity rules against hand computation (eiann-model.md sections 1.4-1.6, 2, 3.1, 3.3, 9).
 *
 * Every test builds a tiny network through the public API, sets hand-chosen weights after
 * finalize, runs one or a few training steps and compares the library's weights, plateaus and
 * activities with values computed here in double from the documented formulas. Tolerance:
 * 1e-6 relative (plus 1e-7 absolute for values near zero); the library works in float.
 *
 *  - BTSP_19 on Input(3) -> Output(2) with a target gate (tau 1, one step): plateau, positive
 *    and negative events, silent units, clipping, the two adjacent-sample terms, w_max, fixed
 *    point; a transposed clone of W stays exact when a row changes only through the previous
 *    sample's plateau.
 *  - Input(3) -> H.E(3..5, dendrite) -> Output(2) with a dendritic gate and a top-down
 *    projection: dendritic state, plateau selection (relu gate, max_pop_fraction, neg_rate_th,
 *    stochastic mode), BTSP with the post-backward presynaptic rate (also as the next sample's trace).
 *  - DendriticLoss_6, Hebb_WeightNorm (also forward_only 0/1 with a backward phase),
 *    Top_Down_Hebbian_Temporal_Contrast_3, DendriticLossBias. */
#include "test_model_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Helpers */

static double logistic(double x) { return 1.0 / (1.0 + exp(-x)); }

/* BTSP depression nonlinearity q (section 1.6) with th = 0.01, peak = 0.02 (k = 200). */
static double q_dep(double x)
{
    const double th = 0.01, peak = 0.02, k = 2.0 / (peak - th);
    const double s0 = logistic(k * (0.0 - th)), s1 = logistic(k * (1.0 - th));
    return (logistic(k * (clipd(x, 0.0, 1.0) - th)) - s0) / (s1 - s0);
}

/* BTSP kernel K(A, s) = A * ((w_max - W) * s - rho * W * q(s)) (section 3.1). */
static double K(double A, double w, double s, double w_max, double rho)
{
    return A * ((w_max - w) * s - rho * w * q_dep(s));
}

/* One BTSP_19 update of a rows x cols matrix, in double, exactly as section 3.1 writes it:
 *   dW_ij = eta [K(P+_i, e_j) + K(P+_i, d ê_j) + K(P̂+_i, d e_j) + P-_i e_j], W = clip(W + dW). */
static void ref_btsp(size_t rows, size_t cols, double *W, const double *P, const double *P_past, const double *pre,
                     const double *pre_past, double eta, double w_max, double rho, double delta, double lo, double hi)
{
    for (size_t i = 0; i < rows; i++) {
        double pp = P[i] > 0 ? P[i] : 0, pm = P[i] < 0 ? P[i] : 0, ph = P_past[i] > 0 ? P_past[i] : 0;
        for (size_t j = 0; j < cols; j++) {
            double w = W[i * cols + j];
            double e = clipd(pre[j], 0, 1), eh = clipd(pre_past[j], 0, 1);
            double dw = eta * (K(pp, w, e, w_max, rho) + K(pp, w, delta * eh, w_max, rho) +
                               K(ph, w, delta * e, w_max, rho) + pm * e);
            W[i * cols + j] = clipd(w + dw, lo, hi);
        }
    }
}

static void fto_d(const float *src, double *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (double)src[i];
}

static void check_matrix(const btsp_proj *q, const double *want, size_t n, const char *what)
{
    const float *w = weights(q);
    for (size_t k = 0; k < n; k++) {
        double tol = 1e-6 * fabs(want[k]) + 1e-7;
        if (!(fabs((double)w[k] - want[k]) <= tol))
            fail_msg("%s: %s[%zu] = %.9g, expected %.9g", what, btsp_proj_name(q), k, (double)w[k], want[k]);
    }
}

static void set_w(btsp_net *net, btsp_proj *q, const float *w, size_t rows, size_t cols)
{
    OK(net, btsp_proj_set_weights(q, w, rows, cols));
}

/* A transposed clone is exactly scale * W_src^T, multiplied in float (bit for bit). */
static void check_clone(const btsp_proj *clone, const btsp_proj *src, float scale, const char *what)
{
    const float *b, *w;
    size_t r1, c1, r2, c2;
    assert_int_equal(btsp_proj_weights(clone, &b, &r1, &c1), BTSP_OK);
    assert_int_equal(btsp_proj_weights(src, &w, &r2, &c2), BTSP_OK);
    assert_true(r1 == c2 && c1 == r2);
    for (size_t i = 0; i < r1; i++)
        for (size_t j = 0; j < c1; j++) {
            float want = scale * w[j * c2 + i];
            if (memcmp(&b[i * c1 + j], &want, sizeof want) != 0)
                fail_msg("%s: clone[%zu][%zu] = %a, expected %a", what, i, j, (double)b[i * c1 + j], (double)want);
        }
}

/* ------------------------------------------------------------------------------------------ */
/* BTSP_19 on Input(3) -> Output(2), target gate, backward SETTLE, tau 1, forward_steps 1:
 * a_fwd = relu(W x), P = clip(y - a_fwd, -1, 1) where a_fwd > 0, e = clip(x, 0, 1). */

typedef struct onet {
    btsp_net *net;
    btsp_pop *in, *out;
    btsp_proj *w;
    btsp_rule *rule;
    btsp_gate *gate;
} onet;

/* The network with rule `kind` (sign +1, lr eta) on Input -> Output instead of BTSP_19. */
static void onet_build_rule(onet *o, btsp_rule_kind kind, double eta, double lo, double hi)
{
    memset(o, 0, sizeof *o);
    btsp_layer *L0, *L1;
    assert_int_equal(btsp_net_create(&o->net), BTSP_OK);
    btsp_net *net = o->net;
    OK(net, btsp_net_set(net, BTSP_NET_TAU, 1));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 1));
    OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    OK(net, btsp_layer_add(net, "Input", &L0));
    OK(net, btsp_layer_add(net, "Output", &L1));
    OK(net, btsp_pop_add(L0, "E", 3, &o->in));
    OK(net, btsp_pop_add(L1, "E", 2, &o->out));
    OK(net, btsp_pop_set_activation(o->out, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_proj_add(o->in, o->out, BTSP_SOMA, &o->w));
    OK(net, btsp_proj_set_bounds(o->w, lo, hi));
    OK(net, btsp_proj_set_init(o->w, BTSP_INIT_NONE, 0, 0));
    OK(net, btsp_rule_create(net, kind, &o->rule));
    OK(net, btsp_rule_set(o->rule, BTSP_RULE_LEARNING_RATE, eta));
    OK(net, btsp_proj_set_rule(o->w, o->rule));
    OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &o->gate));
    OK(net, btsp_gate_attach(o->gate, o->out));
}

static void onet_build(onet *o, double eta, double lo, double hi)
{
    onet_build_rule(o, BTSP_RULE_BTSP, eta, lo, hi);
}

static void onet_train(onet *o, const float *x, const float *y)
{
    OK(o->net, btsp_net_train_sample(o->net, x, 3, y, 2));
}

/* Forward output a = relu(W x) and the gated target plateau in double, from the float W. */
static void onet_expect(const float *Wf, const float *x, const float *y, double *a, double *P)
{
    for (int i = 0; i < 2; i++) {
        double u = 0;
        for (int j = 0; j < 3; j++)
            u += (double)Wf[i * 3 + j] * x[j];
        a[i] = relu(u);
        P[i] = a[i] == 0.0 ? 0.0 : clipd(y[i] - a[i], -1, 1);
    }
}

static void btsp_single_sample(void **state_)
{
    (void)state_;
    onet o;
    onet_build(&o, 0.5, 0.0, 1.0); /* eta = 0.5, bounds [0, 1] so w_max = 1 */
    OK(o.net, btsp_net_finalize(o.net));
    const float W0[6] = {0.2f, 0.4f, 0.6f, 0.5f, 0.7f, 0.3f};
    set_w(o.net, o.w, W0, 2, 3);
    const float x[3] = {1.0f, 0.5f, 0.0f}, y[2] = {1.0f, 0.0f};
    onet_train(&o, x, y);

    /* a_fwd = (0.2 + 0.4*0.5, 0.5 + 0.7*0.5) = (0.4, 0.85); P = (1 - 0.4, 0 - 0.85) = (0.6, -0.85). */
    const double a0 = 0.2 + 0.4 * 0.5, a1 = 0.5 + 0.7 * 0.5;
    CLOSE(state(o.out, BTSP_VAR_FORWARD_ACTIVITY)[0], a0);
    CLOSE(state(o.out, BTSP_VAR_FORWARD_ACTIVITY)[1], a1);
    CLOSE(state(o.out, BTSP_VAR_PLATEAU)[0], 0.6);
    CLOSE(state(o.out, BTSP_VAR_PLATEAU)[1], -0.85);
    CLOSE(state(o.out, BTSP_VAR_NUDGE)[0], 0.6);
    CLOSE(state(o.out, BTSP_VAR_NUDGE)[1], -0.85);
    /* Output after the backward step: relu(u + n) = (0.4 + 0.6, 0.85 - 0.85) = (1, 0); u stays W x. */
    CLOSE(state(o.out, BTSP_VAR_ACTIVITY)[0], 1.0);
    CLOSE(state(o.out, BTSP_VAR_ACTIVITY)[1], 0.0);
    CLOSE(state(o.out, BTSP_VAR_SOMA_STATE)[0], a0);

    /* e = (1, 0.5, 0). Positive event on unit 0, eta * P = 0.3:
     *   W00 = 0.2 + 0.3 * ((1 - 0.2) * 1   - 0.2 * q(1))   = 0.2 + 0.3 * 0.6 = 0.38
     *   W01 = 0.4 + 0.3 * ((1 - 0.4) * 0.5 - 0.4 * q(0.5)) ~ 0.4 + 0.3 * (0.3 - 0.4) = 0.37
     *   W02 = 0.6 (e = 0, q(0) = 0: silent input untouched)
     * Negative event on unit 1, eta * P = -0.425, linear in e:
     *   W1j = (0.5 - 0.425, 0.7 - 0.2125, 0.3) = (0.075, 0.4875, 0.3). */
    double want[6] = {0.2 + 0.3 * (0.8 * 1.0 - 0.2 * q_dep(1.0)), 0.4 + 0.3 * (0.6 * 0.5 - 0.4 * q_dep(0.5)), 0.6,
                      0.5 - 0.425, 0.7 - 0.2125, 0.3};
    /* The same from the generic formula (W read as float, past traces zero). */
    double W[6], P[2] = {1.0 - (double)(0.2f + 0.4f * 0.5f), 0.0 - (double)(0.5f + 0.7f * 0.5f)}, Pp[2] = {0, 0};
    double pre[3] = {1, 0.5, 0}, pre0[3] = {0, 0, 0};
    fto_d(W0, W, 6);
    ref_btsp(2, 3, W, P, Pp, pre, pre0, 0.5, 1.0, 1.0, 0.25, 0.0, 1.0);
    for (int k = 0; k < 6; k++)
        CLOSE(W[k], want[k]);
    check_matrix(o.w, want, 6, "single sample");
    btsp_net_destroy(o.net);
}

/* A silent output unit gets no plateau and its weights stay untouched; a plateau below -1 is
 * clipped; depression stops at the lower bound; with relu_gate off the silent unit learns. */
static void btsp_silent_unit_and_clipping(void **state_)
{
    (void)state_;
    for (int gate_on = 1; gate_on >= 0; gate_on--) {
        onet o;
        onet_build(&o, 0.5, 0.0, 1.0);
        OK(o.net, btsp_gate_set(o.gate, BTSP_GATE_RELU_GATE, gate_on));
        OK(o.net, btsp_net_finalize(o.net));
        const float W0[6] = {0.0f, 0.0f, 0.0f, 0.3f, 0.8f, 0.5f};
        set_w(o.net, o.w, W0, 2, 3);
        const float x[3] = {1.0f, 1.0f, 0.5f}, y[2] = {1.0f, 0.0f};
        onet_train(&o, x, y);
        /* Unit 0: a_fwd = 0, target 1: P = 0 with the relu gate, else clip(1 - 0) = 1.
         * Unit 1: a_fwd = 0.3 + 0.8 + 0.25 = 1.35, P = clip(-1.35) = -1. */
        CLOSE(state(o.out, BTSP_VAR_PLATEAU)[0], gate_on ? 0.0 : 1.0);
        CLOSE(state(o.out, BTSP_VAR_PLATEAU)[1], -1.0);
        /* Unit 1: dW = 0.5 * (-1) * e = -(0.5, 0.5, 0.25):
         *   (0.3 - 0.5 -> clipped to 0, 0.8 - 0.5 = 0.3, 0.5 - 0.25 = 0.25).
         * Unit 0 with P = 1, e = (1, 1, 0.5), W = 0: dW = 0.5 * (1 * e - 0) = (0.5, 0.5, 0.25). */
        double want[6] = {0, 0, 0, 0.0, 0.3, 0.25};
        if (!gate_on) {
            want[0] = 0.5 * (1.0 * 1.0 - 0.0);
            want[1] = 0.5 * (1.0 * 1.0 - 0.0);
            want[2] = 0.5 * (1.0 * 0.5 - 0.0);
        }
        check_matrix(o.w, want, 6, gate_on ? "relu gate on" : "relu gate off");
        btsp_net_destroy(o.net);
    }
}

/* Two samples: the adjacent-sample terms K(P+, delta ê) (previous sample's pre activity) and
 * K(P̂+, delta e) (previous sample's plateau), with delta = 0.25 (the default). Small inputs
 * put delta * e on the steep part of q: q(0.01) = 0.432, q(0.015) = 0.695. */
static void btsp_adjacent_samples(void **state_)
{
    (void)state_;
    onet o;
    onet_build(&o, 0.5, 0.0, 1.0);
    OK(o.net, btsp_net_finalize(o.net));
    double d;
    OK(o.net, btsp_rule_get(o.rule, BTSP_RULE_TEMPORAL_DISCOUNT, &d));
    assert_true(d == 0.25);
    const float W0[6] = {0.2f, 0.4f, 0.6f, 0.5f, 0.7f, 0.3f};
    set_w(o.net, o.w, W0, 2, 3);

    /* Sample 1: x1 = (1, 0.06, 0), y = (1, 0): a = (0.2 + 0.024, 0.5 + 0.042) = (0.224, 0.542),
     * P1 = (0.776, -0.542). No past: only K(P+, e) and P- e. */
    const float x1[3] = {1.0f, 0.06f, 0.0f}, y1[2] = {1.0f, 0.0f};
    double W[6], a[2], P1[2], zero[3] = {0, 0, 0}, pre1[3] = {x1[0], x1[1], x1[2]};
    onet_expect(W0, x1, y1, a, P1);
    CLOSE(P1[0], 0.776);
    CLOSE(P1[1], -0.542);
    onet_train(&o, x1, y1);
    CLOSE(state(o.out, BTSP_VAR_PLATEAU)[0], P1[0]);
    CLOSE(state(o.out, BTSP_VAR_PLATEAU)[1], P1[1]);
    fto_d(W0, W, 6);
    ref_btsp(2, 3, W, P1, zero, pre1, zero, 0.5, 1.0, 1.0, 0.25, 0.0, 1.0);
    check_matrix(o.w, W, 6, "sample 1");

    /* Sample 2: x2 = (0, 0.5, 0.04), y = (1, 1); both units get positive plateaus P2.
     * Unit 0 (P1 = 0.776 > 0): all three kernel terms:
     *   col 0: e = 0 but ê = 1: K(P2, 0.25 * 1) = P2 ((1 - W) 0.25 - W q(0.25)) != 0
     *   col 1: K(P2, 0.5) + K(P2, 0.25 * 0.06 = 0.015) + K(0.776, 0.25 * 0.5 = 0.125)
     *   col 2: K(P2, 0.04) + K(P2, 0) + K(0.776, 0.01)
     * Unit 1 (P1 = -0.542): P̂+ = max(P1, 0) = 0, so only K(P2, e) + K(P2, 0.25 ê). */
    const float x2[3] = {0.0f, 0.5f, 0.04f}, y2[2] = {1.0f, 1.0f};
    float W1f[6];
    OK(o.net, btsp_proj_copy_weights(o.w, W1f, 2, 3));
    double P2[2], pre2[3] = {x2[0], x2[1], x2[2]};
    onet_expect(W1f, x2, y2, a, P2);
    assert_true(P2[0] > 0.0 && P2[1] > 0.0);
    onet_train(&o, x2, y2);
    CLOSE(state(o.out, BTSP_VAR_PLATEAU)[0], P2[0]);
    CLOSE(state(o.out, BTSP_VAR_PLATEAU)[1], P2[1]);
    fto_d(W1f, W, 6);
    ref_btsp(2, 3, W, P2, P1, pre2, pre1, 0.5, 1.0, 1.0, 0.25, 0.0, 1.0);
    /* Spell out two entries by hand, term by term: */
    {
        const double w00 = W1f[0], w02 = W1f[2];
        /* W00: only K(P2, delta * ê0) with ê0 = 1 is non-zero. */
        double want00 = w00 + 0.5 * (P2[0] * ((1 - w00) * 0.25 - w00 * q_dep(0.25)));
        /* W02: K(P2, 0.04) + K(P2, 0.25 * 0) + K(P1, 0.25 * 0.04). */
        double want02 = w02 + 0.5 * (P2[0] * ((1 - w02) * 0.04 - w02 * q_dep(0.04)) + 0.0 +
                                     P1[0] * ((1 - w02) * 0.01 - w02 * q_dep(0.01)));
        CLOSE(W[0], want00);
        CLOSE(W[2], want02);
        /* and the weight-1 row ignores the negative past plateau: */
        const double w12 = W1f[5];
        CLOSE(W[5], w12 + 0.5 * P2[1] * ((1 - w12) * 0.04 - w12 * q_dep(0.04)));
        /* section 1.6 table: q(0.01) = 0.432, q(0.015) = 0.695 */
        assert_true(fabs(q_dep(0.01) - 0.432) < 1e-3);
        assert_true(fabs(q_dep(0.015) - 0.695) < 1e-3);
    }
    check_matrix(o.w, W, 6, "sample 2");
    btsp_net_destroy(o.net);
}

/* A transposed clone of a BTSP-learned projection after a step in which a row changed only
 * through the previous sample's plateau, K(P̂+, delta e) with P = 0: the engine re-derives
 * only the clone columns of the rows the step touched, so that row must count as touched.
 * Output.C (3 units, not the output) receives C = 1.7 W^T from Output.E. */
static void btsp_clone_past_plateau_row(void **state_)
{
    (void)state_;
    onet o;
    onet_build(&o, 0.5, 0.0, 1.0);
    btsp_pop *c;
    btsp_proj *clone;
    OK(o.net, btsp_pop_add(btsp_pop_layer(o.out), "C", 3, &c));
    OK(o.net, btsp_pop_set_activation(c, BTSP_ACT_RELU, 0, 0));
    OK(o.net, btsp_proj_add(o.out, c, BTSP_SOMA, &clone));
    OK(o.net, btsp_proj_set_direction(clone, BTSP_DIR_RECURRENT));
    OK(o.net, btsp_proj_set_clone(clone, o.w, 1.7, 1));
    OK(o.net, btsp_net_finalize(o.net));
    const float W0[6] = {0.2f, 0.4f, 0.6f, 0.5f, 0.7f, 0.3f};
    set_w(o.net, o.w, W0, 2, 3);

    /* Sample 1 as in btsp_adjacent_samples: P1 = (0.776, -0.542); the clone is derived from all
     * of W (the weights were just set by the caller). */
    const float x1[3] = {1.0f, 0.06f, 0.0f}, y1[2] = {1.0f, 0.0f};
    double W[6], a[2], P1[2], zero[3] = {0, 0, 0}, pre1[3] = {x1[0], x1[1], x1[2]};
    onet_expect(W0, x1, y1, a, P1);
    onet_train(&o, x1, y1);
    fto_d(W0, W, 6);
    ref_btsp(2, 3, W, P1, zero, pre1, zero, 0.5, 1.0, 1.0, 0.25, 0.0, 1.0);
    check_matrix(o.w, W, 6, "sample 1");
    check_clone(clone, o.w, 1.7f, "sample 1");

    /* Sample 2: x2 = (0, 0.5, 0.04). The target of unit 0 is its own forward rate (read from a
     * forward pass with the same weights), so P2_0 = clip(y - a_fwd) = 0 exactly: row 0 gets no
     * plateau of its own and changes only through K(P1_0 = 0.776, 0.25 e2):
     *   W00: e = 0, unchanged; W01 += 0.5 * 0.776 ((1 - W01) 0.125 - W01 q(0.125));
     *   W02 += 0.5 * 0.776 ((1 - W02) 0.01 - W02 q(0.01)).
     * Unit 1 (target 1) gets a positive plateau and is updated as usual. */
    const float x2[3] = {0.0f, 0.5f, 0.04f};
    float W1f[6];
    OK(o.net, btsp_proj_copy_weights(o.w, W1f, 2, 3));
    OK(o.net, btsp_net_forward(o.net, x2, 3));
    const float y2[2] = {state(o.out, BTSP_VAR_ACTIVITY)[0], 1.0f};
    double P2[2], pre2[3] = {x2[0], x2[1], x2[2]};
    onet_expect(W1f, x2, y2, a, P2);
    CLOSE(y2[0], a[0]);
    assert_true(a[0] > 0.0 && P2[1] > 0.0);
    onet_train(&o, x2, y2);
    assert_true(state(o.out, BTSP_VAR_PLATEAU)[0] == 0.0f);
    CLOSE(state(o.out, BTSP_VAR_PLATEAU)[1], P2[1]);
    P2[0] = 0.0;
    fto_d(W1f, W, 6);
    ref_btsp(2, 3, W, P2, P1, pre2, pre1, 0.5, 1.0, 1.0, 0.25, 0.0, 1.0);
    {
        const double w01 = W1f[1], w02 = W1f[2];
        CLOSE(W[0], W1f[0]);
        CLOSE(W[1], w01 + 0.5 * P1[0] * ((1 - w01) * 0.125 - w01 * q_dep(0.125)));
        CLOSE(W[2], w02 + 0.5 * P1[0] * ((1 - w02) * 0.01 - w02 * q_dep(0.01)));
        assert_true(W[1] != w01 && W[2] != w02); /* row 0 did change */
    }
    check_matrix(o.w, W, 6, "sample 2");
    check_clone(clone, o.w, 1.7f, "sample 2 (row 0 through the past plateau only)");
    btsp_net_destroy(o.net);
}

/* w_max defaults to the upper bound (2 if unbounded), can be set explicitly; potentiation stops
 * at the upper bound. */
static void btsp_w_max(void **state_)
{
    (void)state_;
    const float x[3] = {1.0f, 0.5f, 0.25f}, y[2] = {1.0f, 1.0f};
    const float W0[6] = {0.1f, 0.1f, 0.1f, 0.2f, 0.0f, 0.4f};
    for (int variant = 0; variant < 3; variant++) {
        /* 0: bounds [0, 0.8] -> w_max 0.8; 1: [0, inf) -> w_max 2; 2: [0, 0.8], w_max 3, eta 2. */
        double hi = variant == 1 ? INFINITY : 0.8, eta = variant == 2 ? 2.0 : 0.5;
        double w_max = variant == 0 ? 0.8 : (variant == 1 ? 2.0 : 3.0);
        onet o;
        onet_build(&o, eta, 0.0, hi);
        if (variant == 2)
            OK(o.net, btsp_rule_set(o.rule, BTSP_RULE_W_MAX, 3.0));
        OK(o.net, btsp_net_finalize(o.net));
        double got;
        OK(o.net, btsp_rule_get(o.rule, BTSP_RULE_W_MAX, &got));
        assert_true(got == w_max);
        set_w(o.net, o.w, W0, 2, 3);
        onet_train(&o, x, y);
        double W[6], a[2], P[2], zero[3] = {0, 0, 0}, pre[3] = {1, 0.5, 0.25};
        onet_expect(W0, x, y, a, P); /* a = (0.175, 0.3), P = (0.825, 0.7) */
        fto_d(W0, W, 6);
        ref_btsp(2, 3, W, P, zero, pre, zero, eta, w_max, 1.0, 0.25, 0.0, hi);
        if (variant == 2) {
            /* W00 = 0.1 + 2 * 0.825 * ((3 - 0.1) * 1 - 0.1) = 4.72 -> clipped to 0.8 */
            CLOSE(W[0], 0.8);
        } else if (variant == 0) {
            /* W00 = 0.1 + 0.5 * 0.825 * ((0.8 - 0.1) * 1 - 0.1 * 1) = 0.1 + 0.4125 * 0.6 = 0.3475 */
            CLOSE(W[0], 0.1 + 0.4125 * 0.6);
        } else {
            /* W00 = 0.1 + 0.4125 * ((2 - 0.1) - 0.1) = 0.8425 */
            CLOSE(W[0], 0.1 + 0.4125 * 1.8);
        }
        check_matrix(o.w, W, 6, "w_max");
        btsp_net_destroy(o.net);
    }
}

/* Repeated identical samples with delta = 0 converge to W* = w_max s / (s + rho q(s)) for every
 * input with s = e > 0 (section 3.1), from below (unit 0, starting at 0.1) and from above
 * (unit 1, starting at the bound 0.8; its target 2 keeps its plateau positive, where K < 0). */
static void btsp_fixed_point(void **state_)
{
    (void)state_;
    const double rhos[2] = {1.0, 0.5};
    for (int r = 0; r < 2; r++) {
        const double rho = rhos[r], w_max = 0.8;
        onet o;
        onet_build(&o, 0.5, 0.0, w_max);
        OK(o.net, btsp_rule_set(o.rule, BTSP_RULE_TEMPORAL_DISCOUNT, 0.0));
        OK(o.net, btsp_rule_set(o.rule, BTSP_RULE_DEP_RATIO, rho));
        OK(o.net, btsp_net_finalize(o.net));
        const float W0[6] = {0.1f, 0.1f, 0.1f, 0.8f, 0.8f, 0.8f};
        set_w(o.net, o.w, W0, 2, 3);
        const float x[3] = {1.0f, 0.5f, 0.015f}, y[2] = {1.0f, 2.0f};
        for (int s = 0; s < 600; s++)
            onet_train(&o, x, y);
        /* rho = 1: W* = 0.8 * (1/(1+1), 0.5/(0.5+q(0.5)), 0.015/(0.015+0.695)) = (0.4, 0.267, 0.0169)
         * so a_fwd = 0.534 < 1 and the plateau stays positive. */
        const float *w = weights(o.w);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                double s = x[j];
                double wstar = w_max * s / (s + rho * q_dep(s));
                CLOSE(w[i * 3 + j], wstar);
            }
        assert_true(state(o.out, BTSP_VAR_PLATEAU)[0] > 0.0f && state(o.out, BTSP_VAR_PLATEAU)[1] > 0.0f);
        btsp_net_destroy(o.net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Hidden-layer network: Input(3) -> H.E(nh, relu, dendrite) -> Output.E(2, relu), top-down
 * Output.E -> H.E (dendrite, phase B). Dendritic gate on H.E, target gate on Output.E. */

enum { H_BTSP = 1, H_TDTC = 2, H_BIAS = 4 };

typedef struct hnet {
    btsp_net *net;
    btsp_pop *in, *h, *out;
    btsp_proj *w1, *w2, *b;
    btsp_gate *gh, *gout;
    btsp_rule *r1, *r2, *rb, *rbias;
    size_t nh;
} hnet;

static void hnet_build(hnet *h, size_t nh, int T, unsigned flags, uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->nh = nh;
    btsp_layer *L0, *L1, *L2;
    assert_int_equal(btsp_net_create(&h->net), BTSP_OK);
    btsp_net *net = h->net;
    OK(net, btsp_net_seed(net, seed));
    OK(net, btsp_net_set(net, BTSP_NET_TAU, 1));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, T));
    OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    OK(net, btsp_layer_add(net, "Input", &L0));
    OK(net, btsp_layer_add(net, "H", &L1));
    OK(net, btsp_layer_add(net, "Output", &L2));
    OK(net, btsp_pop_add(L0, "E", 3, &h->in));
    OK(net, btsp_pop_add(L1, "E", nh, &h->h));
    OK(net, btsp_pop_add(L2, "E", 2, &h->out));
    OK(net, btsp_pop_set_activation(h->h, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set_activation(h->out, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_proj_add(h->in, h->h, BTSP_SOMA, &h->w1));
    OK(net, btsp_proj_add(h->h, h->out, BTSP_SOMA, &h->w2));
    OK(net, btsp_proj_add(h->out, h->h, BTSP_DEND, &h->b));
    OK(net, btsp_proj_set_phase(h->b, BTSP_PHASE_BACKWARD));
    OK(net, btsp_proj_set_bounds(h->w1, 0.0, 1.0));
    OK(net, btsp_proj_set_bounds(h->w2, 0.0, 2.0));
    OK(net, btsp_proj_set_init(h->w1, BTSP_INIT_NONE, 0, 0));
    OK(net, btsp_proj_set_init(h->w2, BTSP_INIT_NONE, 0, 0));
    OK(net, btsp_proj_set_init(h->b, BTSP_INIT_NONE, 0, 0));
    if (flags & H_BTSP) {
        OK(net, btsp_rule_create(net, BTSP_RULE_BTSP, &h->r1));
        OK(net, btsp_rule_create(net, BTSP_RULE_BTSP, &h->r2));
        OK(net, btsp_rule_set(h->r1, BTSP_RULE_LEARNING_RATE, 0.1));
        OK(net, btsp_rule_set(h->r2, BTSP_RULE_LEARNING_RATE, 0.1));
        OK(net, btsp_proj_set_rule(h->w1, h->r1));
        OK(net, btsp_proj_set_rule(h->w2, h->r2));
    }
    if (flags & H_TDTC) {
        OK(net, btsp_proj_set_bounds(h->b, 0.0, INFINITY));
        OK(net, btsp_proj_set_normalize(h->b, 0.8, 0));
        OK(net, btsp_rule_create(net, BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST, &h->rb));
        OK(net, btsp_rule_set(h->rb, BTSP_RULE_LEARNING_RATE, 0.1));
        OK(net, btsp_proj_set_rule(h->b, h->rb));
    }
    if (flags & H_BIAS) {
        OK(net, btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS_BIAS, &h->rbias));
        OK(net, btsp_rule_set(h->rbias, BTSP_RULE_LEARNING_RATE, 0.5));
        OK(net, btsp_pop_set_bias_rule(h->h, h->rbias));
    }
    OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &h->gh));
    OK(net, btsp_gate_attach(h->gh, h->h));
    OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &h->gout));
    OK(net, btsp_gate_attach(h->gout, h->out));
}

static void hnet_train(hnet *h, const float *x, const float *y)
{
    OK(h->net, btsp_net_train_sample(h->net, x, 3, y, 2));
}

/* The worked example (nh = 3):
 *   x = (1, 0.5, 0.25)
 *   W1 = [0.4 0.2 0; 0.1 0.6 0.8; 0 0 0]       a_H   = relu(W1 x) = (0.5, 0.6, 0)   (unit 2 silent)
 *   W2 = [1.6 1.5 0.3; 0.2 0.1 0.7]             a_out = relu(W2 a_H) = (1.7, 0.16)
 *   y = (0, 1)                                  P_out = clip(y - a_out) = (-1 [from -1.7], 0.84)
 *   nudged output (step 0) = relu(a_out + P_out) = (0.7, 1.0)
 *   B = [0.5 0.3; -1 -0.6; 1 0.9]
 *   d_fwd = B a_out (unclipped) = (0.85 + 0.048, -1.7 - 0.096, 1.7 + 0.144) = (0.898, -1.796, 1.844)
 *   d(0)  = clip(B (0.7, 1.0)) = clip(0.35 + 0.3, -0.7 - 0.6, 0.7 + 0.9) = (0.65, -1, 1)
 *   P_H   = d(0) where a_H > 0 = (0.65, -1, 0)
 *   nudged a_H = relu(u + P_H) = relu(0.5 + 0.65, 0.6 - 1, 0) = (1.15, 0, 0); u stays (0.5, 0.6, 0)
 * With T = 2 the second backward step gives a_out(1) = relu(W2 (1.15, 0, 0) + P_out)
 *   = relu(1.84 - 1, 0.23 + 0.84) = (0.84, 1.07) and d(1) = clip(0.42 + 0.321, -0.84 - 0.642,
 *   0.84 + 0.963) = (0.741, -1, 1): the stored dendritic state, while the plateau keeps d(0). */
static const float EX_X[3] = {1.0f, 0.5f, 0.25f};
static const float EX_Y[2] = {0.0f, 1.0f};
static const float EX_W1[9] = {0.4f, 0.2f, 0.0f, 0.1f, 0.6f, 0.8f, 0.0f, 0.0f, 0.0f};
static const float EX_W2[6] = {1.6f, 1.5f, 0.3f, 0.2f, 0.1f, 0.7f};
static const float EX_B[6] = {0.5f, 0.3f, -1.0f, -0.6f, 1.0f, 0.9f};

static void matvec(size_t rows, size_t cols, const float *W, const double *x, double *y)
{
    for (size_t i = 0; i < rows; i++) {
        double s = 0;
        for (size_t j = 0; j < cols; j++)
            s += (double)W[i * cols + j] * x[j];
        y[i] = s;
    }
}

typedef struct hexp {
    double aH[3], aO[2], PO[2], aOn[2], dfwd[3], d0[3], PH[3], aHn[3], aO1[2], d1[3];
} hexp;

static void hexp_compute(hexp *e, const float *W1, const float *W2, const float *B, int relu_gate)
{
    double x[3] = {EX_X[0], EX_X[1], EX_X[2]};
    matvec(3, 3, W1, x, e->aH);
    for (int i = 0; i < 3; i++)
        e->aH[i] = relu(e->aH[i]);
    matvec(2, 3, W2, e->aH, e->aO);
    for (int i = 0; i < 2; i++) {
        e->aO[i] = relu(e->aO[i]);
        e->PO[i] = e->aO[i] == 0 ? 0 : clipd(EX_Y[i] - e->aO[i], -1, 1);
        e->aOn[i] = relu(e->aO[i] + e->PO[i]);
    }
    matvec(3, 2, B, e->aO, e->dfwd);
    matvec(3, 2, B, e->aOn, e->d0);
    for (int i = 0; i < 3; i++) {
        e->d0[i] = clipd(e->d0[i], -1, 1);
        e->PH[i] = (relu_gate && e->aH[i] == 0) ? 0 : e->d0[i];
        e->aHn[i] = relu(e->aH[i] + e->PH[i]);
    }
    double u[2];
    matvec(2, 3, W2, e->aHn, u);
    for (int i = 0; i < 2; i++)
        e->aO1[i] = relu(u[i] + e->PO[i]);
    matvec(3, 2, B, e->aO1, e->d1);
    for (int i = 0; i < 3; i++)
        e->d1[i] = clipd(e->d1[i], -1, 1);
}

static void hidden_dendrite_and_btsp(void **state_)
{
    (void)state_;
    for (int T = 1; T <= 2; T++) {
        hnet h;
        hnet_build(&h, 3, T, H_BTSP, 0);
        OK(h.net, btsp_net_finalize(h.net));
        set_w(h.net, h.w1, EX_W1, 3, 3);
        set_w(h.net, h.w2, EX_W2, 2, 3);
        set_w(h.net, h.b, EX_B, 3, 2);
        hexp e;
        hexp_compute(&e, EX_W1, EX_W2, EX_B, 1);
        /* the hand values quoted above */
        CLOSE(e.aO[0], 1.7);
        CLOSE(e.PO[0], -1.0);
        CLOSE(e.PO[1], 0.84);
        CLOSE(e.dfwd[1], -1.796);
        CLOSE(e.d0[0], 0.65);
        CLOSE(e.aHn[0], 1.15);
        CLOSE(e.d1[0], 0.741);
        hnet_train(&h, EX_X, EX_Y);
        for (int i = 0; i < 3; i++) {
            CLOSE(state(h.h, BTSP_VAR_FORWARD_ACTIVITY)[i], e.aH[i]);
            CLOSE(state(h.h, BTSP_VAR_FORWARD_DEND)[i], e.dfwd[i]); /* not clipped */
            CLOSE(state(h.h, BTSP_VAR_PLATEAU)[i], e.PH[i]);        /* from the step-0 state */
            CLOSE(state(h.h, BTSP_VAR_NUDGE)[i], e.PH[i]);
            CLOSE(state(h.h, BTSP_VAR_DEND_STATE)[i], T == 1 ? e.d0[i] : e.d1[i]);
            CLOSE(state(h.h, BTSP_VAR_ACTIVITY)[i], e.aHn[i]);
            CLOSE(state(h.h, BTSP_VAR_SOMA_STATE)[i], e.aH[i]); /* the nudge is not integrated */
        }
        for (int i = 0; i < 2; i++) {
            CLOSE(state(h.out, BTSP_VAR_PLATEAU)[i], e.PO[i]);
            CLOSE(state(h.out, BTSP_VAR_ACTIVITY)[i], T == 1 ? e.aOn[i] : e.aO1[i]);
        }
        /* BTSP on W2 (w_max = 2) uses the post-backward hidden rate e = clip((1.15, 0, 0), 0, 1)
         * = (1, 0, 0), not the forward (0.5, 0.6, 0):
         *   row 0, P = -1:   W2_0j - 0.1 * e_j      = (1.6 - 0.1, 1.5, 0.3)
         *   row 1, P = 0.84: W2_10 + 0.1 * 0.84 * ((2 - 0.2) * 1 - 0.2 * q(1)) = 0.2 + 0.084 * 1.6
         * BTSP on W1 (w_max = 1) with e = x and P_H = (0.65, -1, 0):
         *   row 0: W1_0j + 0.065 ((1 - W) x_j - W q(x_j)), e.g. W1_00 = 0.4 + 0.065 * (0.6 - 0.4)
         *   row 1: W1_1j - 0.1 x_j = (0.1 - 0.1, 0.6 - 0.05, 0.8 - 0.025); row 2 untouched. */
        double W2[6], W1[9], zero[3] = {0, 0, 0}, x[3] = {EX_X[0], EX_X[1], EX_X[2]};
        fto_d(EX_W2, W2, 6);
        fto_d(EX_W1, W1, 9);
        ref_btsp(2, 3, W2, e.PO, zero, e.aHn, zero, 0.1, 2.0, 1.0, 0.25, 0.0, 2.0);
        ref_btsp(3, 3, W1, e.PH, zero, x, zero, 0.1, 1.0, 1.0, 0.25, 0.0, 1.0);
        CLOSE(W2[0], 1.5);
        CLOSE(W2[1], 1.5);
        CLOSE(W2[3], 0.2 + 0.084 * 1.6);
        CLOSE(W1[0], 0.4 + 0.065 * 0.2);
        CLOSE(W1[3], 0.0);
        CLOSE(W1[4], 0.55);
        CLOSE(W1[5], 0.775);
        check_matrix(h.w2, W2, 6, "W2 (post-backward pre rate)");
        check_matrix(h.w1, W1, 9, "W1");

        /* A second, identical sample. W2's trace ê must be the post-backward hidden rate of
         * sample 1, clip((1.15, 0, 0)) = (1, 0, 0), not the forward (0.5, 0.6, 0). With the
         * sample-1 weights W1 = [0.413 0.213 0.01625; 0 0.55 0.775; 0 0 0] (q(0.5) ~ 1),
         * W2 = [1.5 1.5 0.3; 0.3344 0.1 0.7]:
         *   a_H = (0.413 + 0.1065 + 0.0040625, 0.275 + 0.19375, 0) = (0.5235625, 0.46875, 0)
         *   a_out = (1.5 (a_H0 + a_H1), 0.3344 a_H0 + 0.1 a_H1) = (1.48846875, 0.2219543)
         *   P_out = (-1, 0.7780457), nudged output (0.48846875, 1)
         *   d(0) = clip(0.244 + 0.3, -0.488 - 0.6, ...) = (0.544234375, -1, 1), P_H = (0.544, -1, 0)
         *   nudged a_H = (1.067796875, 0, 0): e = (1, 0, 0) again.
         * Row 1 of W2 (P = 0.778, P̂+ = 0.84) in column 1: e = 0, ê = 0, so W2_11 = 0.1 stays;
         * with the forward trace 0.6 it would gain 0.1 K(0.778, 0.25 * 0.6) = +0.0144. */
        float W1f[9], W2f[6];
        OK(h.net, btsp_proj_copy_weights(h.w1, W1f, 3, 3));
        OK(h.net, btsp_proj_copy_weights(h.w2, W2f, 2, 3));
        hexp e2;
        hexp_compute(&e2, W1f, W2f, EX_B, 1);
        CLOSE(e2.aH[0], 0.5235625);
        CLOSE(e2.aH[1], 0.46875);
        CLOSE(e2.aO[0], 1.48846875);
        CLOSE(e2.PO[1], 1.0 - (0.2 + 0.084 * 1.6) * 0.5235625 - 0.1 * 0.46875);
        CLOSE(e2.aHn[0], 1.067796875);
        CLOSE(e2.aHn[1], 0.0);
        hnet_train(&h, EX_X, EX_Y);
        for (int i = 0; i < 2; i++)
            CLOSE(state(h.out, BTSP_VAR_PLATEAU)[i], e2.PO[i]);
        for (int i = 0; i < 3; i++)
            CLOSE(state(h.h, BTSP_VAR_ACTIVITY)[i], e2.aHn[i]);
        fto_d(W2f, W2, 6);
        fto_d(W1f, W1, 9);
        ref_btsp(2, 3, W2, e2.PO, e.PO, e2.aHn, e.aHn, 0.1, 2.0, 1.0, 0.25, 0.0, 2.0);
        ref_btsp(3, 3, W1, e2.PH, e.PH, x, x, 0.1, 1.0, 1.0, 0.25, 0.0, 1.0);
        CLOSE(W2[4], 0.1);
        /* W2_10: e = ê = 1: 0.1 [K(P, 1) + K(P, 0.25) + K(0.84, 0.25)] */
        {
            const double w = W2f[3], P = e2.PO[1];
            CLOSE(W2[3], w + 0.1 * (K(P, w, 1.0, 2.0, 1.0) + K(P, w, 0.25, 2.0, 1.0) + K(0.84, w, 0.25, 2.0, 1.0)));
        }
        check_matrix(h.w2, W2, 6, "W2 after sample 2 (trace = post-backward pre rate)");
        check_matrix(h.w1, W1, 9, "W1 after sample 2");
        btsp_net_destroy(h.net);
    }
}

/* relu_gate: the silent hidden unit 2 (d = 1) is excluded; with the gate off it gets P = 1. */
static void hidden_relu_gate(void **state_)
{
    (void)state_;
    for (int gate_on = 0; gate_on <= 1; gate_on++) {
        hnet h;
        hnet_build(&h, 3, 1, 0, 0);
        OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_RELU_GATE, gate_on));
        OK(h.net, btsp_net_finalize(h.net));
        set_w(h.net, h.w1, EX_W1, 3, 3);
        set_w(h.net, h.w2, EX_W2, 2, 3);
        set_w(h.net, h.b, EX_B, 3, 2);
        hexp e;
        hexp_compute(&e, EX_W1, EX_W2, EX_B, gate_on);
        hnet_train(&h, EX_X, EX_Y);
        /* P_H = (0.65, -1, 0) with the gate, (0.65, -1, 1) without */
        CLOSE(e.PH[2], gate_on ? 0.0 : 1.0);
        for (int i = 0; i < 3; i++) {
            CLOSE(state(h.h, BTSP_VAR_PLATEAU)[i], e.PH[i]);
            CLOSE(state(h.h, BTSP_VAR_ACTIVITY)[i], e.aHn[i]);
        }
        btsp_net_destroy(h.net);
    }
}

/* Selection set-up with nh = 5: x = (1, 0, 0) so a_H,fwd = W1[:, 0] = `rates`; W2 row 0 = 0.5,
 * row 1 = 0 (silent); target (1, 0), so the nudged output is (1, 0) (a_out,0 + (1 - a_out,0)
 * in [0.5, 2] is exact) and the dendritic state is d = clip(B[:, 0]) exactly. */
static const float SEL_X[3] = {1.0f, 0.0f, 0.0f};
static const float SEL_Y[2] = {1.0f, 0.0f};

static void sel_setup(hnet *h, const float *rates, const float *d)
{
    float W1[15] = {0}, W2[10] = {0}, B[10] = {0};
    for (int i = 0; i < 5; i++) {
        W1[i * 3] = rates[i];
        W2[i] = 0.5f;
        B[i * 2] = d[i];
    }
    set_w(h->net, h->w1, W1, 5, 3);
    set_w(h->net, h->w2, W2, 2, 5);
    set_w(h->net, h->b, B, 5, 2);
}

/* Run one sample and compare P_H with `want` (exact: the plateau copies the state). */
static void sel_check(hnet *h, const float *d, const float *want, const char *what)
{
    hnet_train(h, SEL_X, SEL_Y);
    const float *ds = state(h->h, BTSP_VAR_DEND_STATE), *P = state(h->h, BTSP_VAR_PLATEAU);
    for (int i = 0; i < 5; i++) {
        if (ds[i] != d[i])
            fail_msg("%s: dendritic state[%d] = %.9g, expected exactly %.9g", what, i, (double)ds[i], (double)d[i]);
        if (P[i] != want[i])
            fail_msg("%s: plateau[%d] = %.9g, expected %.9g", what, i, (double)P[i], (double)want[i]);
        if (state(h->h, BTSP_VAR_NUDGE)[i] != want[i])
            fail_msg("%s: nudge[%d] differs from the plateau", what, i);
    }
}

static void hidden_max_pop_fraction(void **state_)
{
    (void)state_;
    hnet h;
    hnet_build(&h, 5, 1, 0, 0);
    /* k = ceil(0.3 * 5) = ceil(1.5) = 2 positive and 2 negative plateaus at most. */
    OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_MAX_POP_FRACTION, 0.3));
    OK(h.net, btsp_net_finalize(h.net));
    const float rates[5] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    {
        /* Positives 0.5 (u0), 0.2 (u1), 0.5 (u2), 0.5 (u3): the two largest, ties by lower
         * index: u0 and u2. The single negative u4 is kept. */
        const float d[5] = {0.5f, 0.2f, 0.5f, 0.5f, -0.3f};
        const float want[5] = {0.5f, 0.0f, 0.5f, 0.0f, -0.3f};
        sel_setup(&h, rates, d);
        sel_check(&h, d, want, "positive ties");
    }
    {
        /* Negatives -0.3 (u0), -0.6 (u1), -0.6 (u3), -0.2 (u4): the k most negative. */
        const float d[5] = {-0.3f, -0.6f, 0.1f, -0.6f, -0.2f};
        const float want[5] = {0.0f, -0.6f, 0.1f, -0.6f, 0.0f};
        sel_setup(&h, rates, d);
        sel_check(&h, d, want, "most negative");
    }
    {
        /* Negative ties: -0.6 at u0, u1, u3. The reference sorts descending (stable) and keeps
         * the LAST k: order u4(-0.2), u0, u1, u3 -> u1 and u3 (ties go to the higher index). */
        const float d[5] = {-0.6f, -0.6f, 0.7f, -0.6f, -0.2f};
        const float want[5] = {0.0f, -0.6f, 0.7f, -0.6f, 0.0f};
        sel_setup(&h, rates, d);
        sel_check(&h, d, want, "negative ties");
    }
    {
        /* Clipping of the dendritic state happens before selection: 1.7 -> 1, -2 -> -1. */
        const float B0[5] = {1.7f, 0.9f, 0.95f, -2.0f, 0.0f};
        const float d[5] = {1.0f, 0.9f, 0.95f, -1.0f, 0.0f};
        const float want[5] = {1.0f, 0.0f, 0.95f, -1.0f, 0.0f};
        sel_setup(&h, rates, B0);
        sel_check(&h, d, want, "clipped state");
    }
    btsp_net_destroy(h.net);
}

/* neg_rate_th: units with a_fwd <= th lose their plateau value, and the zeroing happens after
 * the positives were chosen (eiann-model.md section 9 item 3): a weak unit can use up a
 * positive slot and then end with 0 while a smaller positive of a strong unit is not chosen. */
static void hidden_neg_rate_th(void **state_)
{
    (void)state_;
    hnet h;
    hnet_build(&h, 5, 1, 0, 0);
    OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_MAX_POP_FRACTION, 0.3)); /* k = 2 */
    OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_NEG_RATE_TH, 0.1));
    OK(h.net, btsp_net_finalize(h.net));
    /* a_fwd: u0 0.05 (weak), u1 0.5, u2 0.5, u3 0.1 (weak: <= th), u4 0.5 */
    const float rates[5] = {0.05f, 0.5f, 0.5f, 0.1f, 0.5f};
    /* d: u0 0.6, u1 0.3, u2 0.2, u3 -0.5, u4 -0.2.
     * Positives by size: u0, u1 (k = 2) -> u2 not chosen. Threshold: u0 and u3 zeroed.
     * Negatives after the threshold: u4 only. */
    const float d[5] = {0.6f, 0.3f, 0.2f, -0.5f, -0.2f};
    const float want[5] = {0.0f, 0.3f, 0.0f, 0.0f, -0.2f};
    sel_setup(&h, rates, d);
    sel_check(&h, d, want, "neg_rate_th");
    btsp_net_destroy(h.net);

    /* Threshold 0 (paper setting) with the relu gate off: a silent unit (rate 0 <= 0) loses its
     * positive plateau through the threshold alone. */
    hnet_build(&h, 5, 1, 0, 0);
    OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_NEG_RATE_TH, 0.0));
    OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_RELU_GATE, 0));
    OK(h.net, btsp_net_finalize(h.net));
    const float rates2[5] = {0.0f, 0.5f, 0.5f, 0.0f, 0.5f};
    const float d2[5] = {0.6f, 0.3f, 0.2f, -0.5f, -0.2f};
    const float want2[5] = {0.0f, 0.3f, 0.2f, 0.0f, -0.2f};
    sel_setup(&h, rates2, d2);
    sel_check(&h, d2, want2, "neg_rate_th 0, relu gate off");
    btsp_net_destroy(h.net);
}

/* Stochastic selection: Bernoulli(|e|) draws from the network RNG. */
static void run_stochastic(uint64_t seed, double frac, const float *d, int n_samples, float *plateaus)
{
    hnet h;
    hnet_build(&h, 5, 1, 0, seed);
    OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_STOCHASTIC, 1));
    OK(h.net, btsp_gate_set(h.gh, BTSP_GATE_MAX_POP_FRACTION, frac));
    OK(h.net, btsp_net_finalize(h.net));
    const float rates[5] = {0.5f, 0.5f, 0.5f, 0.5f, 0.5f};
    sel_setup(&h, rates, d);
    for (int s = 0; s < n_samples; s++) {
        hnet_train(&h, SEL_X, SEL_Y);
        memcpy(plateaus + 5 * s, state(h.h, BTSP_VAR_PLATEAU), 5 * sizeof(float));
    }
    btsp_net_destroy(h.net);
}

static void hidden_stochastic(void **state_)
{
    (void)state_;
    enum { N = 4000 };
    static float pa[5 * N], pb[5 * N];
    /* d = (0.3, 0.5, 1, -0.6, 0): selection frequencies 0.3, 0.5, 1, 0.6, 0 with k = n. */
    const float d[5] = {0.3f, 0.5f, 1.0f, -0.6f, 0.0f};
    run_stochastic(42, 1.0, d, N, pa);
    run_stochastic(42, 1.0, d, N, pb);
    assert_memory_equal(pa, pb, sizeof pa); /* same seed, same plateaus */
    int count[5] = {0};
    for (int s = 0; s < N; s++)
        for (int i = 0; i < 5; i++) {
            float p = pa[5 * s + i];
            if (p != 0.0f) {
                count[i]++;
                if (p != d[i])
                    fail_msg("sample %d unit %d: plateau %g is not the state %g", s, i, (double)p, (double)d[i]);
            }
        }
    const double want[5] = {0.3, 0.5, 1.0, 0.6, 0.0};
    for (int i = 0; i < 5; i++) {
        double f = (double)count[i] / N;
        /* binomial sd <= sqrt(0.25 / 4000) = 0.0079; allow 5 sd */
        if (!(fabs(f - want[i]) <= 0.04))
            fail_msg("unit %d selected with frequency %.4f, expected %.2f", i, f, want[i]);
    }
    /* A different seed gives a different sequence. */
    run_stochastic(43, 1.0, d, N, pb);
    assert_true(memcmp(pa, pb, sizeof pa) != 0);

    /* Truncation to k = ceil(0.1 * 5) = 1 keeps the FIRST drawn positive and the LAST drawn
     * negative in index order (section 2.3; section 9 item 4), not the largest:
     * d = (0.5, 1, 0, -1, -0.5): u0 is kept whenever drawn (p 0.5), else u1 (always drawn);
     * u4 is kept whenever drawn (p 0.5), else u3. */
    const float d2[5] = {0.5f, 1.0f, 0.0f, -1.0f, -0.5f};
    run_stochastic(7, 0.1, d2, N, pa);
    int c0 = 0, c1 = 0, c3 = 0, c4 = 0;
    for (int s = 0; s < N; s++) {
        const float *p = pa + 5 * s;
        assert_true((p[0] != 0.0f) + (p[1] != 0.0f) == 1);
        assert_true((p[3] != 0.0f) + (p[4] != 0.0f) == 1);
        c0 += p[0] != 0.0f;
        c1 += p[1] != 0.0f;
        c3 += p[3] != 0.0f;
        c4 += p[4] != 0.0f;
    }
    assert_true(fabs((double)c0 / N - 0.5) <= 0.04 && fabs((double)c1 / N - 0.5) <= 0.04);
    assert_true(fabs((double)c3 / N - 0.5) <= 0.04 && fabs((double)c4 / N - 0.5) <= 0.04);
}

/* ------------------------------------------------------------------------------------------ */
/* Top_Down_Hebbian_Temporal_Contrast_3 on the example net with B learned:
 *   dB = lr clip(a_H (post-backward), 0, 1) x clip(a_out (post-backward) - a_out,fwd, -1, 1),
 * then B >= 0 and every row rescaled to L1 norm 0.8. */
static void topdown_temporal_contrast(void **state_)
{
    (void)state_;
    hnet h;
    hnet_build(&h, 3, 1, H_TDTC, 0);
    OK(h.net, btsp_net_finalize(h.net));
    /* B = [0.2 0.1; 0.05 0.05; 1 0.9]: d(0) = clip(B (0.7, 1)) = (0.24, 0.085, 1.6 -> 1),
     * P_H = (0.24, 0.085, 0), nudged a_H = (0.74, 0.685, 0), output change (0.7 - 1.7, 1 - 0.16)
     * = (-1, 0.84):
     *   row 0: B00 = 0.2  + 0.1 * 0.74  * (-1) = 0.126,  B01 = 0.1  + 0.1 * 0.74  * 0.84 = 0.16216
     *   row 1: B10 = 0.05 - 0.0685 < 0 -> 0,              B11 = 0.05 + 0.1 * 0.685 * 0.84 = 0.107540
     *   row 2: unchanged (a_H = 0): (1, 0.9)
     * normalised: row 0 * 0.8 / 0.28816, row 1 -> (0, 0.8), row 2 -> (0.8/1.9, 0.72/1.9). */
    const float B0[6] = {0.2f, 0.1f, 0.05f, 0.05f, 1.0f, 0.9f};
    set_w(h.net, h.w1, EX_W1, 3, 3);
    set_w(h.net, h.w2, EX_W2, 2, 3);
    set_w(h.net, h.b, B0, 3, 2);
    hexp e;
    hexp_compute(&e, EX_W1, EX_W2, B0, 1);
    CLOSE(e.aHn[0], 0.74);
    CLOSE(e.aHn[1], 0.685);
    hnet_train(&h, EX_X, EX_Y);
    double B[6];
    fto_d(B0, B, 6);
    for (int i = 0; i < 3; i++) {
        double l1 = 0;
        for (int j = 0; j < 2; j++) {
            double dj = clipd(e.aOn[j] - e.aO[j], -1, 1);
            double b = B[i * 2 + j] + 0.1 * clipd(e.aHn[i], 0, 1) * dj;
            B[i * 2 + j] = b < 0 ? 0 : b;
            l1 += B[i * 2 + j];
        }
        for (int j = 0; j < 2; j++)
            B[i * 2 + j] *= 0.8 / l1;
    }
    CLOSE(B[0], 0.126 * 0.8 / (0.126 + 0.16216));
    CLOSE(B[2], 0.0);
    CLOSE(B[3], 0.8);
    CLOSE(B[4], 0.8 / 1.9);
    check_matrix(h.b, B, 6, "learned top-down");
    btsp_net_destroy(h.net);
}

/* DendriticLossBias: b += lr * P on the hidden population (lr 0.5), then the bias bound. */
static void dendritic_loss_bias(void **state_)
{
    (void)state_;
    hnet h;
    hnet_build(&h, 5, 1, H_BIAS, 0);
    OK(h.net, btsp_pop_set(h.h, BTSP_POP_BIAS_HI, 0.3));
    OK(h.net, btsp_net_finalize(h.net));
    /* b = (0.1, -0.2, 0.05, 0, 0.2), W1[:, 0] = (0.4, 0.5, 0.1, 0, 0.3): a_H = (0.5, 0.3, 0.15, 0, 0.5)
     * (u3 silent). d = B[:, 0] * a_out,nudged,0 = (0.6, -0.4, 0.2, 0.5, -0.1) * 1.
     * P = (0.6, -0.4, 0.2, 0, -0.1); b + 0.5 P = (0.4 -> bound 0.3, -0.4, 0.15, 0, 0.15). */
    const float b0[5] = {0.1f, -0.2f, 0.05f, 0.0f, 0.2f};
    const float rates[5] = {0.4f, 0.5f, 0.1f, 0.0f, 0.3f};
    const float d[5] = {0.6f, -0.4f, 0.2f, 0.5f, -0.1f};
    sel_setup(&h, rates, d);
    OK(h.net, btsp_pop_set_bias(h.h, b0, 5));
    hnet_train(&h, SEL_X, SEL_Y);
    const double P[5] = {0.6, -0.4, 0.2, 0.0, -0.1};
    const float *Ps = state(h.h, BTSP_VAR_PLATEAU), *b = state(h.h, BTSP_VAR_BIAS);
    for (int i = 0; i < 5; i++) {
        CLOSE(Ps[i], P[i]);
        double want = (double)b0[i] + 0.5 * (double)Ps[i];
        CLOSE(b[i], want > 0.3 ? 0.3 : want);
    }
    CLOSE(b[0], 0.3);
    CLOSE(b[1], -0.4);
    CLOSE(b[4], 0.15);
    btsp_net_destroy(h.net);
}

/* ------------------------------------------------------------------------------------------ */
/* DendriticLoss_6: Input(3) -> H: E(2, dendrite), DendI(2, tau 2) -> Output.E(2), tau 1, T = 2.
 *   x = (1, 0.5, 0.25)
 *   W_E  = [0.5 0.2 0; 0.3 0.4 0.6]      a_E = (0.6, 0.65)
 *   W_DI = [2 1 0.4; 0.2 0.1 0]          I_DI = (2.6, 0.25); tau 2: a_DI(1) = I/2 = (1.3, 0.125),
 *                                         a_DI(2) = 3I/4 = (1.95, 0.1875)
 *   W_O  = [1 0.5; 0.2 0.8]              a_out = (0.925, 0.64)
 *   B    = [1.5 0.5; 0.05 0.05]          top-down B a_out = (1.7075, 0.07825)
 *   Y    = [-0.3 -0.1; -0.005 -0.9]      (DendI -> H.E dendrite, bounds (-inf, 0], sign -1, lr 0.2)
 * Recurrent Y reads a_DI(T - 1) = (1.3, 0.125):
 *   d_fwd = (1.7075 - 0.39 - 0.0125, 0.07825 - 0.0065 - 0.1125) = (1.305, -0.04075)
 *   dY_ij = -0.2 clip(d_i, -1, 1) clip(a_DI(1)_j, 0, 1):
 *     row 0: -0.2 * 1 * (1, 0.125)          -> Y0 = (-0.5, -0.125)
 *     row 1: +0.2 * 0.04075 * (1, 0.125)    -> Y10 = -0.005 + 0.00815 > 0 -> 0, Y11 = -0.89898125 */
typedef struct dnet {
    btsp_net *net;
    btsp_pop *in, *e, *di, *out;
    btsp_proj *we, *wdi, *wo, *b, *y;
    btsp_rule *rule;
} dnet;

static void dnet_build(dnet *d, btsp_direction ydir)
{
    memset(d, 0, sizeof *d);
    btsp_layer *L0, *L1, *L2;
    assert_int_equal(btsp_net_create(&d->net), BTSP_OK);
    btsp_net *net = d->net;
    OK(net, btsp_net_set(net, BTSP_NET_TAU, 1));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 2));
    OK(net, btsp_layer_add(net, "Input", &L0));
    OK(net, btsp_layer_add(net, "H", &L1));
    OK(net, btsp_layer_add(net, "Output", &L2));
    OK(net, btsp_pop_add(L0, "E", 3, &d->in));
    OK(net, btsp_pop_add(L1, "E", 2, &d->e));
    OK(net, btsp_pop_add(L1, "DendI", 2, &d->di));
    OK(net, btsp_pop_add(L2, "E", 2, &d->out));
    OK(net, btsp_pop_set_activation(d->e, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set_activation(d->di, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set_activation(d->out, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set(d->di, BTSP_POP_TAU, 2));
    OK(net, btsp_proj_add(d->in, d->e, BTSP_SOMA, &d->we));
    OK(net, btsp_proj_add(d->in, d->di, BTSP_SOMA, &d->wdi));
    OK(net, btsp_proj_add(d->e, d->out, BTSP_SOMA, &d->wo));
    OK(net, btsp_proj_add(d->out, d->e, BTSP_DEND, &d->b));
    OK(net, btsp_proj_add(d->di, d->e, BTSP_DEND, &d->y));
    OK(net, btsp_proj_set_phase(d->b, BTSP_PHASE_BACKWARD));
    OK(net, btsp_proj_set_phase(d->y, BTSP_PHASE_BACKWARD));
    OK(net, btsp_proj_set_direction(d->y, ydir));
    OK(net, btsp_proj_set_bounds(d->y, -INFINITY, 0.0));
    OK(net, btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS, &d->rule));
    OK(net, btsp_rule_set(d->rule, BTSP_RULE_SIGN, -1));
    OK(net, btsp_rule_set(d->rule, BTSP_RULE_LEARNING_RATE, 0.2));
    OK(net, btsp_proj_set_rule(d->y, d->rule));
    OK(net, btsp_net_finalize(net));
    const float WE[6] = {0.5f, 0.2f, 0.0f, 0.3f, 0.4f, 0.6f};
    const float WDI[6] = {2.0f, 1.0f, 0.4f, 0.2f, 0.1f, 0.0f};
    const float WO[4] = {1.0f, 0.5f, 0.2f, 0.8f};
    const float B[4] = {1.5f, 0.5f, 0.05f, 0.05f};
    const float Y[4] = {-0.3f, -0.1f, -0.005f, -0.9f};
    set_w(net, d->we, WE, 2, 3);
    set_w(net, d->wdi, WDI, 2, 3);
    set_w(net, d->wo, WO, 2, 2);
    set_w(net, d->b, B, 2, 2);
    set_w(net, d->y, Y, 2, 2);
}

static void dendritic_loss(void **state_)
{
    (void)state_;
    const float x[3] = {1.0f, 0.5f, 0.25f}, tgt[2] = {1.0f, 0.0f};
    for (int r = 0; r < 2; r++) {
        btsp_direction dir = r == 0 ? BTSP_DIR_RECURRENT : BTSP_DIR_FORWARD;
        dnet d;
        dnet_build(&d, dir);
        OK(d.net, btsp_net_train_sample(d.net, x, 3, tgt, 2));
        /* DendI rates at the last two forward steps */
        const double aDI1[2] = {1.3, 0.125}, aDI2[2] = {1.95, 0.1875};
        CLOSE(state(d.di, BTSP_VAR_FORWARD_PREV)[0], aDI1[0]);
        CLOSE(state(d.di, BTSP_VAR_FORWARD_ACTIVITY)[1], aDI2[1]);
        const double *aDI = dir == BTSP_DIR_RECURRENT ? aDI1 : aDI2;
        const double td[2] = {1.5 * 0.925 + 0.5 * 0.64, 0.05 * 0.925 + 0.05 * 0.64};
        const double Y0[4] = {-0.3, -0.1, -0.005, -0.9};
        double dfwd[2], Y[4];
        for (int i = 0; i < 2; i++)
            dfwd[i] = td[i] + Y0[i * 2] * aDI[0] + Y0[i * 2 + 1] * aDI[1];
        if (dir == BTSP_DIR_RECURRENT) {
            CLOSE(dfwd[0], 1.305);
            CLOSE(dfwd[1], -0.04075);
        }
        for (int i = 0; i < 2; i++) {
            CLOSE(state(d.e, BTSP_VAR_FORWARD_DEND)[i], dfwd[i]);
            for (int j = 0; j < 2; j++) {
                double y = Y0[i * 2 + j] - 0.2 * clipd(dfwd[i], -1, 1) * clipd(aDI[j], 0, 1);
                Y[i * 2 + j] = y > 0 ? 0 : y;
            }
        }
        if (dir == BTSP_DIR_RECURRENT) {
            CLOSE(Y[0], -0.5);
            CLOSE(Y[1], -0.125);
            CLOSE(Y[2], 0.0);
            CLOSE(Y[3], -0.9 + 0.2 * 0.04075 * 0.125);
        }
        check_matrix(d.y, Y, 4, dir == BTSP_DIR_RECURRENT ? "DendriticLoss (R)" : "DendriticLoss (F)");
        btsp_net_destroy(d.net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Hebb_WeightNorm (forward_only): Input(3) -> H: E(3), I(3); tau 1, T = 3, no backward phase.
 *   x = (1, 0.5, 0.25), W_EX = [1.5 0 0; 0 0.8 0; 0.2 0.2 0.4]: a_E = (1.5, 0.4, 0.4) from step 1
 *   W_IE (E -> I, R, bounds [0, inf), sign +1, lr 0.1, L1 rows 1.5)
 *   W_II (I -> I, R, bounds (-inf, 0], sign -1, lr 0.05, L1 rows 0.7, no autapses)
 * a_I(1) = 0 (recurrent inputs still 0), a_I(2) = relu(W_IE a_E), a_I(3) = relu(W_IE a_E + W_II a_I(2)).
 * Updates use forward rates: post a_I(3), pre = previous-step rates (recurrent): a_E and a_I(2),
 * unclipped (a_E,0 = 1.5 > 1 enters as is). */
static void hebb_weightnorm(void **state_)
{
    (void)state_;
    btsp_net *net;
    btsp_layer *L0, *L1;
    btsp_pop *in, *e, *inh;
    btsp_proj *wex, *wie, *wii;
    btsp_rule *rie, *rii;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    OK(net, btsp_net_set(net, BTSP_NET_TAU, 1));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 3));
    OK(net, btsp_layer_add(net, "Input", &L0));
    OK(net, btsp_layer_add(net, "H", &L1));
    OK(net, btsp_pop_add(L0, "E", 3, &in));
    OK(net, btsp_pop_add(L1, "E", 3, &e));
    OK(net, btsp_pop_add(L1, "I", 3, &inh));
    OK(net, btsp_pop_set_activation(e, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set_activation(inh, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_proj_add(in, e, BTSP_SOMA, &wex));
    OK(net, btsp_proj_add(e, inh, BTSP_SOMA, &wie));
    OK(net, btsp_proj_add(inh, inh, BTSP_SOMA, &wii));
    OK(net, btsp_proj_set_direction(wie, BTSP_DIR_RECURRENT));
    OK(net, btsp_proj_set_direction(wii, BTSP_DIR_RECURRENT));
    OK(net, btsp_proj_set_bounds(wie, 0.0, INFINITY));
    OK(net, btsp_proj_set_bounds(wii, -INFINITY, 0.0));
    OK(net, btsp_proj_set_normalize(wie, 1.5, 0));
    OK(net, btsp_proj_set_normalize(wii, 0.7, 0));
    OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &rie));
    OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &rii));
    double fo;
    OK(net, btsp_rule_get(rie, BTSP_RULE_FORWARD_ONLY, &fo));
    assert_true(fo == 1.0);
    OK(net, btsp_rule_set(rie, BTSP_RULE_LEARNING_RATE, 0.1));
    OK(net, btsp_rule_set(rii, BTSP_RULE_LEARNING_RATE, 0.05));
    OK(net, btsp_rule_set(rii, BTSP_RULE_SIGN, -1));
    OK(net, btsp_proj_set_rule(wie, rie));
    OK(net, btsp_proj_set_rule(wii, rii));
    OK(net, btsp_net_finalize(net));
    const float WEX[9] = {1.5f, 0, 0, 0, 0.8f, 0, 0.2f, 0.2f, 0.4f};
    const float WIE[9] = {0.2f, 0.3f, 0.5f, 0.6f, 0.1f, 0.3f, 0.1f, 0.1f, 0.1f};
    const float WII[9] = {-0.1f, -0.2f, -0.1f, -0.3f, -0.2f, -0.1f, -0.05f, -0.05f, -0.05f};
    set_w(net, wex, WEX, 3, 3);
    set_w(net, wie, WIE, 3, 3);
    set_w(net, wii, WII, 3, 3);
    const float x[3] = {1.0f, 0.5f, 0.25f};
    OK(net, btsp_net_train_sample(net, x, 3, x, 3)); /* the output is H.E; the target is unused */

    /* a_E = (1.5, 0.4, 0.2 + 0.1 + 0.1 = 0.4)
     * a_I(2) = W_IE a_E = (0.3 + 0.12 + 0.2, 0.9 + 0.04 + 0.12, 0.15 + 0.04 + 0.04) = (0.62, 1.06, 0.23)
     * a_I(3) = a_I(2) + W_II a_I(2)
     *        = (0.62 - 0.062 - 0.212 - 0.023, 1.06 - 0.186 - 0.212 - 0.023, 0.23 - 0.031 - 0.053 - 0.0115)
     *        = (0.323, 0.639, 0.1345) */
    const double aE[3] = {1.5, 0.4, 0.4};
    double aI2[3], aI3[3];
    for (int i = 0; i < 3; i++) {
        aI2[i] = 0;
        for (int j = 0; j < 3; j++)
            aI2[i] += (double)WIE[i * 3 + j] * aE[j];
    }
    for (int i = 0; i < 3; i++) {
        aI3[i] = aI2[i];
        for (int j = 0; j < 3; j++)
            aI3[i] += (double)WII[i * 3 + j] * aI2[j];
        aI3[i] = relu(aI3[i]);
    }
    CLOSE(aI2[1], 1.06);
    CLOSE(aI3[0], 0.323);
    CLOSE(aI3[2], 0.1345);
    for (int i = 0; i < 3; i++) {
        CLOSE(state(inh, BTSP_VAR_FORWARD_ACTIVITY)[i], aI3[i]);
        CLOSE(state(inh, BTSP_VAR_FORWARD_PREV)[i], aI2[i]);
    }
    /* W_IE + 0.1 a_I(3) x a_E, then clamp >= 0 and rows to L1 norm 1.5:
     *   row 0: (0.2 + 0.1*0.323*1.5, 0.3 + 0.1*0.323*0.4, 0.5 + 0.1*0.323*0.4) = (0.24845, 0.31292, 0.51292)
     *          * 1.5 / 1.07429
     * W_II - 0.05 a_I(3) x a_I(2), clamp <= 0, diagonal zeroed, rows to L1 norm 0.7:
     *   row 0: (0, -0.2 - 0.05*0.323*1.06, -0.1 - 0.05*0.323*0.23) = (0, -0.217119, -0.10371450)
     *          * 0.7 / 0.32083350 */
    double Wie[9], Wii[9];
    for (int i = 0; i < 3; i++) {
        double l1 = 0, l2 = 0;
        for (int j = 0; j < 3; j++) {
            double a = (double)WIE[i * 3 + j] + 0.1 * aI3[i] * aE[j];
            Wie[i * 3 + j] = a < 0 ? 0 : a;
            l1 += fabs(Wie[i * 3 + j]);
            double b = (double)WII[i * 3 + j] - 0.05 * aI3[i] * aI2[j];
            Wii[i * 3 + j] = (b > 0 || i == j) ? 0 : b;
            l2 += fabs(Wii[i * 3 + j]);
        }
        for (int j = 0; j < 3; j++) {
            Wie[i * 3 + j] *= 1.5 / l1;
            Wii[i * 3 + j] *= 0.7 / l2;
        }
    }
    CLOSE(Wie[0], 0.24845 * 1.5 / (0.24845 + 0.31292 + 0.51292));
    CLOSE(Wii[1], -0.217119 * 0.7 / (0.217119 + 0.1037145));
    check_matrix(wie, Wie, 9, "Hebb E->I");
    check_matrix(wii, Wii, 9, "Hebb I->I");
    btsp_net_destroy(net);
}

/* Hebb_WeightNorm with a backward phase that moves the post rate: Input(3) -> Output(2) with
 * the target gate (onet, tau 1, T = 1), lr 0.25, sign +1, bounds [0, 4], no normalisation.
 *   x = (1, 0.5, 0.25), W = [1.2 0.8 0.8; 0.2 0.4 0.8]: a_fwd = (1.2 + 0.4 + 0.2, 0.2 + 0.2 + 0.2)
 *   = (1.8, 0.6); y = (1, 0): P = (-0.8, -0.6), nudged a = (1.8 - 0.8, 0.6 - 0.6) = (1, 0).
 * dW = 0.25 a_post x x with a_post = a_fwd (forward_only = 1, the default) or the nudged a (0):
 *   forward_only 1: [1.65 1.025 0.9125; 0.35 0.475 0.8375]
 *   forward_only 0: [1.45 0.925 0.8625; 0.2 0.4 0.8] (row 1 silent after the backward phase).
 * The presynaptic input rate is the same in both phases. */
static void hebb_weightnorm_backward(void **state_)
{
    (void)state_;
    const double want[2][6] = {{1.45, 0.925, 0.8625, 0.2, 0.4, 0.8}, {1.65, 1.025, 0.9125, 0.35, 0.475, 0.8375}};
    for (int fo = 0; fo <= 1; fo++) {
        onet o;
        onet_build_rule(&o, BTSP_RULE_HEBB_WEIGHTNORM, 0.25, 0.0, 4.0);
        OK(o.net, btsp_rule_set(o.rule, BTSP_RULE_FORWARD_ONLY, fo));
        OK(o.net, btsp_net_finalize(o.net));
        const float W0[6] = {1.2f, 0.8f, 0.8f, 0.2f, 0.4f, 0.8f};
        set_w(o.net, o.w, W0, 2, 3);
        const float x[3] = {1.0f, 0.5f, 0.25f}, y[2] = {1.0f, 0.0f};
        onet_train(&o, x, y);
        CLOSE(state(o.out, BTSP_VAR_FORWARD_ACTIVITY)[0], 1.8);
        CLOSE(state(o.out, BTSP_VAR_FORWARD_ACTIVITY)[1], 0.6);
        CLOSE(state(o.out, BTSP_VAR_ACTIVITY)[0], 1.0);
        CLOSE(state(o.out, BTSP_VAR_ACTIVITY)[1], 0.0);
        double W[6];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                double post = fo ? (i == 0 ? 1.8 : 0.6) : (i == 0 ? 1.0 : 0.0);
                W[i * 3 + j] = (double)W0[i * 3 + j] + 0.25 * post * x[j];
                CLOSE(W[i * 3 + j], want[fo][i * 3 + j]);
            }
        check_matrix(o.w, W, 6, fo ? "Hebb forward_only 1" : "Hebb forward_only 0");
        btsp_net_destroy(o.net);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(btsp_single_sample),
        cmocka_unit_test(btsp_silent_unit_and_clipping),
        cmocka_unit_test(btsp_adjacent_samples),
        cmocka_unit_test(btsp_clone_past_plateau_row),
        cmocka_unit_test(btsp_w_max),
        cmocka_unit_test(btsp_fixed_point),
        cmocka_unit_test(hidden_dendrite_and_btsp),
        cmocka_unit_test(hidden_relu_gate),
        cmocka_unit_test(hidden_max_pop_fraction),
        cmocka_unit_test(hidden_neg_rate_th),
        cmocka_unit_test(hidden_stochastic),
        cmocka_unit_test(topdown_temporal_contrast),
        cmocka_unit_test(dendritic_loss_bias),
        cmocka_unit_test(dendritic_loss),
        cmocka_unit_test(hebb_weightnorm),
        cmocka_unit_test(hebb_weightnorm_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
