/* Feedback gate API: kinds, parameters (defaults, bounds, any-time changes), attachment rules,
 * and that each parameter actually shapes the plateaus (checked against a reference selection
 * written here). */
#include "test_support.h"
#include "test_nets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static btsp_net *new_net(void)
{
    btsp_net *net = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    return net;
}

static void test_create(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_gate *g = (btsp_gate *)net;
    assert_int_equal(btsp_gate_create(NULL, BTSP_GATE_TARGET, &g), BTSP_E_INVALID_ARG);
    assert_null(g);
    EXPECT_FAIL(net, btsp_gate_create(net, BTSP_GATE_TARGET, NULL), BTSP_E_INVALID_ARG, "btsp_gate_create");
    const int bad[] = {0, 3, -1, 500, 2385};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        g = (btsp_gate *)net;
        EXPECT_FAIL(net, btsp_gate_create(net, (btsp_gate_kind)bad[i], &g), BTSP_E_INVALID_ARG, "gate kind");
        assert_null(g);
    }
    btsp_gate *gd, *gt;
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &gd));
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &gt));
    assert_int_equal(btsp_gate_get_kind(gd), BTSP_GATE_DENDRITIC);
    assert_int_equal(btsp_gate_get_kind(gt), BTSP_GATE_TARGET);
    assert_int_equal((int)btsp_gate_get_kind(NULL), 0);
    assert_int_equal(BTSP_GATE_DENDRITIC, 1);
    assert_int_equal(BTSP_GATE_TARGET, 2);
    assert_int_equal(btsp_gate_set(NULL, BTSP_GATE_STOCHASTIC, 1.0), BTSP_E_INVALID_ARG);
    double v = 2.385;
    assert_int_equal(btsp_gate_get(NULL, BTSP_GATE_STOCHASTIC, &v), BTSP_E_INVALID_ARG);
    assert_true(v == 0.0);
    assert_int_equal(btsp_gate_attach(NULL, NULL), BTSP_E_INVALID_ARG);
    btsp_net_destroy(net);

    tiny_net t;
    assert_int_equal(tiny_create(&t, 9), BTSP_OK);
    g = (btsp_gate *)t.net;
    EXPECT_FAIL(t.net, btsp_gate_create(t.net, BTSP_GATE_DENDRITIC, &g), BTSP_E_STATE, "btsp_gate_create");
    assert_null(g);
    btsp_net_destroy(t.net);
}

static void test_params(void **state)
{
    (void)state;
    static const struct {
        btsp_gate_param p;
        const char *name;
        double dflt;
        double good[3];
        double bad[6];
        size_t n_bad;
    } cases[] = {
        {BTSP_GATE_MAX_POP_FRACTION, "BTSP_GATE_MAX_POP_FRACTION", 1.0, {0.0, 1.0, 0.385},
         {-0.001, 1.001, 2.0, NAN, INFINITY, -INFINITY}, 6},
        {BTSP_GATE_STOCHASTIC, "BTSP_GATE_STOCHASTIC", 0.0, {1.0, 0.0, 1.0}, {0.5, 2.0, -1.0, NAN, INFINITY, 0.999}, 6},
        {BTSP_GATE_NEG_RATE_TH, "BTSP_GATE_NEG_RATE_TH", -INFINITY, {0.125, -INFINITY, -2.385}, {NAN, INFINITY, 1e39, -1e39}, 4},
        {BTSP_GATE_RELU_GATE, "BTSP_GATE_RELU_GATE", 1.0, {0.0, 1.0, 0.0}, {0.5, 2.0, -1.0, NAN, -INFINITY}, 5},
    };
    btsp_net *net = new_net();
    for (int kind = BTSP_GATE_DENDRITIC; kind <= BTSP_GATE_TARGET; kind++) {
        btsp_gate *g;
        EXPECT_OK(net, btsp_gate_create(net, (btsp_gate_kind)kind, &g));
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            double v = 7;
            EXPECT_OK(net, btsp_gate_get(g, cases[c].p, &v));
            if (v != cases[c].dflt)
                fail_msg("%s: default %g, expected %g", cases[c].name, v, cases[c].dflt);
            for (size_t i = 0; i < 3; i++) {
                EXPECT_OK(net, btsp_gate_set(g, cases[c].p, cases[c].good[i]));
                EXPECT_OK(net, btsp_gate_get(g, cases[c].p, &v));
                assert_true(v == cases[c].good[i]);
            }
            for (size_t i = 0; i < cases[c].n_bad; i++) {
                EXPECT_FAIL(net, btsp_gate_set(g, cases[c].p, cases[c].bad[i]), BTSP_E_RANGE, cases[c].name);
                EXPECT_OK(net, btsp_gate_get(g, cases[c].p, &v));
                if (v != cases[c].good[2])
                    fail_msg("%s: %g after refusing %g, expected %g", cases[c].name, v, cases[c].bad[i],
                             cases[c].good[2]);
            }
        }
        const int unknown[] = {499, 504, 0, 400};
        for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
            double v = 2.385;
            EXPECT_FAIL(net, btsp_gate_set(g, (btsp_gate_param)unknown[i], 0.0), BTSP_E_INVALID_ARG, "parameter");
            EXPECT_FAIL(net, btsp_gate_get(g, (btsp_gate_param)unknown[i], &v), BTSP_E_INVALID_ARG, "parameter");
            assert_true(v == 0.0);
        }
        EXPECT_FAIL(net, btsp_gate_get(g, BTSP_GATE_RELU_GATE, NULL), BTSP_E_INVALID_ARG, "btsp_gate_get");
    }
    btsp_net_destroy(net);
}

