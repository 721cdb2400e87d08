/* Plasticity rule API: creation (unknown and unimplemented kinds), kind names, the parameters
 * each kind accepts with their bounds and defaults, the learning-rate fallback to the network's,
 * enabling/freezing and changing parameters after finalize. */
#include "test_support.h"
#include "test_nets.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static btsp_net *new_net(void)
{
    btsp_net *net = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    return net;
}

/* The pinned kind numbers and EIANN names (every kind is implemented in this version). */
static const struct {
    btsp_rule_kind kind;
    const char *name; /* the EIANN class name documented in the header */
} kinds[] = {
    {BTSP_RULE_BTSP, "BTSP_19"},
    {BTSP_RULE_DENDRITIC_LOSS, "DendriticLoss_6"},
    {BTSP_RULE_HEBB_WEIGHTNORM, "Hebb_WeightNorm"},
    {BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST, "Top_Down_Hebbian_Temporal_Contrast_3"},
    {BTSP_RULE_DENDRITIC_LOSS_BIAS, "DendriticLossBias"},
    {BTSP_RULE_BACKPROP, "Backprop"},
    {BTSP_RULE_BACKPROP_BIAS, "BackpropBias"},
    {BTSP_RULE_DTP_2E, "BP_like_2E"},
    {BTSP_RULE_DTP_2L, "BP_like_2L"},
    {BTSP_RULE_TOP_LAYER_DTP, "Top_Layer_BP_like_2L"},
    {BTSP_RULE_HEBB_TEMPORAL_CONTRAST, "Hebbian_Temporal_Contrast"},
    {BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1, "Top_Down_Hebbian_Temporal_Contrast_1"},
    {BTSP_RULE_SUPERVISED_BCM, "Supervised_BCM_4"},
    {BTSP_RULE_HEBB_WEIGHTNORM_4, "Hebb_WeightNorm_4"},
    {BTSP_RULE_OJA, "Ojas_rule"},
    {BTSP_RULE_BACKPROP_DENDRITIC_LOSS, "Backprop_DendriticLoss"},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static void test_kind_numbers(void **state)
{
    (void)state;
    static const int pinned[] = {1, 2, 3, 4, 5, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
    assert_int_equal(N_KINDS, 16);
    for (size_t i = 0; i < N_KINDS; i++)
        assert_int_equal((int)kinds[i].kind, pinned[i]);
}

static void test_kind_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_KINDS; i++) {
        const char *name = btsp_rule_kind_name(kinds[i].kind);
        assert_non_null(name);
        assert_true(strlen(name) > 0);
        assert_string_equal(name, kinds[i].name);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(name, btsp_rule_kind_name(kinds[j].kind));
        btsp_rule_kind k = (btsp_rule_kind)12345;
        assert_int_equal(btsp_rule_kind_from_name(name, &k), BTSP_OK);
        assert_int_equal(k, kinds[i].kind);
    }
    const int unknown[] = {0, -1, 6, 19, 31, 100, 2385};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_null(btsp_rule_kind_name((btsp_rule_kind)unknown[i]));
    const char *bad[] = {"", "btsp_19", "BTSP_19 ", "BTSP", "Hebb", "Ojas_rule_2", "DendriticLoss"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        btsp_rule_kind k = BTSP_RULE_BTSP;
        assert_int_equal(btsp_rule_kind_from_name(bad[i], &k), BTSP_E_NOT_FOUND);
        assert_int_equal((int)k, 0);
    }
    btsp_rule_kind k = BTSP_RULE_OJA;
    assert_int_equal(btsp_rule_kind_from_name(NULL, &k), BTSP_E_INVALID_ARG);
    assert_int_equal((int)k, 0);
    assert_int_equal(btsp_rule_kind_from_name("BTSP_19", NULL), BTSP_E_INVALID_ARG);
}

