/* Allocation-failure injection at every allocation site of a representative build (input, a
 * hidden layer with an excitatory and an inhibitory population, a dendrite-targeting projection
 * that is a transposed clone, a normalize constraint, BTSP and bias rules, dendritic and target
 * gates, monitors), and the rule that nothing is allocated after finalize. */
#include "test_support.h"
#include "test_nets.h"

#include <stdlib.h>
#include <string.h>

enum { N_TRAIN = 3 };

static void train_some(btsp_net *net, size_t n, uint32_t salt)
{
    float X[16 * REP_IN], Y[16 * REP_OUT];
    assert_true(n <= 16);
    test_fill_data(X, Y, n, REP_IN, REP_OUT, salt);
    for (size_t i = 0; i < n; i++)
        EXPECT_OK(net, btsp_net_train_sample(net, X + i * REP_IN, REP_IN, Y + i * REP_OUT, REP_OUT));
}

/* Reference: the same network, built and trained without failures (malloc). */
static btsp_net *reference(void)
{
    rep_net r;
    memset(&r, 0, sizeof r);
    r.seed = 808;
    btsp_status st = rep_build(&r);
    if (st != BTSP_OK)
        fail_msg("reference build: %s (%s)", btsp_status_name(st), btsp_net_errmsg(r.net));
    train_some(r.net, N_TRAIN, 5);
    return r.net;
}

static void check_no_leak(const test_alloc_state *st, size_t fail_at)
{
    if (st->live_bytes != 0 || st->n_alloc != st->n_free)
        fail_msg("fail_at %zu: %zu bytes live, %zu allocations, %zu frees after destroy", fail_at, st->live_bytes,
                 st->n_alloc, st->n_free);
}

/* Run the build with allocation `fail_at` failing. With `retry`, the failed step is run again
 * (the failing allocation has passed) and the build continues, trains and is compared with the
 * reference; without, the network is destroyed at the first failure.
 * Returns 1 if the injected failure was hit, 0 if the whole run needed fewer allocations. */
static int run_once(size_t fail_at, int retry, const btsp_net *ref)
{
    test_alloc_state st;
    memset(&st, 0, sizeof st);
    st.fail_at = fail_at;
    btsp_allocator al = test_allocator(&st);
    rep_net r;
    memset(&r, 0, sizeof r);
    r.alloc = &al;
    r.seed = 808;
    int hit = 0;
    for (size_t i = 0; i < rep_n_steps(); i++) {
        size_t calls_before = st.n_calls;
        btsp_status s = rep_step(&r, i);
        if (s == BTSP_OK) {
            if (!hit && st.n_calls >= fail_at)
                fail_msg("fail_at %zu: step %zu succeeded although its allocation failed", fail_at, i);
            continue;
        }
        if (s != BTSP_E_NOMEM)
            fail_msg("fail_at %zu: step %zu returned %s (%s), expected BTSP_E_NOMEM", fail_at, i, btsp_status_name(s),
                     btsp_net_errmsg(r.net));
        if (hit || !(calls_before < fail_at && st.n_calls >= fail_at))
            fail_msg("fail_at %zu: step %zu returned BTSP_E_NOMEM without the injected failure", fail_at, i);
        hit = 1;
        if (r.net) {
            /* The failure is reported with a message; the phase is unchanged. */
            assert_int_equal(btsp_net_errcode(r.net), BTSP_E_NOMEM);
            assert_true(strlen(btsp_net_errmsg(r.net)) > 0);
            assert_int_equal(btsp_net_is_finalized(r.net), 0);
        }
        if (!retry) {
            btsp_net_destroy(r.net);
            check_no_leak(&st, fail_at);
            return 1;
        }
        s = rep_step(&r, i);
        if (s != BTSP_OK)
            fail_msg("fail_at %zu: retrying step %zu gave %s (%s)", fail_at, i, btsp_status_name(s),
                     btsp_net_errmsg(r.net));
    }
    assert_int_equal(btsp_net_is_finalized(r.net), 1);
    size_t calls = st.n_calls;
    train_some(r.net, N_TRAIN, 5);
    assert_int_equal(st.n_calls, calls); /* training allocates nothing */
    if (!test_nets_equal(r.net, ref))
        fail_msg("fail_at %zu: network after the retried failure differs from the reference", fail_at);
    assert_true(btsp_net_last_loss(r.net) == btsp_net_last_loss(ref));
    /* Monitors recorded the same as in the reference. */
    const float *d1, *d2;
    size_t n1, n2, w1, w2;
    EXPECT_OK(r.net, btsp_monitor_data(r.m_loss, &d1, &n1, &w1, NULL));
    EXPECT_OK(r.net, btsp_monitor_data(r.m_w, &d2, &n2, &w2, NULL));
    assert_int_equal(n1, N_TRAIN);
    assert_int_equal(n2, N_TRAIN);
    assert_true(d1[N_TRAIN - 1] == (float)btsp_net_last_loss(ref));
    {
        const float *w;
        size_t rr, cc;
        btsp_proj *q = NULL;
        EXPECT_OK(ref, btsp_net_find_proj(ref, "OutputE_H1E", &q));
        EXPECT_OK(ref, btsp_proj_weights(q, &w, &rr, &cc));
        assert_int_equal(w2, rr * cc);
        assert_true(memcmp(d2 + (N_TRAIN - 1) * w2, w, w2 * sizeof *w) == 0);
    }
    btsp_net_destroy(r.net);
    check_no_leak(&st, fail_at);
    return hit;
}