static void test_attach(void **state)
{
    (void)state;
    btsp_net *net = new_net(), *other = new_net();
    tiny_net t, o; /* t.gate is attached to t.out */
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(other, tiny_build(other, &o));
    btsp_layer *lh;
    btsp_pop *h;
    btsp_proj *q;
    EXPECT_OK(net, btsp_layer_add(net, "H", &lh));
    EXPECT_OK(net, btsp_pop_add(lh, "E", 4, &h));
    EXPECT_OK(net, btsp_proj_add(t.in, h, BTSP_SOMA, &q));
    EXPECT_OK(net, btsp_pop_set(t.out, BTSP_POP_OUTPUT, 1.0));
    btsp_gate *g2;
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &g2));
    EXPECT_FAIL(net, btsp_gate_attach(t.gate, h), BTSP_E_EXISTS, "H.E");         /* gate already used */
    EXPECT_FAIL(net, btsp_gate_attach(g2, t.out), BTSP_E_EXISTS, "Output.E");    /* population has one */
    EXPECT_FAIL(net, btsp_gate_attach(t.gate, t.out), BTSP_E_EXISTS, "already"); /* twice */
    EXPECT_FAIL(net, btsp_gate_attach(g2, NULL), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(net, btsp_gate_attach(g2, o.out), BTSP_E_INVALID_ARG, "another network");
    /* g2 is still free and unattached gates fail finalize; attaching it to h (with a dendrite)
     * makes the network valid. */
    btsp_dend *d;
    EXPECT_OK(net, btsp_pop_dend(h, &d));
    EXPECT_FAIL(net, btsp_net_finalize(net), BTSP_E_STATE, "not attached");
    EXPECT_OK(net, btsp_gate_attach(g2, h));
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_FAIL(net, btsp_gate_attach(g2, h), BTSP_E_STATE, "btsp_gate_attach");
    /* Parameters may change after finalize. */
    EXPECT_OK(net, btsp_gate_set(g2, BTSP_GATE_MAX_POP_FRACTION, 0.25));
    EXPECT_OK(net, btsp_gate_set(t.gate, BTSP_GATE_RELU_GATE, 0.0));
    float x[TINY_IN] = {0.5f, 0.25f, 0.125f, 0.0f, 0.75f}, y[TINY_OUT] = {0.0f, 1.0f, 0.0f};
    EXPECT_OK(net, btsp_net_train_sample(net, x, TINY_IN, y, TINY_OUT));
    btsp_net_destroy(net);
    btsp_net_destroy(other);
}

/* ----------------------------------------------------------------------------------------- */
/* Parameters shape the plateaus                                                             */
/* ----------------------------------------------------------------------------------------- */

#define GH 6

typedef struct gate_net {
    btsp_net *net;
    btsp_pop *h, *out;
    btsp_proj *h_in, *out_h, *hd_out;
    btsp_gate *g;
} gate_net;