static void test_create(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_rule *r = (btsp_rule *)net;
    assert_int_equal(btsp_rule_create(NULL, BTSP_RULE_BTSP, &r), BTSP_E_INVALID_ARG);
    assert_null(r);
    EXPECT_FAIL(net, btsp_rule_create(net, BTSP_RULE_BTSP, NULL), BTSP_E_INVALID_ARG, "btsp_rule_create");
    const int unknown[] = {0, -1, 6, 19, 31, 2385};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", unknown[i]);
        r = (btsp_rule *)net;
        EXPECT_FAIL(net, btsp_rule_create(net, (btsp_rule_kind)unknown[i], &r), BTSP_E_INVALID_ARG, num);
        assert_null(r);
    }
    size_t mem = btsp_net_memory_bytes(net);
    for (size_t i = 0; i < N_KINDS; i++) {
        r = (btsp_rule *)net;
        EXPECT_OK(net, btsp_rule_create(net, kinds[i].kind, &r));
        assert_non_null(r);
        assert_int_equal(btsp_rule_get_kind(r), kinds[i].kind);
    }
    assert_true(btsp_net_memory_bytes(net) > mem);
    assert_int_equal((int)btsp_rule_get_kind(NULL), 0);
    assert_int_equal(btsp_rule_set(NULL, BTSP_RULE_LEARNING_RATE, 0.5), BTSP_E_INVALID_ARG);
    double v = 2.385;
    assert_int_equal(btsp_rule_get(NULL, BTSP_RULE_LEARNING_RATE, &v), BTSP_E_INVALID_ARG);
    assert_true(v == 0.0);
    assert_int_equal(btsp_rule_enable(NULL, 1), BTSP_E_INVALID_ARG);
    btsp_net_destroy(net);

    /* After finalize: refused. */
    tiny_net t;
    assert_int_equal(tiny_create(&t, 1), BTSP_OK);
    r = (btsp_rule *)t.net;
    EXPECT_FAIL(t.net, btsp_rule_create(t.net, BTSP_RULE_HEBB_WEIGHTNORM, &r), BTSP_E_STATE, "btsp_rule_create");
    assert_null(r);
    btsp_net_destroy(t.net);
}

/* Which parameters each kind accepts (as documented for ::btsp_rule_param). */
static int accepts(btsp_rule_kind k, btsp_rule_param p)
{
    switch (p) {
    case BTSP_RULE_LEARNING_RATE: return 1;
    case BTSP_RULE_SIGN:
        return k == BTSP_RULE_DENDRITIC_LOSS || k == BTSP_RULE_HEBB_WEIGHTNORM || k == BTSP_RULE_HEBB_WEIGHTNORM_4 ||
               k == BTSP_RULE_SUPERVISED_BCM;
    case BTSP_RULE_DEP_RATIO:
    case BTSP_RULE_DEP_TH:
    case BTSP_RULE_DEP_WIDTH:
    case BTSP_RULE_TEMPORAL_DISCOUNT:
    case BTSP_RULE_W_MAX: return k == BTSP_RULE_BTSP;
    case BTSP_RULE_FORWARD_ONLY:
        return k == BTSP_RULE_HEBB_WEIGHTNORM || k == BTSP_RULE_HEBB_WEIGHTNORM_4 || k == BTSP_RULE_DTP_2L ||
               k == BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1 || k == BTSP_RULE_OJA;
    case BTSP_RULE_THETA_TAU:
    case BTSP_RULE_THETA_K: return k == BTSP_RULE_SUPERVISED_BCM;
    case BTSP_RULE_RELU_GATE: return k == BTSP_RULE_HEBB_TEMPORAL_CONTRAST;
    }
    return 0;
}

typedef struct pcase {
    btsp_rule_param p;
    const char *name;
    double dflt;     /* default value (NAN: skip) */
    double good[3];  /* accepted */
    double bad[7];   /* refused with BTSP_E_RANGE */
    size_t n_bad;
} pcase;

