/* Monitors: every population variable recorded with the right values at the right stride
 * (compared with btsp_pop_state after each training sample), weight snapshots, the loss,
 * capacity overflow, clearing, argument checks, and that recording never changes learning. */
#include "test_support.h"
#include "test_nets.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_POP_VARS 10 /* BTSP_VAR_ACTIVITY .. BTSP_VAR_BIAS */

typedef struct mon_net {
    rep_net r;
    btsp_monitor *var[N_POP_VARS]; /* on H1.E, stride 1 */
    btsp_monitor *out_plateau;     /* on Output.E, stride 1 */
    btsp_monitor *act3;            /* H1.E activity, stride 3 */
    btsp_monitor *w_all[8];        /* every projection's weights, stride 1 */
    size_t n_w;
} mon_net;

/* The representative network; with `extra`, many more monitors. */
static void mon_make(mon_net *m, uint64_t seed, int extra)
{
    memset(m, 0, sizeof *m);
    m->r.seed = seed;
    size_t last = rep_n_steps() - 1; /* finalize */
    for (size_t i = 0; i < last; i++) {
        btsp_status st = rep_step(&m->r, i);
        if (st != BTSP_OK)
            fail_msg("rep_step %zu: %s (%s)", i, btsp_status_name(st), btsp_net_errmsg(m->r.net));
    }
    btsp_net *net = m->r.net;
    if (extra) {
        for (int v = 0; v < N_POP_VARS; v++)
            EXPECT_OK(net, btsp_monitor_add_pop(m->r.hE, (btsp_var)v, 1, 64, &m->var[v]));
        EXPECT_OK(net, btsp_monitor_add_pop(m->r.out, BTSP_VAR_PLATEAU, 1, 64, &m->out_plateau));
        EXPECT_OK(net, btsp_monitor_add_pop(m->r.hE, BTSP_VAR_ACTIVITY, 3, 64, &m->act3));
        m->n_w = btsp_net_proj_count(net);
        assert_true(m->n_w <= 8);
        for (size_t i = 0; i < m->n_w; i++)
            EXPECT_OK(net, btsp_monitor_add_proj(btsp_net_proj_at(net, i), 1, 64, &m->w_all[i]));
    }
    EXPECT_OK(net, rep_step(&m->r, last));
}

static void get_data(const btsp_monitor *mon, const float **d, size_t *n, size_t *width, const uint64_t **steps)
{
    btsp_status st = btsp_monitor_data(mon, d, n, width, steps);
    if (st != BTSP_OK)
        fail_msg("btsp_monitor_data: %s", btsp_status_name(st));
}