static void test_fail_every_allocation(void **state)
{
    (void)state;
    btsp_net *ref = reference();
    size_t fail_at = 1;
    for (;; fail_at++) {
        int hit_abort = run_once(fail_at, 0, ref);
        int hit_retry = run_once(fail_at, 1, ref);
        assert_int_equal(hit_abort, hit_retry);
        if (!hit_retry)
            break; /* the whole build needed fewer than fail_at allocations */
        assert_true(fail_at < 100000);
    }
    /* The build has many allocation sites; make sure the sweep went through them. */
    if (fail_at < 60)
        fail_msg("only %zu allocations in the representative build", fail_at - 1);
    print_message("allocation sites exercised: %zu\n", fail_at - 1);
    btsp_net_destroy(ref);
}

static void test_create_failure(void **state)
{
    (void)state;
    test_alloc_state st;
    memset(&st, 0, sizeof st);
    st.fail_at = 1;
    btsp_allocator al = test_allocator(&st);
    btsp_net *net = (btsp_net *)&st;
    assert_int_equal(btsp_net_create_with_allocator(&al, &net), BTSP_E_NOMEM);
    assert_null(net);
    assert_int_equal(st.n_calls, 1);
    assert_int_equal(st.live_bytes, 0);
    assert_int_equal(st.n_alloc, 0);
}