static void test_params(void **state)
{
    (void)state;
    const double inf = INFINITY, nan = NAN;
    const pcase cases[] = {
        {BTSP_RULE_LEARNING_RATE, "BTSP_RULE_LEARNING_RATE", 0.01, {0.0, 1e6, 0.0371},
         {-1e-9, 1e6 * 1.01, nan, inf, -inf}, 5},
        {BTSP_RULE_SIGN, "BTSP_RULE_SIGN", 1.0, {1.0, -1.0, -1.0}, {0.0, 0.5, 2.0, -2.0, nan, inf, -inf}, 7},
        {BTSP_RULE_DEP_RATIO, "BTSP_RULE_DEP_RATIO", 1.0, {0.0, 1e6, 2.385}, {-0.001, 1.5e6, nan, inf, -inf}, 5},
        {BTSP_RULE_DEP_TH, "BTSP_RULE_DEP_TH", 0.01, {0.0, 1.0, 0.0385}, {-0.001, 1.001, nan, inf, -inf}, 5},
        {BTSP_RULE_DEP_WIDTH, "BTSP_RULE_DEP_WIDTH", 0.01, {1.0, 1e-6, 0.0215}, {0.0, -0.01, 1.001, nan, inf}, 5},
        {BTSP_RULE_TEMPORAL_DISCOUNT, "BTSP_RULE_TEMPORAL_DISCOUNT", 0.25, {0.0, 1.0, 0.385},
         {-0.01, 1.01, nan, inf, -inf}, 5},
        {BTSP_RULE_FORWARD_ONLY, "BTSP_RULE_FORWARD_ONLY", nan, {0.0, 1.0, 0.0}, {0.5, 2.0, -1.0, nan, inf}, 5},
        {BTSP_RULE_W_MAX, "BTSP_RULE_W_MAX", 2.0, {0.0, 1e6, 1.385}, {-0.5, nan, inf, -inf}, 4},
        {BTSP_RULE_THETA_TAU, "BTSP_RULE_THETA_TAU", 1.0, {1.0, 1e9, 23.85}, {0.999, 0.0, 1.1e9, nan, inf, -inf}, 6},
        {BTSP_RULE_THETA_K, "BTSP_RULE_THETA_K", 1.0, {1e-9, 1e9, 0.385}, {0.0, -1.0, 1.1e9, nan, inf, -inf}, 6},
        {BTSP_RULE_RELU_GATE, "BTSP_RULE_RELU_GATE", 1.0, {0.0, 1.0, 0.0}, {0.5, 2.0, -1.0, nan, inf}, 5},
    };
    const btsp_rule_param all[] = {BTSP_RULE_LEARNING_RATE, BTSP_RULE_SIGN,        BTSP_RULE_DEP_RATIO,
                                   BTSP_RULE_DEP_TH,        BTSP_RULE_DEP_WIDTH,   BTSP_RULE_TEMPORAL_DISCOUNT,
                                   BTSP_RULE_FORWARD_ONLY,  BTSP_RULE_W_MAX,       BTSP_RULE_THETA_TAU,
                                   BTSP_RULE_THETA_K,       BTSP_RULE_RELU_GATE};
    btsp_net *net = new_net();
    for (size_t k = 0; k < N_KINDS; k++) {
        btsp_rule *r;
        EXPECT_OK(net, btsp_rule_create(net, kinds[k].kind, &r));
        /* Refused parameters. */
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
            if (accepts(kinds[k].kind, all[i]))
                continue;
            double v = 2.385;
            EXPECT_FAIL(net, btsp_rule_set(r, all[i], 1.0), BTSP_E_INVALID_ARG, btsp_rule_kind_name(kinds[k].kind));
            EXPECT_FAIL(net, btsp_rule_get(r, all[i], &v), BTSP_E_INVALID_ARG, "btsp_rule_get");
            assert_true(v == 0.0);
        }
        const int unknown[] = {399, 411, 0, 500};
        for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
            double v = 2.385;
            EXPECT_FAIL(net, btsp_rule_set(r, (btsp_rule_param)unknown[i], 0.5), BTSP_E_INVALID_ARG, "parameter");
            EXPECT_FAIL(net, btsp_rule_get(r, (btsp_rule_param)unknown[i], &v), BTSP_E_INVALID_ARG, "parameter");
            assert_true(v == 0.0);
        }
        EXPECT_FAIL(net, btsp_rule_get(r, BTSP_RULE_LEARNING_RATE, NULL), BTSP_E_INVALID_ARG, "btsp_rule_get");
        /* Accepted parameters: defaults, bounds, kept values. */
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            const pcase *pc = &cases[c];
            if (!accepts(kinds[k].kind, pc->p))
                continue;
            double v = -7;
            EXPECT_OK(net, btsp_rule_get(r, pc->p, &v));
            if (pc->p == BTSP_RULE_FORWARD_ONLY)
                assert_true(v == (kinds[k].kind == BTSP_RULE_HEBB_WEIGHTNORM ? 1.0 : 0.0));
            else if (v != pc->dflt)
                fail_msg("%s of %s: default %g, expected %g", pc->name, kinds[k].name, v, pc->dflt);
            for (size_t g = 0; g < 3; g++) {
                EXPECT_OK(net, btsp_rule_set(r, pc->p, pc->good[g]));
                EXPECT_OK(net, btsp_rule_get(r, pc->p, &v));
                assert_true(v == pc->good[g]);
            }
            for (size_t b = 0; b < pc->n_bad; b++) {
                EXPECT_FAIL(net, btsp_rule_set(r, pc->p, pc->bad[b]), BTSP_E_RANGE, pc->name);
                EXPECT_OK(net, btsp_rule_get(r, pc->p, &v));
                if (v != pc->good[2])
                    fail_msg("%s of %s: %g after refusing %g, expected %g", pc->name, kinds[k].name, v, pc->bad[b],
                             pc->good[2]);
            }
        }
    }
    btsp_net_destroy(net);
}