static void test_records_match_state(void **state)
{
    (void)state;
    mon_net m;
    mon_make(&m, 2385, 1);
    btsp_net *net = m.r.net;
    enum { N = 12 };
    float X[N * REP_IN], Y[N * REP_OUT];
    test_fill_data(X, Y, N, REP_IN, REP_OUT, 3);
    const float *d;
    const uint64_t *steps;
    size_t n, width;
    for (int v = 0; v < N_POP_VARS; v++) {
        get_data(m.var[v], &d, &n, &width, &steps);
        assert_int_equal(n, 0);
        assert_int_equal(width, REP_HE);
    }
    int saw_plateau = 0, saw_nudge = 0, saw_dend = 0;
    for (size_t k = 1; k <= N; k++) {
        EXPECT_OK(net, btsp_net_train_sample(net, X + (k - 1) * REP_IN, REP_IN, Y + (k - 1) * REP_OUT, REP_OUT));
        for (int v = 0; v < N_POP_VARS; v++) {
            const float *s;
            size_t ns;
            EXPECT_OK(net, btsp_pop_state(m.r.hE, (btsp_var)v, &s, &ns));
            get_data(m.var[v], &d, &n, &width, &steps);
            assert_int_equal(n, k);
            assert_int_equal(steps[k - 1], k);
            if (memcmp(d + (k - 1) * width, s, ns * sizeof *s) != 0)
                fail_msg("variable %d: record %zu differs from btsp_pop_state", v, k);
            for (size_t i = 0; i < ns; i++) {
                saw_plateau |= v == BTSP_VAR_PLATEAU && s[i] != 0.0f;
                saw_nudge |= v == BTSP_VAR_NUDGE && s[i] != 0.0f;
                saw_dend |= v == BTSP_VAR_DEND_STATE && s[i] != 0.0f;
            }
        }
        const float *s;
        size_t ns;
        EXPECT_OK(net, btsp_pop_state(m.r.out, BTSP_VAR_PLATEAU, &s, &ns));
        get_data(m.out_plateau, &d, &n, &width, &steps);
        assert_int_equal(width, REP_OUT);
        assert_true(memcmp(d + (k - 1) * width, s, ns * sizeof *s) == 0);
        /* Stride 3: records at samples 3, 6, 9, ... */
        get_data(m.act3, &d, &n, &width, &steps);
        assert_int_equal(n, k / 3);
        if (k % 3 == 0) {
            EXPECT_OK(net, btsp_pop_state(m.r.hE, BTSP_VAR_ACTIVITY, &s, &ns));
            assert_int_equal(steps[n - 1], k);
            assert_true(memcmp(d + (n - 1) * width, s, ns * sizeof *s) == 0);
        }
        /* Weight snapshots of every projection. */
        for (size_t i = 0; i < m.n_w; i++) {
            const float *w;
            size_t r, c;
            EXPECT_OK(net, btsp_proj_weights(btsp_net_proj_at(net, i), &w, &r, &c));
            get_data(m.w_all[i], &d, &n, &width, &steps);
            assert_int_equal(width, r * c);
            assert_int_equal(n, k);
            assert_true(memcmp(d + (k - 1) * width, w, width * sizeof *w) == 0);
        }
        /* Loss. */
        get_data(m.r.m_loss, &d, &n, &width, &steps);
        assert_int_equal(width, 1);
        assert_int_equal(n, k);
        assert_true(d[k - 1] == (float)btsp_net_last_loss(net));
        assert_true(btsp_net_last_loss(net) > 0.0);
    }
    /* The network actually produced plateaus and dendritic signals (the records are not trivial). */
    assert_true(saw_plateau && saw_nudge && saw_dend);
    /* Earlier snapshots stay as they were: weights changed over training. */
    get_data(m.r.m_w, &d, &n, &width, &steps);
    assert_int_equal(n, 8);
    assert_int_equal(btsp_monitor_dropped(m.r.m_w), N - 8);
    assert_false(memcmp(d, d + 7 * width, width * sizeof *d) == 0);
    /* evaluate and forward do not record. */
    float out[N * REP_OUT];
    EXPECT_OK(net, btsp_net_evaluate(net, X, N, REP_IN, out, REP_OUT));
    EXPECT_OK(net, btsp_net_forward(net, X, REP_IN));
    get_data(m.var[0], &d, &n, &width, NULL);
    assert_int_equal(n, N);
    btsp_net_destroy(net);
}