static void test_no_allocation_after_finalize(void **state)
{
    (void)state;
    test_alloc_state st;
    memset(&st, 0, sizeof st);
    btsp_allocator al = test_allocator(&st);
    rep_net r;
    memset(&r, 0, sizeof r);
    r.alloc = &al;
    r.seed = 4711;
    EXPECT_OK(r.net, rep_build(&r));
    btsp_net *net = r.net;
    const size_t calls = st.n_calls;
    const size_t live = st.live_bytes;
    const size_t mem = btsp_net_memory_bytes(net);
    assert_true(calls > 0);

    enum { NE = 150 }; /* several evaluation blocks of 7, the last one partial */
    float *X = malloc(NE * REP_IN * sizeof *X), *Y = malloc(NE * REP_OUT * sizeof *Y);
    float *out = malloc(NE * REP_OUT * sizeof *out);
    assert_non_null(X);
    assert_non_null(Y);
    assert_non_null(out);
    test_fill_data(X, Y, NE, REP_IN, REP_OUT, 13);
    for (size_t i = 0; i < 5; i++)
        EXPECT_OK(net, btsp_net_train_sample(net, X + i * REP_IN, REP_IN, Y + i * REP_OUT, REP_OUT));
    uint32_t order[5] = {9, 3, 140, 3, 77};
    EXPECT_OK(net, btsp_net_train(net, X, Y, NE, REP_IN, REP_OUT, order, 5));
    assert_int_equal(btsp_net_sample_count(net), 10);
    EXPECT_OK(net, btsp_net_evaluate(net, X, NE, REP_IN, out, REP_OUT));
    EXPECT_OK(net, btsp_net_forward(net, X, REP_IN));
    EXPECT_OK(net, btsp_net_reset(net, BTSP_RESET_STATE));
    assert_int_equal(btsp_net_sample_count(net), 0);
    EXPECT_OK(net, btsp_net_reset(net, BTSP_RESET_WEIGHTS | BTSP_RESET_MONITORS));
    EXPECT_OK(net, btsp_net_constrain(net));
    /* Setters, getters and data access allowed after finalize. */
    float w[REP_OUT * REP_HE];
    EXPECT_OK(net, btsp_proj_copy_weights(r.out_hE, w, REP_OUT, REP_HE));
    EXPECT_OK(net, btsp_proj_set_weights(r.out_hE, w, REP_OUT, REP_HE));
    float b[REP_HE] = {0.0625f, -0.125f, 0.1875f, 0.25f, -0.0625f, 0.3125f};
    EXPECT_OK(net, btsp_pop_set_bias(r.hE, b, REP_HE));
    EXPECT_OK(net, btsp_rule_set(r.r_in, BTSP_RULE_LEARNING_RATE, 0.2385));
    EXPECT_OK(net, btsp_gate_set(r.g_h, BTSP_GATE_STOCHASTIC, 1.0));
    EXPECT_OK(net, btsp_proj_set_bounds(r.hE_in, 0.0, 1.0));
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_LEARNING_RATE, 0.02));
    EXPECT_OK(net, btsp_net_seed(net, 5));
    const float *d;
    size_t n, width;
    EXPECT_OK(net, btsp_pop_state(r.hE, BTSP_VAR_DEND_STATE, &d, &n));
    EXPECT_OK(net, btsp_monitor_data(r.m_act, &d, &n, &width, NULL));
    EXPECT_OK(net, btsp_monitor_clear(r.m_act));
    /* Failing calls (messages are formatted into the network's fixed buffer). */
    btsp_layer *l;
    EXPECT_FAIL(net, btsp_layer_add(net, "Late", &l), BTSP_E_STATE, "btsp_layer_add");
    EXPECT_FAIL(net, btsp_net_forward(net, X, REP_IN + 1), BTSP_E_SHAPE, "btsp_net_forward");
    EXPECT_FAIL(net, btsp_net_evaluate(net, X, NE, REP_IN, out, 1), BTSP_E_SHAPE, "btsp_net_evaluate");
    btsp_pop *p;
    EXPECT_FAIL(net, btsp_net_find_pop(net, "Nope.E", &p), BTSP_E_NOT_FOUND, "Nope.E");
    /* Train again after the resets, with the stochastic gate on. */
    EXPECT_OK(net, btsp_net_train(net, X, Y, NE, REP_IN, REP_OUT, NULL, 10));

    if (st.n_calls != calls)
        fail_msg("%zu allocations after finalize", st.n_calls - calls);
    assert_int_equal(st.live_bytes, live);
    assert_int_equal(btsp_net_memory_bytes(net), mem);
    btsp_net_destroy(net);
    assert_int_equal(st.n_calls, calls); /* destroy only frees */
    check_no_leak(&st, 0);
    free(X);
    free(Y);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_failure),
        cmocka_unit_test(test_fail_every_allocation),
        cmocka_unit_test(test_no_allocation_after_finalize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