static void test_w_max_default(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    tiny_net t; /* BTSP rule on a projection bounded by [0, 0.875] */
    EXPECT_OK(net, tiny_build(net, &t));
    double v = 0;
    EXPECT_OK(net, btsp_rule_get(t.rule, BTSP_RULE_W_MAX, &v));
    assert_true(v == 0.875);
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, 0.0, INFINITY));
    EXPECT_OK(net, btsp_rule_get(t.rule, BTSP_RULE_W_MAX, &v));
    assert_true(v == 2.0);
    EXPECT_OK(net, btsp_rule_set(t.rule, BTSP_RULE_W_MAX, 1.385));
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, 0.0, 0.625));
    EXPECT_OK(net, btsp_rule_get(t.rule, BTSP_RULE_W_MAX, &v));
    assert_true(v == 1.385);
    btsp_rule *loose;
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_BTSP, &loose));
    EXPECT_OK(net, btsp_rule_get(loose, BTSP_RULE_W_MAX, &v));
    assert_true(v == 2.0);
    btsp_net_destroy(net);
}

/* Input.E (6) -> Output.E (4, linear) with a Hebbian rule (no gate, no backward phase). */
typedef struct hebb_net {
    btsp_net *net;
    btsp_proj *w;
    btsp_rule *r;
} hebb_net;

static void hebb_make(hebb_net *h, double net_lr, double rule_lr, double sign)
{
    h->net = new_net();
    btsp_net *net = h->net;
    btsp_layer *l0, *l1;
    btsp_pop *in, *out;
    EXPECT_OK(net, btsp_net_seed(net, 4242));
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 2.0));
    EXPECT_OK(net, btsp_layer_add(net, "Input", &l0));
    EXPECT_OK(net, btsp_pop_add(l0, "E", 6, &in));
    EXPECT_OK(net, btsp_layer_add(net, "Output", &l1));
    EXPECT_OK(net, btsp_pop_add(l1, "E", 4, &out));
    EXPECT_OK(net, btsp_proj_add(in, out, BTSP_SOMA, &h->w));
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &h->r));
    EXPECT_OK(net, btsp_proj_set_rule(h->w, h->r));
    if (net_lr >= 0)
        EXPECT_OK(net, btsp_net_set(net, BTSP_NET_LEARNING_RATE, net_lr));
    if (rule_lr >= 0)
        EXPECT_OK(net, btsp_rule_set(h->r, BTSP_RULE_LEARNING_RATE, rule_lr));
    EXPECT_OK(net, btsp_rule_set(h->r, BTSP_RULE_SIGN, sign));
}

static void hebb_train(hebb_net *h, size_t n)
{
    float X[8 * 6], Y[8 * 4];
    assert_true(n <= 8);
    test_fill_data(X, Y, n, 6, 4, 77);
    EXPECT_OK(h->net, btsp_net_train(h->net, X, Y, n, 6, 4, NULL, n));
}

static int same_weights(const hebb_net *a, const hebb_net *b)
{
    const float *wa, *wb;
    size_t r, c;
    EXPECT_OK(a->net, btsp_proj_weights(a->w, &wa, &r, &c));
    EXPECT_OK(b->net, btsp_proj_weights(b->w, &wb, &r, &c));
    return memcmp(wa, wb, r * c * sizeof *wa) == 0;
}