static void test_capacity_and_clear(void **state)
{
    (void)state;
    mon_net m;
    mon_make(&m, 7, 0);
    btsp_net *net = m.r.net;
    btsp_monitor *mon = m.r.m_act; /* H1.E activity, stride 2, capacity 5 */
    enum { N = 15 };
    float X[N * REP_IN], Y[N * REP_OUT];
    test_fill_data(X, Y, N, REP_IN, REP_OUT, 21);
    float expect[5 * REP_HE];
    for (size_t k = 1; k <= N; k++) {
        EXPECT_OK(net, btsp_net_train_sample(net, X + (k - 1) * REP_IN, REP_IN, Y + (k - 1) * REP_OUT, REP_OUT));
        if (k % 2 == 0 && k / 2 <= 5)
            EXPECT_OK(net, btsp_pop_copy_state(m.r.hE, BTSP_VAR_ACTIVITY, expect + (k / 2 - 1) * REP_HE, REP_HE));
    }
    const float *d;
    const uint64_t *steps;
    size_t n, width;
    get_data(mon, &d, &n, &width, &steps);
    assert_int_equal(n, 5);
    assert_int_equal(width, REP_HE);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(steps[i], 2 * (i + 1));
    assert_true(memcmp(d, expect, sizeof expect) == 0);
    assert_int_equal(btsp_monitor_dropped(mon), 2); /* samples 12 and 14 */
    /* The loss monitor (capacity 16) has not overflowed. */
    get_data(m.r.m_loss, &d, &n, &width, NULL);
    assert_int_equal(n, N);
    assert_int_equal(btsp_monitor_dropped(m.r.m_loss), 0);

    /* Clear: records restart at the next multiple of the stride of the running count. */
    EXPECT_OK(net, btsp_monitor_clear(mon));
    get_data(mon, &d, &n, &width, &steps);
    assert_int_equal(n, 0);
    assert_int_equal(btsp_monitor_dropped(mon), 0);
    for (size_t k = 0; k < 3; k++)
        EXPECT_OK(net, btsp_net_train_sample(net, X + k * REP_IN, REP_IN, Y + k * REP_OUT, REP_OUT));
    get_data(mon, &d, &n, &width, &steps);
    assert_int_equal(n, 2);
    assert_int_equal(steps[0], 16);
    assert_int_equal(steps[1], 18);
    const float *a;
    size_t na;
    EXPECT_OK(net, btsp_pop_state(m.r.hE, BTSP_VAR_ACTIVITY, &a, &na));
    assert_true(memcmp(d + REP_HE, a, na * sizeof *a) == 0);
    get_data(m.r.m_loss, &d, &n, &width, NULL);
    assert_int_equal(n, 16);
    assert_int_equal(btsp_monitor_dropped(m.r.m_loss), 2);

    /* Reset of monitors empties all of them and keeps the sample count. */
    EXPECT_OK(net, btsp_net_reset(net, BTSP_RESET_MONITORS));
    assert_int_equal(btsp_net_sample_count(net), 18);
    get_data(m.r.m_loss, &d, &n, &width, NULL);
    assert_int_equal(n, 0);
    assert_int_equal(btsp_monitor_dropped(m.r.m_loss), 0);
    get_data(m.r.m_w, &d, &n, &width, NULL);
    assert_int_equal(n, 0);
    /* State reset restarts the sample count: steps restart too. */
    EXPECT_OK(net, btsp_net_reset(net, BTSP_RESET_STATE));
    EXPECT_OK(net, btsp_net_train(net, X, Y, N, REP_IN, REP_OUT, NULL, 2));
    get_data(mon, &d, &n, &width, &steps);
    assert_int_equal(n, 1);
    assert_int_equal(steps[0], 2);
    btsp_net_destroy(net);
}