/* Input.E (4) -> H.E (GH, relu, dendrite, dendritic gate) -> Out.E (3); Out.E -> H.E dendrite. */
static void gate_net_make(gate_net *n)
{
    btsp_net *net = new_net();
    n->net = net;
    btsp_layer *l0, *l1, *l2;
    btsp_pop *in;
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    EXPECT_OK(net, btsp_net_seed(net, 606));
    EXPECT_OK(net, btsp_layer_add(net, "Input", &l0));
    EXPECT_OK(net, btsp_pop_add(l0, "E", 4, &in));
    EXPECT_OK(net, btsp_layer_add(net, "H", &l1));
    EXPECT_OK(net, btsp_pop_add(l1, "E", GH, &n->h));
    EXPECT_OK(net, btsp_pop_set_activation(n->h, BTSP_ACT_RELU, 0, 0));
    EXPECT_OK(net, btsp_layer_add(net, "Out", &l2));
    EXPECT_OK(net, btsp_pop_add(l2, "E", 3, &n->out));
    EXPECT_OK(net, btsp_proj_add(in, n->h, BTSP_SOMA, &n->h_in));
    EXPECT_OK(net, btsp_proj_add(n->h, n->out, BTSP_SOMA, &n->out_h));
    EXPECT_OK(net, btsp_proj_set_init(n->out_h, BTSP_INIT_CONSTANT, 0.2, 0));
    EXPECT_OK(net, btsp_proj_add(n->out, n->h, BTSP_DEND, &n->hd_out));
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &n->g));
    EXPECT_OK(net, btsp_gate_attach(n->g, n->h));
    EXPECT_OK(net, btsp_net_finalize(net));
    /* Input weights: row i = c_i (unit 3 silent); dendritic weights: rows with signed sums. */
    static const float c[GH] = {0.3f, 0.2f, 0.35f, -0.3f, 0.25f, 0.4f};
    static const float s[GH] = {0.5f, -0.3f, 0.9f, 0.1f, -0.7f, 0.4f};
    float w[GH * 4], wd[GH * 3];
    for (size_t i = 0; i < GH; i++) {
        for (size_t j = 0; j < 4; j++)
            w[i * 4 + j] = c[i];
        wd[i * 3 + 0] = 0.5f * s[i];
        wd[i * 3 + 1] = 0.25f * s[i];
        wd[i * 3 + 2] = 0.25f * s[i];
    }
    EXPECT_OK(net, btsp_proj_set_weights(n->h_in, w, GH, 4));
    EXPECT_OK(net, btsp_proj_set_weights(n->hd_out, wd, GH, 3));
}

/* Reference deterministic plateau selection (see btsp_gate_param). */
static void reference_plateau(const float *d, const float *fwd, double frac, double neg_th, int relu, float *P)
{
    float e[GH];
    int sel[GH] = {0};
    memcpy(e, d, sizeof e);
    if (relu)
        for (size_t i = 0; i < GH; i++)
            if (fwd[i] == 0.0f)
                e[i] = 0.0f;
    size_t k = (size_t)ceil(frac * GH);
    /* Positive: the k largest (ties: lower index). */
    for (size_t r = 0; r < k; r++) {
        int best = -1;
        for (int i = 0; i < GH; i++)
            if (!sel[i] && e[i] > 0.0f && (best < 0 || e[i] > e[best]))
                best = i;
        if (best >= 0)
            sel[best] = 1;
    }
    for (size_t i = 0; i < GH; i++)
        if (neg_th > -INFINITY && fwd[i] <= (float)neg_th)
            e[i] = 0.0f;
    /* Negative: the k most negative (ties: higher index, as the last k of a stable sort). */
    for (size_t r = 0; r < k; r++) {
        int best = -1;
        for (int i = GH - 1; i >= 0; i--)
            if (!sel[i] && e[i] < 0.0f && (best < 0 || e[i] < e[best]))
                best = i;
        if (best >= 0)
            sel[best] = 1;
    }
    for (size_t i = 0; i < GH; i++)
        P[i] = sel[i] ? e[i] : 0.0f;
}

static size_t count_sign(const float *P, int sign)
{
    size_t n = 0;
    for (size_t i = 0; i < GH; i++)
        n += sign > 0 ? P[i] > 0.0f : P[i] < 0.0f;
    return n;
}