static void test_learning_rate_fallback(void **state)
{
    (void)state;
    hebb_net a, b, c, ref;
    hebb_make(&a, 0.0529, -1, 1.0);  /* falls back to the network's rate */
    hebb_make(&b, -1, 0.0529, 1.0);  /* own rate, network default */
    hebb_make(&c, 0.0529, 0.0371, 1.0);
    hebb_make(&ref, -1, -1, 1.0);
    double v = 0;
    EXPECT_OK(a.net, btsp_rule_get(a.r, BTSP_RULE_LEARNING_RATE, &v));
    assert_true(v == 0.0529);
    EXPECT_OK(ref.net, btsp_rule_get(ref.r, BTSP_RULE_LEARNING_RATE, &v));
    assert_true(v == 0.01);
    /* Before finalize the fallback follows the network's rate. */
    EXPECT_OK(ref.net, btsp_net_set(ref.net, BTSP_NET_LEARNING_RATE, 0.0833));
    EXPECT_OK(ref.net, btsp_rule_get(ref.r, BTSP_RULE_LEARNING_RATE, &v));
    assert_true(v == 0.0833);
    EXPECT_OK(c.net, btsp_rule_get(c.r, BTSP_RULE_LEARNING_RATE, &v));
    assert_true(v == 0.0371);
    EXPECT_OK(a.net, btsp_net_finalize(a.net));
    EXPECT_OK(b.net, btsp_net_finalize(b.net));
    EXPECT_OK(c.net, btsp_net_finalize(c.net));
    EXPECT_OK(ref.net, btsp_net_finalize(ref.net));
    assert_true(same_weights(&a, &b) && same_weights(&a, &c));
    /* After finalize the rule keeps the network's rate of finalize time. */
    EXPECT_OK(a.net, btsp_net_set(a.net, BTSP_NET_LEARNING_RATE, 0.5));
    EXPECT_OK(a.net, btsp_rule_get(a.r, BTSP_RULE_LEARNING_RATE, &v));
    assert_true(v == 0.0529);
    hebb_train(&a, 5);
    hebb_train(&b, 5);
    hebb_train(&c, 5);
    assert_true(same_weights(&a, &b));
    assert_false(same_weights(&a, &c));
    /* Any time: a rate of 0 set after finalize freezes learning. */
    const float *w;
    size_t r, k;
    EXPECT_OK(b.net, btsp_rule_set(b.r, BTSP_RULE_LEARNING_RATE, 0.0));
    EXPECT_OK(b.net, btsp_proj_weights(b.w, &w, &r, &k));
    float *before = malloc(r * k * sizeof *before);
    assert_non_null(before);
    memcpy(before, w, r * k * sizeof *w);
    hebb_train(&b, 4);
    assert_true(memcmp(before, w, r * k * sizeof *w) == 0);
    free(before);
    btsp_net_destroy(a.net);
    btsp_net_destroy(b.net);
    btsp_net_destroy(c.net);
    btsp_net_destroy(ref.net);
}

static void test_sign_and_enable(void **state)
{
    (void)state;
    hebb_net p, m;
    hebb_make(&p, -1, 0.0625, 1.0);
    hebb_make(&m, -1, 0.0625, -1.0);
    EXPECT_FAIL(m.net, btsp_rule_set(m.r, BTSP_RULE_SIGN, 0.0), BTSP_E_RANGE, "BTSP_RULE_SIGN");
    EXPECT_OK(p.net, btsp_net_finalize(p.net));
    EXPECT_OK(m.net, btsp_net_finalize(m.net));
    const float *wp, *wm;
    size_t r, c;
    EXPECT_OK(p.net, btsp_proj_weights(p.w, &wp, &r, &c));
    EXPECT_OK(m.net, btsp_proj_weights(m.w, &wm, &r, &c));
    float *w0 = malloc(r * c * sizeof *w0);
    assert_non_null(w0);
    memcpy(w0, wp, r * c * sizeof *w0);
    assert_true(memcmp(wp, wm, r * c * sizeof *wp) == 0);
    hebb_train(&p, 1);
    hebb_train(&m, 1);
    int changed = 0;
    for (size_t i = 0; i < r * c; i++) {
        double dp = (double)wp[i] - w0[i], dm = (double)wm[i] - w0[i];
        assert_true(fabs(dp + dm) <= 1e-6);
        changed += fabs(dp) > 1e-6;
    }
    assert_true(changed > 0);

    /* Frozen rule: no change; enabled again: learning resumes. */
    EXPECT_OK(p.net, btsp_rule_enable(p.r, 0));
    memcpy(w0, wp, r * c * sizeof *w0);
    hebb_train(&p, 3);
    assert_true(memcmp(w0, wp, r * c * sizeof *w0) == 0);
    EXPECT_OK(p.net, btsp_rule_enable(p.r, 7)); /* any non-zero value enables */
    hebb_train(&p, 1);
    assert_false(memcmp(w0, wp, r * c * sizeof *w0) == 0);
    free(w0);
    btsp_net_destroy(p.net);
    btsp_net_destroy(m.net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_numbers),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_w_max_default),
        cmocka_unit_test(test_learning_rate_fallback),
        cmocka_unit_test(test_sign_and_enable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