static void test_invalid_args(void **state)
{
    (void)state;
    mon_net m;
    memset(&m, 0, sizeof m);
    m.r.seed = 1;
    size_t last = rep_n_steps() - 1;
    for (size_t i = 0; i < last; i++)
        assert_int_equal(rep_step(&m.r, i), BTSP_OK);
    btsp_net *net = m.r.net;
    size_t mem = btsp_net_memory_bytes(net);
    btsp_monitor *mon = (btsp_monitor *)net;

    /* NULL handles and out-parameters. */
    assert_int_equal(btsp_monitor_add_pop(NULL, BTSP_VAR_ACTIVITY, 1, 4, &mon), BTSP_E_INVALID_ARG);
    assert_null(mon);
    mon = (btsp_monitor *)net;
    assert_int_equal(btsp_monitor_add_proj(NULL, 1, 4, &mon), BTSP_E_INVALID_ARG);
    assert_null(mon);
    mon = (btsp_monitor *)net;
    assert_int_equal(btsp_monitor_add_loss(NULL, 1, 4, &mon), BTSP_E_INVALID_ARG);
    assert_null(mon);
    EXPECT_FAIL(net, btsp_monitor_add_pop(m.r.hE, BTSP_VAR_ACTIVITY, 1, 4, NULL), BTSP_E_INVALID_ARG,
                "btsp_monitor_add_pop");
    EXPECT_FAIL(net, btsp_monitor_add_proj(m.r.hE_in, 1, 4, NULL), BTSP_E_INVALID_ARG, "btsp_monitor_add_proj");
    EXPECT_FAIL(net, btsp_monitor_add_loss(net, 1, 4, NULL), BTSP_E_INVALID_ARG, "btsp_monitor_add_loss");
    assert_int_equal(btsp_monitor_dropped(NULL), 0);
    assert_int_equal(btsp_monitor_clear(NULL), BTSP_E_INVALID_ARG);
    const float *d = (const float *)net;
    const uint64_t *steps = (const uint64_t *)net;
    size_t n = 9, width = 9;
    assert_int_equal(btsp_monitor_data(NULL, &d, &n, &width, &steps), BTSP_E_INVALID_ARG);
    assert_null(d);
    assert_null(steps);
    assert_int_equal(n, 0);
    assert_int_equal(width, 0);

    /* Variables that are not population variables. */
    const int not_pop[] = {BTSP_VAR_WEIGHTS, BTSP_VAR_LOSS, -1, 12, 1000};
    for (size_t i = 0; i < sizeof not_pop / sizeof not_pop[0]; i++) {
        mon = (btsp_monitor *)net;
        EXPECT_FAIL(net, btsp_monitor_add_pop(m.r.hE, (btsp_var)not_pop[i], 1, 4, &mon), BTSP_E_INVALID_ARG,
                    "not a population variable");
        assert_null(mon);
    }
    /* Dendritic variables of a population without a dendrite: accepted when added (the
     * dendrite may come later, with a dendritic projection), refused at finalize; adding the
     * dendrite then lets finalize succeed. */
    {
        btsp_net *t = NULL;
        tiny_net tn;
        assert_int_equal(btsp_net_create(&t), BTSP_OK);
        assert_int_equal(tiny_build(t, &tn), BTSP_OK);
        btsp_monitor *dm = NULL;
        EXPECT_OK(t, btsp_monitor_add_pop(tn.out, BTSP_VAR_FORWARD_DEND, 1, 4, &dm));
        EXPECT_FAIL(t, btsp_net_finalize(t), BTSP_E_STATE, "Output.E");
        btsp_dend *dd;
        EXPECT_OK(t, btsp_pop_dend(tn.out, &dd));
        EXPECT_OK(t, btsp_net_finalize(t));
        btsp_net_destroy(t);
    }
    /* Stride and capacity. */
    EXPECT_FAIL(net, btsp_monitor_add_pop(m.r.hE, BTSP_VAR_ACTIVITY, 0, 4, &mon), BTSP_E_RANGE, "stride");
    EXPECT_FAIL(net, btsp_monitor_add_pop(m.r.hE, BTSP_VAR_ACTIVITY, 1, 0, &mon), BTSP_E_RANGE, "capacity");
    EXPECT_FAIL(net, btsp_monitor_add_pop(m.r.hE, BTSP_VAR_ACTIVITY, 1, SIZE_MAX, &mon), BTSP_E_RANGE, "capacity");
    EXPECT_FAIL(net, btsp_monitor_add_pop(m.r.hE, BTSP_VAR_ACTIVITY, 1, SIZE_MAX / 8, &mon), BTSP_E_RANGE,
                "capacity");
    EXPECT_FAIL(net, btsp_monitor_add_proj(m.r.hE_in, 0, 4, &mon), BTSP_E_RANGE, "stride");
    EXPECT_FAIL(net, btsp_monitor_add_proj(m.r.hE_in, 1, 0, &mon), BTSP_E_RANGE, "capacity");
    EXPECT_FAIL(net, btsp_monitor_add_proj(m.r.hE_in, 1, SIZE_MAX / 64, &mon), BTSP_E_RANGE, "capacity");
    EXPECT_FAIL(net, btsp_monitor_add_loss(net, 0, 4, &mon), BTSP_E_RANGE, "stride");
    EXPECT_FAIL(net, btsp_monitor_add_loss(net, 1, 0, &mon), BTSP_E_RANGE, "capacity");
    assert_null(mon);
    assert_int_equal(btsp_net_memory_bytes(net), mem); /* nothing was created */

    /* Data before finalize. */
    btsp_monitor *ok;
    EXPECT_OK(net, btsp_monitor_add_pop(m.r.hE, BTSP_VAR_DEND_STATE, UINT32_MAX, 1, &ok));
    EXPECT_FAIL(net, btsp_monitor_data(ok, &d, &n, &width, NULL), BTSP_E_STATE, "btsp_monitor_data");
    assert_null(d);

    EXPECT_OK(net, rep_step(&m.r, last));
    /* After finalize: no new monitors. */
    mon = (btsp_monitor *)net;
    EXPECT_FAIL(net, btsp_monitor_add_pop(m.r.hE, BTSP_VAR_ACTIVITY, 1, 4, &mon), BTSP_E_STATE, "finalize");
    assert_null(mon);
    mon = (btsp_monitor *)net;
    EXPECT_FAIL(net, btsp_monitor_add_proj(m.r.hE_in, 1, 4, &mon), BTSP_E_STATE, "finalize");
    assert_null(mon);
    mon = (btsp_monitor *)net;
    EXPECT_FAIL(net, btsp_monitor_add_loss(net, 1, 4, &mon), BTSP_E_STATE, "finalize");
    assert_null(mon);
    /* NULL out-parameters of btsp_monitor_data; steps is optional. */
    EXPECT_FAIL(net, btsp_monitor_data(ok, NULL, &n, &width, NULL), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(net, btsp_monitor_data(ok, &d, NULL, &width, NULL), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(net, btsp_monitor_data(ok, &d, &n, NULL, NULL), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_OK(net, btsp_monitor_data(ok, &d, &n, &width, NULL));
    assert_non_null(d);
    assert_int_equal(n, 0);
    assert_int_equal(width, REP_HE);
    /* Stride UINT32_MAX: nothing recorded in a short run. */
    float X[4 * REP_IN], Y[4 * REP_OUT];
    test_fill_data(X, Y, 4, REP_IN, REP_OUT, 9);
    EXPECT_OK(net, btsp_net_train(net, X, Y, 4, REP_IN, REP_OUT, NULL, 4));
    EXPECT_OK(net, btsp_monitor_data(ok, &d, &n, &width, NULL));
    assert_int_equal(n, 0);
    assert_int_equal(btsp_monitor_dropped(ok), 0);
    btsp_net_destroy(net);
}

static void test_recording_does_not_change_learning(void **state)
{
    (void)state;
    mon_net a, b;
    mon_make(&a, 99, 1); /* many monitors */
    mon_make(&b, 99, 0);
    assert_true(test_nets_equal(a.r.net, b.r.net));
    enum { N = 20 };
    float X[N * REP_IN], Y[N * REP_OUT];
    test_fill_data(X, Y, N, REP_IN, REP_OUT, 42);
    /* Half sample by sample, half through btsp_net_train. */
    for (size_t k = 0; k < N / 2; k++) {
        EXPECT_OK(a.r.net, btsp_net_train_sample(a.r.net, X + k * REP_IN, REP_IN, Y + k * REP_OUT, REP_OUT));
        EXPECT_OK(b.r.net, btsp_net_train_sample(b.r.net, X + k * REP_IN, REP_IN, Y + k * REP_OUT, REP_OUT));
    }
    uint32_t order[N / 2];
    for (size_t k = 0; k < N / 2; k++)
        order[k] = (uint32_t)(N / 2 + (k * 7) % (N / 2));
    EXPECT_OK(a.r.net, btsp_net_train(a.r.net, X, Y, N, REP_IN, REP_OUT, order, N / 2));
    EXPECT_OK(b.r.net, btsp_net_train(b.r.net, X, Y, N, REP_IN, REP_OUT, order, N / 2));
    assert_int_equal(btsp_net_sample_count(a.r.net), N);
    assert_true(test_nets_equal(a.r.net, b.r.net));
    assert_true(btsp_net_last_loss(a.r.net) == btsp_net_last_loss(b.r.net));
    for (size_t i = 0; i < btsp_net_pop_count(a.r.net); i++) {
        float sa[16], sb[16];
        btsp_pop *pa = btsp_net_pop_at(a.r.net, i), *pb = btsp_net_pop_at(b.r.net, i);
        size_t n = btsp_pop_size(pa);
        assert_true(n <= 16);
        EXPECT_OK(a.r.net, btsp_pop_copy_state(pa, BTSP_VAR_ACTIVITY, sa, n));
        EXPECT_OK(b.r.net, btsp_pop_copy_state(pb, BTSP_VAR_ACTIVITY, sb, n));
        assert_true(memcmp(sa, sb, n * sizeof *sa) == 0);
    }
    /* And the learning was real. */
    mon_net c;
    mon_make(&c, 99, 0);
    assert_false(test_nets_equal(a.r.net, c.r.net));
    btsp_net_destroy(a.r.net);
    btsp_net_destroy(b.r.net);
    btsp_net_destroy(c.r.net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_match_state),
        cmocka_unit_test(test_capacity_and_clear),
        cmocka_unit_test(test_invalid_args),
        cmocka_unit_test(test_recording_does_not_change_learning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