static void plateau_case(gate_net *n, double frac, double th, int relu, size_t n_pos, size_t n_neg)
{
    EXPECT_OK(n->net, btsp_gate_set(n->g, BTSP_GATE_MAX_POP_FRACTION, frac));
    EXPECT_OK(n->net, btsp_gate_set(n->g, BTSP_GATE_NEG_RATE_TH, th));
    EXPECT_OK(n->net, btsp_gate_set(n->g, BTSP_GATE_RELU_GATE, relu));
    float x[4] = {0.5f, 0.25f, 0.75f, 1.0f}, y[3] = {1.0f, 0.0f, 0.0f};
    EXPECT_OK(n->net, btsp_net_train_sample(n->net, x, 4, y, 3));
    const float *d, *fwd, *P;
    size_t m;
    EXPECT_OK(n->net, btsp_pop_state(n->h, BTSP_VAR_DEND_STATE, &d, &m));
    EXPECT_OK(n->net, btsp_pop_state(n->h, BTSP_VAR_FORWARD_ACTIVITY, &fwd, &m));
    EXPECT_OK(n->net, btsp_pop_state(n->h, BTSP_VAR_PLATEAU, &P, &m));
    assert_int_equal(m, GH);
    float ref[GH];
    reference_plateau(d, fwd, frac, th, relu, ref);
    for (size_t i = 0; i < GH; i++)
        if (P[i] != ref[i])
            fail_msg("frac %g th %g relu %d: plateau[%zu] = %g, reference %g", frac, th, relu, i, P[i], ref[i]);
    if (count_sign(P, 1) != n_pos || count_sign(P, -1) != n_neg)
        fail_msg("frac %g th %g relu %d: %zu positive and %zu negative plateaus, expected %zu and %zu", frac, th,
                 relu, count_sign(P, 1), count_sign(P, -1), n_pos, n_neg);
}

static void test_params_shape_plateaus(void **state)
{
    (void)state;
    gate_net n;
    gate_net_make(&n);
    /* Candidates: positive d on units 0, 2, 3 (silent), 5; negative on 1, 4. */
    plateau_case(&n, 1.0, -INFINITY, 1, 3, 2);
    plateau_case(&n, 1.0, -INFINITY, 0, 4, 2); /* silent unit 3 now eligible */
    plateau_case(&n, 0.34, -INFINITY, 0, 3, 2); /* k = ceil(2.04) = 3 */
    plateau_case(&n, 0.17, -INFINITY, 1, 2, 2); /* k = 2 */
    plateau_case(&n, 0.1, -INFINITY, 1, 1, 1);  /* k = 1 */
    plateau_case(&n, 0.0, -INFINITY, 1, 0, 0);
    /* Rates: 0.75, 0.5, 0.875, 0, 0.625, 1. A threshold of 0.6 removes unit 1's negative plateau. */
    plateau_case(&n, 1.0, 0.6, 1, 3, 1);
    plateau_case(&n, 1.0, 2.0, 1, 0, 0);

    /* Stochastic selection: reproducible after a state reset (the gate counter restarts). */
    EXPECT_OK(n.net, btsp_gate_set(n.g, BTSP_GATE_STOCHASTIC, 1.0));
    EXPECT_OK(n.net, btsp_gate_set(n.g, BTSP_GATE_MAX_POP_FRACTION, 1.0));
    EXPECT_OK(n.net, btsp_gate_set(n.g, BTSP_GATE_NEG_RATE_TH, -INFINITY));
    EXPECT_OK(n.net, btsp_net_reset(n.net, BTSP_RESET_STATE));
    float x[4] = {0.5f, 0.25f, 0.75f, 1.0f}, y[3] = {1.0f, 0.0f, 0.0f};
    float first[8 * GH], again[8 * GH];
    for (size_t s = 0; s < 8; s++) {
        EXPECT_OK(n.net, btsp_net_train_sample(n.net, x, 4, y, 3));
        EXPECT_OK(n.net, btsp_pop_copy_state(n.h, BTSP_VAR_PLATEAU, first + s * GH, GH));
    }
    EXPECT_OK(n.net, btsp_net_reset(n.net, BTSP_RESET_STATE));
    for (size_t s = 0; s < 8; s++) {
        EXPECT_OK(n.net, btsp_net_train_sample(n.net, x, 4, y, 3));
        EXPECT_OK(n.net, btsp_pop_copy_state(n.h, BTSP_VAR_PLATEAU, again + s * GH, GH));
    }
    assert_true(memcmp(first, again, sizeof first) == 0);
    /* Draws differ between samples: not every sample selects the same units. */
    int varies = 0;
    for (size_t s = 1; s < 8; s++)
        varies |= memcmp(first, first + s * GH, GH * sizeof(float)) != 0;
    assert_true(varies);
    btsp_net_destroy(n.net);
}

static void test_target_gate(void **state)
{
    (void)state;
    tiny_net t;
    assert_int_equal(tiny_create(&t, 123), BTSP_OK);
    btsp_net *net = t.net;
    EXPECT_OK(net, btsp_rule_enable(t.rule, 0)); /* fixed weights */
    float w[TINY_OUT * TINY_IN] = {0.5f, 0.25f, 0.125f, 0.0f, 0.75f, 0.0f, 0.0f, 0.0f,
                                   0.0f, 0.0f, 0.875f, 0.5f, 0.25f, 0.625f, 0.125f};
    EXPECT_OK(net, btsp_proj_set_weights(t.w, w, TINY_OUT, TINY_IN)); /* unit 1 silent */
    float x[TINY_IN] = {0.5f, 0.25f, 0.125f, 0.375f, 0.75f}, y[TINY_OUT] = {0.25f, 1.0f, 0.0f};
    for (int relu = 1; relu >= 0; relu--) {
        EXPECT_OK(net, btsp_gate_set(t.gate, BTSP_GATE_RELU_GATE, relu));
        EXPECT_OK(net, btsp_net_train_sample(net, x, TINY_IN, y, TINY_OUT));
        const float *fwd, *P, *N;
        size_t n;
        EXPECT_OK(net, btsp_pop_state(t.out, BTSP_VAR_FORWARD_ACTIVITY, &fwd, &n));
        EXPECT_OK(net, btsp_pop_state(t.out, BTSP_VAR_PLATEAU, &P, &n));
        EXPECT_OK(net, btsp_pop_state(t.out, BTSP_VAR_NUDGE, &N, &n));
        assert_true(fwd[1] == 0.0f);
        assert_true(fwd[0] > 0.0f && fwd[2] > 0.0f);
        for (size_t i = 0; i < n; i++) {
            float e = y[i] - fwd[i];
            e = e < -1.0f ? -1.0f : (e > 1.0f ? 1.0f : e);
            if (relu && fwd[i] == 0.0f)
                e = 0.0f;
            assert_true(P[i] == e);
            assert_true(N[i] == e);
        }
        assert_true(relu ? P[1] == 0.0f : P[1] == 1.0f);
        assert_true(P[2] < 0.0f);
    }
    btsp_net_destroy(net);
}

/* relu_gate silences exactly the units whose forward rate is 0 (eiann-model.md: a_i^fwd = 0
 * exactly), not every unit at or below 0: with a linear output, a unit driven negative keeps its
 * plateau. Output rates (linear, fixed weights, one input): -0.5 * c, 0, 0.25 * c for the
 * integration factor c = 1 - (1 - 1/2.5)^3 of three leaky steps from u = 0. */
static void test_relu_gate_exact_zero(void **state)
{
    (void)state;
    tiny_net t;
    btsp_net *net = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    assert_int_equal(tiny_build(net, &t), BTSP_OK);
    EXPECT_OK(net, btsp_pop_set_activation(t.out, BTSP_ACT_LINEAR, 0.0, 0.0));
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_OK(net, btsp_rule_enable(t.rule, 0));
    EXPECT_OK(net, btsp_gate_set(t.gate, BTSP_GATE_RELU_GATE, 1.0));
    float w[TINY_OUT * TINY_IN] = {0.5f, 0.0f, 0.0f, 0.0f, 0.0f, /* reads the negative input */
                                   0.0f, 0.0f, 0.0f, 0.0f, 0.0f, /* silent: rate exactly 0 */
                                   0.0f, 0.25f, 0.0f, 0.0f, 0.0f};
    EXPECT_OK(net, btsp_proj_set_weights(t.w, w, TINY_OUT, TINY_IN));
    float x[TINY_IN] = {-1.0f, 1.0f, 0.0f, 0.0f, 0.0f}, y[TINY_OUT] = {0.0f, 1.0f, 0.0f};
    EXPECT_OK(net, btsp_net_train_sample(net, x, TINY_IN, y, TINY_OUT));
    const float *fwd, *P;
    size_t n;
    EXPECT_OK(net, btsp_pop_state(t.out, BTSP_VAR_FORWARD_ACTIVITY, &fwd, &n));
    EXPECT_OK(net, btsp_pop_state(t.out, BTSP_VAR_PLATEAU, &P, &n));
    const double c = 1.0 - pow(1.0 - 1.0 / 2.5, 3.0);
    assert_float_equal(fwd[0], -0.5 * c, 1e-6);
    assert_true(fwd[1] == 0.0f);
    assert_float_equal(fwd[2], 0.25 * c, 1e-6);
    assert_true(P[0] == 0.0f - fwd[0]); /* negative rate: the plateau stays (0.5 c) */
    assert_true(P[1] == 0.0f);          /* exact zero: gated although y - a = 1 */
    assert_true(P[2] == 0.0f - fwd[2]);
    btsp_net_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_gate_exact_zero),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_attach),
        cmocka_unit_test(test_params_shape_plateaus),
        cmocka_unit_test(test_target_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
