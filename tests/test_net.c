/* Network API misuse and lifecycle: creation, NULL handles and out-parameters, phases,
 * parameter bounds, run-call argument checks, the step hook, reset, seeds, memory accounting
 * and look-ups. Every failure must leave the network usable. */
#include "test_support.h"
#include "test_nets.h"

#include "btsp/btsp_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ----------------------------------------------------------------------------------------- */

static float *copy_weights(const btsp_proj *q)
{
    const float *w;
    size_t r, c;
    assert_int_equal(btsp_proj_weights(q, &w, &r, &c), BTSP_OK);
    float *out = malloc(r * c * sizeof *out);
    assert_non_null(out);
    memcpy(out, w, r * c * sizeof *out);
    return out;
}

static int weights_equal(const btsp_proj *q, const float *ref)
{
    const float *w;
    size_t r, c;
    assert_int_equal(btsp_proj_weights(q, &w, &r, &c), BTSP_OK);
    return memcmp(w, ref, r * c * sizeof *w) == 0;
}

/* Train the tiny network on n deterministic samples. */
static void tiny_train(tiny_net *t, size_t n, uint32_t salt)
{
    float X[16 * TINY_IN], Y[16 * TINY_OUT];
    assert_true(n <= 16);
    test_fill_data(X, Y, n, TINY_IN, TINY_OUT, salt);
    for (size_t i = 0; i < n; i++)
        EXPECT_OK(t->net, btsp_net_train_sample(t->net, X + i * TINY_IN, TINY_IN, Y + i * TINY_OUT, TINY_OUT));
}

/* Build the tiny structure into `net`, finalize, train a few samples: the network is usable. */
static void assert_usable(btsp_net *net)
{
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(net, btsp_net_finalize(net));
    float *w0 = copy_weights(t.w);
    tiny_train(&t, 5, 11);
    assert_int_equal(btsp_net_sample_count(net), 5);
    assert_false(weights_equal(t.w, w0)); /* learning happened */
    free(w0);
}

/* An allocator whose alloc always fails. */
static void *failing_alloc(void *user, size_t size)
{
    (void)user;
    (void)size;
    return NULL;
}
static void never_free(void *user, void *ptr)
{
    (void)user;
    (void)ptr;
    fail_msg("free called on an allocator that never allocated");
}

/* ----------------------------------------------------------------------------------------- */
/* Creation                                                                                  */
/* ----------------------------------------------------------------------------------------- */

static void test_create_destroy(void **state)
{
    (void)state;
    btsp_net *net = (btsp_net *)&net; /* non-NULL garbage must be overwritten */
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    assert_non_null(net);
    assert_true(btsp_net_memory_bytes(net) > 0);
    assert_int_equal(btsp_net_errcode(net), BTSP_OK);
    assert_string_equal(btsp_net_errmsg(net), "");
    assert_int_equal(btsp_net_is_finalized(net), 0);
    assert_int_equal(btsp_net_layer_count(net), 0);
    assert_null(btsp_net_input(net));
    assert_null(btsp_net_output(net));
    btsp_net_destroy(net);
    btsp_net_destroy(NULL);
    assert_int_equal(btsp_net_create(NULL), BTSP_E_INVALID_ARG);
}

static void test_create_with_allocator(void **state)
{
    (void)state;
    test_alloc_state st = {0};
    btsp_allocator a = test_allocator(&st);
    btsp_net *net = (btsp_net *)&a;

    assert_int_equal(btsp_net_create_with_allocator(NULL, &net), BTSP_E_INVALID_ARG);
    assert_null(net);
    assert_int_equal(btsp_net_create_with_allocator(&a, NULL), BTSP_E_INVALID_ARG);

    btsp_allocator bad = a;
    bad.alloc = NULL;
    net = (btsp_net *)&a;
    assert_int_equal(btsp_net_create_with_allocator(&bad, &net), BTSP_E_INVALID_ARG);
    assert_null(net);
    bad = a;
    bad.free = NULL;
    net = (btsp_net *)&a;
    assert_int_equal(btsp_net_create_with_allocator(&bad, &net), BTSP_E_INVALID_ARG);
    assert_null(net);
    assert_int_equal(st.n_calls, 0); /* nothing was attempted */

    btsp_allocator never = {failing_alloc, never_free, NULL};
    net = (btsp_net *)&a;
    assert_int_equal(btsp_net_create_with_allocator(&never, &net), BTSP_E_NOMEM);
    assert_null(net);

    /* A valid allocator, copied: clobbering the caller's struct afterwards must not matter. */
    assert_int_equal(btsp_net_create_with_allocator(&a, &net), BTSP_OK);
    assert_non_null(net);
    a.alloc = NULL;
    a.free = NULL;
    assert_int_equal(st.n_alloc, 1);
    assert_true(st.live_bytes >= btsp_net_memory_bytes(net));
    assert_usable(net);
    assert_true(st.n_alloc > 1);
    assert_true(st.live_bytes >= btsp_net_memory_bytes(net));
    btsp_net_destroy(net);
    assert_int_equal(st.live_bytes, 0);
    assert_int_equal(st.n_alloc, st.n_free);
}

/* ----------------------------------------------------------------------------------------- */
/* NULL handles and out-parameters                                                           */
/* ----------------------------------------------------------------------------------------- */

static int hook_never(void *user, btsp_net *net, uint64_t sample)
{
    (void)user;
    (void)net;
    (void)sample;
    return 0;
}

static void test_null_handles(void **state)
{
    (void)state;
    float x[TINY_IN] = {0.25f}, y[TINY_OUT] = {1.0f}, out[TINY_OUT];
    double v = 2.385;
    const char *msg = btsp_net_errmsg(NULL);
    assert_non_null(msg);
    assert_true(strlen(msg) > 0);
    assert_int_equal(btsp_net_errcode(NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_set(NULL, BTSP_NET_TAU, 2.5), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_get(NULL, BTSP_NET_TAU, &v), BTSP_E_INVALID_ARG);
    assert_true(v == 0.0);
    assert_int_equal(btsp_net_seed(NULL, 7), BTSP_E_INVALID_ARG);
    assert_true(btsp_net_get_seed(NULL) == 0);
    assert_int_equal(btsp_net_set_backward(NULL, BTSP_BACKWARD_SETTLE), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_set_step_hook(NULL, hook_never, NULL), BTSP_E_INVALID_ARG);
    btsp_net_set_user_data(NULL, &v);
    assert_null(btsp_net_user_data(NULL));
    assert_int_equal(btsp_net_finalize(NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_is_finalized(NULL), 0);
    assert_int_equal(btsp_net_forward(NULL, x, TINY_IN), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_train_sample(NULL, x, TINY_IN, y, TINY_OUT), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_train(NULL, x, y, 1, TINY_IN, TINY_OUT, NULL, 1), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_evaluate(NULL, x, 1, TINY_IN, out, TINY_OUT), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_evaluate_activity(NULL, x, 1, TINY_IN, NULL, NULL, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_constrain(NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_reset(NULL, BTSP_RESET_STATE), BTSP_E_INVALID_ARG);
    assert_true(btsp_net_sample_count(NULL) == 0);
    assert_true(btsp_net_last_loss(NULL) == 0.0);
    assert_int_equal(btsp_net_memory_bytes(NULL), 0);
    assert_null(btsp_net_input(NULL));
    assert_null(btsp_net_output(NULL));
    assert_int_equal(btsp_net_layer_count(NULL), 0);
    assert_null(btsp_net_layer_at(NULL, 0));
    assert_int_equal(btsp_net_pop_count(NULL), 0);
    assert_null(btsp_net_pop_at(NULL, 0));
    assert_int_equal(btsp_net_proj_count(NULL), 0);
    assert_null(btsp_net_proj_at(NULL, 0));
    btsp_pop *p = (btsp_pop *)&v;
    btsp_proj *q = (btsp_proj *)&v;
    assert_int_equal(btsp_net_find_pop(NULL, "Input.E", &p), BTSP_E_INVALID_ARG);
    assert_null(p);
    assert_int_equal(btsp_net_find_proj(NULL, "OutputE_InputE", &q), BTSP_E_INVALID_ARG);
    assert_null(q);
}

static void test_null_out_params(void **state)
{
    (void)state;
    tiny_net t;
    assert_int_equal(tiny_create(&t, 3), BTSP_OK);
    btsp_net *net = t.net;
    EXPECT_FAIL(net, btsp_net_get(net, BTSP_NET_TAU, NULL), BTSP_E_INVALID_ARG, "btsp_net_get");
    btsp_pop *p = (btsp_pop *)net;
    btsp_proj *q = (btsp_proj *)net;
    EXPECT_FAIL(net, btsp_net_find_pop(net, NULL, &p), BTSP_E_INVALID_ARG, "btsp_net_find_pop");
    assert_null(p);
    EXPECT_FAIL(net, btsp_net_find_pop(net, "Input.E", NULL), BTSP_E_INVALID_ARG, "btsp_net_find_pop");
    EXPECT_FAIL(net, btsp_net_find_proj(net, NULL, &q), BTSP_E_INVALID_ARG, "btsp_net_find_proj");
    assert_null(q);
    EXPECT_FAIL(net, btsp_net_find_proj(net, "OutputE_InputE", NULL), BTSP_E_INVALID_ARG, "btsp_net_find_proj");
    /* NULL data to the run calls. */
    float x[TINY_IN] = {0.5f, 0.25f, 0.125f, 0.0f, 0.75f}, y[TINY_OUT] = {0.0f, 1.0f, 0.0f}, out[TINY_OUT];
    EXPECT_FAIL(net, btsp_net_forward(net, NULL, TINY_IN), BTSP_E_INVALID_ARG, "btsp_net_forward");
    EXPECT_FAIL(net, btsp_net_train_sample(net, NULL, TINY_IN, y, TINY_OUT), BTSP_E_INVALID_ARG,
                "btsp_net_train_sample");
    EXPECT_FAIL(net, btsp_net_train_sample(net, x, TINY_IN, NULL, TINY_OUT), BTSP_E_INVALID_ARG, "target");
    EXPECT_FAIL(net, btsp_net_train(net, NULL, y, 1, TINY_IN, TINY_OUT, NULL, 1), BTSP_E_INVALID_ARG,
                "btsp_net_train");
    EXPECT_FAIL(net, btsp_net_train(net, x, NULL, 1, TINY_IN, TINY_OUT, NULL, 1), BTSP_E_INVALID_ARG,
                "btsp_net_train");
    EXPECT_FAIL(net, btsp_net_evaluate(net, NULL, 1, TINY_IN, out, TINY_OUT), BTSP_E_INVALID_ARG,
                "btsp_net_evaluate");
    EXPECT_FAIL(net, btsp_net_evaluate(net, x, 1, TINY_IN, NULL, TINY_OUT), BTSP_E_INVALID_ARG,
                "btsp_net_evaluate");
    assert_int_equal(btsp_net_sample_count(net), 0);
    tiny_train(&t, 3, 5);
    assert_int_equal(btsp_net_sample_count(net), 3);
    btsp_net_destroy(net);
}

/* ----------------------------------------------------------------------------------------- */
/* Phases                                                                                    */
/* ----------------------------------------------------------------------------------------- */

static void test_structure_after_finalize(void **state)
{
    (void)state;
    tiny_net t;
    assert_int_equal(tiny_create(&t, 41), BTSP_OK);
    btsp_net *net = t.net;
    assert_int_equal(btsp_net_is_finalized(net), 1);
    size_t mem = btsp_net_memory_bytes(net);
    float *w0 = copy_weights(t.w);

    btsp_layer *l = (btsp_layer *)net;
    btsp_pop *p = (btsp_pop *)net;
    btsp_proj *q = (btsp_proj *)net;
    btsp_rule *r = (btsp_rule *)net;
    btsp_gate *g = (btsp_gate *)net;
    btsp_monitor *m = (btsp_monitor *)net;
    EXPECT_FAIL(net, btsp_layer_add(net, "Extra", &l), BTSP_E_STATE, "btsp_layer_add");
    assert_null(l);
    EXPECT_FAIL(net, btsp_pop_add(t.lout, "I", 4, &p), BTSP_E_STATE, "btsp_pop_add");
    assert_null(p);
    EXPECT_FAIL(net, btsp_proj_add(t.out, t.out, BTSP_SOMA, &q), BTSP_E_STATE, "btsp_proj_add");
    assert_null(q);
    EXPECT_FAIL(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &r), BTSP_E_STATE, "btsp_rule_create");
    assert_null(r);
    EXPECT_FAIL(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g), BTSP_E_STATE, "btsp_gate_create");
    assert_null(g);
    EXPECT_FAIL(net, btsp_monitor_add_loss(net, 1, 10, &m), BTSP_E_STATE, "finalize");
    assert_null(m);
    EXPECT_FAIL(net, btsp_net_set_backward(net, BTSP_BACKWARD_SINGLE), BTSP_E_STATE, "btsp_net_set_backward");
    EXPECT_FAIL(net, btsp_net_finalize(net), BTSP_E_STATE, "already finalized");
    EXPECT_FAIL(net, btsp_pop_set_activation(t.out, BTSP_ACT_TANH, 0, 0), BTSP_E_STATE, "btsp_pop_set_activation");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_CONSTANT, 0.5, 0), BTSP_E_STATE, "btsp_proj_set_init");

    /* Before-finalize-only parameters: refused, value kept. */
    static const struct {
        btsp_net_param p;
        double set, expect;
    } fixed[] = {
        {BTSP_NET_TAU, 7.25, 2.5},
        {BTSP_NET_FORWARD_STEPS, 9.0, 3.0},
        {BTSP_NET_BACKWARD_STEPS, 4.0, 1.0},
        {BTSP_NET_EVAL_BLOCK, 17.0, 64.0},
        {BTSP_NET_INIT_RNG, 1.0, 0.0},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        double v = -1.0;
        EXPECT_FAIL(net, btsp_net_set(net, fixed[i].p, fixed[i].set), BTSP_E_STATE, "before finalize");
        assert_int_equal(btsp_net_get(net, fixed[i].p, &v), BTSP_OK);
        assert_true(v == fixed[i].expect);
    }
    /* Any-time parameters still work. */
    double v = 0.0;
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_LEARNING_RATE, 0.0371));
    EXPECT_OK(net, btsp_net_get(net, BTSP_NET_LEARNING_RATE, &v));
    assert_true(v == 0.0371);
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_CHECK_FINITE, 1.0));
    EXPECT_OK(net, btsp_net_seed(net, 999));
    assert_true(btsp_net_get_seed(net) == 999);

    /* Nothing changed: same structure, memory, weights. */
    assert_int_equal(btsp_net_layer_count(net), 2);
    assert_int_equal(btsp_net_pop_count(net), 2);
    assert_int_equal(btsp_net_proj_count(net), 1);
    assert_int_equal(btsp_net_memory_bytes(net), mem);
    assert_true(weights_equal(t.w, w0));
    tiny_train(&t, 4, 9);
    assert_int_equal(btsp_net_sample_count(net), 4);
    free(w0);
    btsp_net_destroy(net);
}

static void test_run_before_finalize(void **state)
{
    (void)state;
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    float x[TINY_IN] = {0.5f, 0.25f, 0.125f, 0.0f, 0.75f}, y[TINY_OUT] = {0.0f, 1.0f, 0.0f};
    float out[TINY_OUT] = {2.385f, 2.385f, 2.385f};
    uint32_t order[1] = {0};
    EXPECT_FAIL(net, btsp_net_forward(net, x, TINY_IN), BTSP_E_STATE, "btsp_net_forward");
    EXPECT_FAIL(net, btsp_net_train_sample(net, x, TINY_IN, y, TINY_OUT), BTSP_E_STATE, "btsp_net_train_sample");
    EXPECT_FAIL(net, btsp_net_train(net, x, y, 1, TINY_IN, TINY_OUT, order, 1), BTSP_E_STATE, "btsp_net_train");
    EXPECT_FAIL(net, btsp_net_evaluate(net, x, 1, TINY_IN, out, TINY_OUT), BTSP_E_STATE, "btsp_net_evaluate");
    EXPECT_FAIL(net, btsp_net_evaluate_activity(net, x, 1, TINY_IN, NULL, NULL, btsp_net_pop_count(net)), BTSP_E_STATE,
                "btsp_net_evaluate_activity");
    assert_true(out[0] == 2.385f && out[2] == 2.385f);
    EXPECT_FAIL(net, btsp_net_constrain(net), BTSP_E_STATE, "btsp_net_constrain");
    EXPECT_FAIL(net, btsp_net_reset(net, BTSP_RESET_STATE), BTSP_E_STATE, "btsp_net_reset");
    /* Wrong-size arguments before finalize still report the phase. */
    EXPECT_FAIL(net, btsp_net_forward(net, x, 99), BTSP_E_STATE, "finalize");
    assert_int_equal(btsp_net_sample_count(net), 0);
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_OK(net, btsp_net_forward(net, x, TINY_IN));
    EXPECT_OK(net, btsp_net_evaluate(net, x, 1, TINY_IN, out, TINY_OUT));
    assert_false(out[0] == 2.385f);
    tiny_train(&t, 2, 3);
    btsp_net_destroy(net);
}

/* ----------------------------------------------------------------------------------------- */
/* Parameters                                                                                */
/* ----------------------------------------------------------------------------------------- */

static void test_param_defaults(void **state)
{
    (void)state;
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    double v = -1;
    assert_int_equal(btsp_net_get(net, BTSP_NET_TAU, &v), BTSP_OK);
    assert_true(v == 1.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_FORWARD_STEPS, &v), BTSP_OK);
    assert_true(v == 1.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_BACKWARD_STEPS, &v), BTSP_OK);
    assert_true(v == 1.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_LEARNING_RATE, &v), BTSP_OK);
    assert_true(v == 0.01);
    assert_int_equal(btsp_net_get(net, BTSP_NET_CHECK_FINITE, &v), BTSP_OK);
    assert_true(v == 0.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_EVAL_BLOCK, &v), BTSP_OK);
    assert_true(v == 64.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_INIT_RNG, &v), BTSP_OK);
    assert_true(v == BTSP_INIT_RNG_COUNTER);
    assert_true(btsp_net_get_seed(net) == 0);
    EXPECT_OK(net, btsp_net_seed(net, UINT64_MAX));
    assert_true(btsp_net_get_seed(net) == UINT64_MAX);
    int cookie = 0;
    btsp_net_set_user_data(net, &cookie);
    assert_ptr_equal(btsp_net_user_data(net), &cookie);
    btsp_net_set_user_data(net, NULL);
    assert_null(btsp_net_user_data(net));
    btsp_net_destroy(net);
}

typedef struct param_case {
    btsp_net_param p;
    const char *name;
    double good;     /* accepted, set first */
    double edges[2]; /* accepted boundary values */
    double bad[8];   /* refused with BTSP_E_RANGE */
    size_t n_bad;
} param_case;

static void test_param_bounds(void **state)
{
    (void)state;
    const double inf = INFINITY, nan = NAN;
    const param_case cases[] = {
        {BTSP_NET_TAU, "BTSP_NET_TAU", 2.385, {1.0, 1e6}, {0.999, 1e6 * 1.0001, -2.385, 0.0, nan, inf, -inf}, 7},
        {BTSP_NET_FORWARD_STEPS,
         "BTSP_NET_FORWARD_STEPS",
         7.0,
         {1.0, 100000.0},
         {0.0, 100001.0, 2.5, -3.0, nan, inf, -inf, 7.000001},
         8},
        {BTSP_NET_BACKWARD_STEPS,
         "BTSP_NET_BACKWARD_STEPS",
         3.0,
         {0.0, 100000.0},
         {-1.0, 100001.0, 0.5, nan, inf, -inf},
         6},
        {BTSP_NET_LEARNING_RATE,
         "BTSP_NET_LEARNING_RATE",
         0.0371,
         {0.0, 1e6},
         {-1e-9, 1e6 + 1.0, nan, inf, -inf},
         5},
        {BTSP_NET_CHECK_FINITE, "BTSP_NET_CHECK_FINITE", 1.0, {0.0, 1.0}, {0.5, 2.0, -1.0, nan, inf, -inf}, 6},
        {BTSP_NET_EVAL_BLOCK,
         "BTSP_NET_EVAL_BLOCK",
         13.0,
         {1.0, 65536.0},
         {0.0, 65537.0, 3.5, -13.0, nan, inf, -inf},
         7},
        {BTSP_NET_INIT_RNG, "BTSP_NET_INIT_RNG", 1.0, {0.0, 1.0}, {2.0, -1.0, 0.5, nan, inf, -inf}, 6},
    };
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const param_case *c = &cases[i];
        double v = -7.0;
        for (size_t e = 0; e < 2; e++) {
            EXPECT_OK(net, btsp_net_set(net, c->p, c->edges[e]));
            assert_int_equal(btsp_net_get(net, c->p, &v), BTSP_OK);
            assert_true(v == c->edges[e]);
        }
        EXPECT_OK(net, btsp_net_set(net, c->p, c->good));
        for (size_t b = 0; b < c->n_bad; b++) {
            EXPECT_FAIL(net, btsp_net_set(net, c->p, c->bad[b]), BTSP_E_RANGE, c->name);
            v = -7.0;
            assert_int_equal(btsp_net_get(net, c->p, &v), BTSP_OK);
            if (v != c->good)
                fail_msg("%s: value %g after refusing %g, expected %g", c->name, v, c->bad[b], c->good);
        }
    }
    /* Unknown parameters. */
    double v = 2.385;
    EXPECT_FAIL(net, btsp_net_set(net, (btsp_net_param)99, 1.0), BTSP_E_INVALID_ARG, "99");
    EXPECT_FAIL(net, btsp_net_set(net, (btsp_net_param)107, 1.0), BTSP_E_INVALID_ARG, "107");
    EXPECT_FAIL(net, btsp_net_set(net, (btsp_net_param)200, 1.0), BTSP_E_INVALID_ARG, "200");
    EXPECT_FAIL(net, btsp_net_get(net, (btsp_net_param)107, &v), BTSP_E_INVALID_ARG, "107");
    assert_true(v == 0.0);
    /* Backward mode: unknown values refused, previous mode kept (checked below: the tiny BTSP
     * network needs a backward phase to finalize). */
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_OUTPUT_ONLY));
    EXPECT_FAIL(net, btsp_net_set_backward(net, (btsp_backward_mode)4), BTSP_E_INVALID_ARG, "4");
    EXPECT_FAIL(net, btsp_net_set_backward(net, (btsp_backward_mode)-1), BTSP_E_INVALID_ARG, "-1");
    /* The network is still usable (tiny_build resets tau, steps and the backward mode). */
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_CHECK_FINITE, 0.0));
    assert_usable(net);
    btsp_net_destroy(net);
}

static void test_backward_mode_kept(void **state)
{
    (void)state;
    /* Build the tiny network by hand without a backward mode, so that only a kept
     * BTSP_BACKWARD_SETTLE lets it finalize. */
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_NONE));
    EXPECT_FAIL(net, btsp_net_finalize(net), BTSP_E_STATE, "backward");
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    EXPECT_FAIL(net, btsp_net_set_backward(net, (btsp_backward_mode)7), BTSP_E_INVALID_ARG, "btsp_net_set_backward");
    EXPECT_OK(net, btsp_net_finalize(net));
    btsp_net_destroy(net);
}

/* ----------------------------------------------------------------------------------------- */
/* Run calls                                                                                 */
/* ----------------------------------------------------------------------------------------- */

static void test_run_wrong_sizes(void **state)
{
    (void)state;
    tiny_net t;
    assert_int_equal(tiny_create(&t, 2385), BTSP_OK);
    btsp_net *net = t.net;
    enum { N = 6 };
    float X[N * TINY_IN], Y[N * TINY_OUT], out[N * TINY_OUT];
    test_fill_data(X, Y, N, TINY_IN, TINY_OUT, 4);
    for (size_t i = 0; i < N * TINY_OUT; i++)
        out[i] = 2.385f;
    float *w0 = copy_weights(t.w);

    EXPECT_FAIL(net, btsp_net_forward(net, X, TINY_IN - 1), BTSP_E_SHAPE, "Input.E");
    EXPECT_FAIL(net, btsp_net_forward(net, X, TINY_IN + 1), BTSP_E_SHAPE, "btsp_net_forward");
    EXPECT_FAIL(net, btsp_net_forward(net, X, 0), BTSP_E_SHAPE, "btsp_net_forward");
    EXPECT_FAIL(net, btsp_net_train_sample(net, X, TINY_IN + 1, Y, TINY_OUT), BTSP_E_SHAPE, "btsp_net_train_sample");
    EXPECT_FAIL(net, btsp_net_train_sample(net, X, TINY_IN, Y, TINY_OUT - 1), BTSP_E_SHAPE, "Output.E");
    EXPECT_FAIL(net, btsp_net_train_sample(net, X, TINY_IN, Y, TINY_IN), BTSP_E_SHAPE, "target");
    EXPECT_FAIL(net, btsp_net_train(net, X, Y, N, TINY_IN - 1, TINY_OUT, NULL, N), BTSP_E_SHAPE, "btsp_net_train");
    EXPECT_FAIL(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT + 1, NULL, N), BTSP_E_SHAPE, "btsp_net_train");
    EXPECT_FAIL(net, btsp_net_evaluate(net, X, N, TINY_IN + 2, out, TINY_OUT), BTSP_E_SHAPE, "btsp_net_evaluate");
    EXPECT_FAIL(net, btsp_net_evaluate(net, X, N, TINY_IN, out, TINY_OUT + 1), BTSP_E_SHAPE, "n_out");

    /* Order with an index out of range, even late in the list: nothing is trained. */
    uint32_t order[5] = {0, 5, 2, 6, 1};
    EXPECT_FAIL(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, order, 5), BTSP_E_RANGE, "order[3] = 6");
    uint32_t huge[2] = {1, UINT32_MAX};
    EXPECT_FAIL(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, huge, 2), BTSP_E_RANGE, "btsp_net_train");
    /* Without order: more samples than rows. */
    EXPECT_FAIL(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, N + 1), BTSP_E_RANGE, "rows");
    EXPECT_FAIL(net, btsp_net_train(net, X, Y, 0, TINY_IN, TINY_OUT, NULL, 1), BTSP_E_RANGE, "btsp_net_train");

    /* Nothing changed. */
    assert_int_equal(btsp_net_sample_count(net), 0);
    assert_true(btsp_net_last_loss(net) == 0.0);
    assert_true(weights_equal(t.w, w0));
    for (size_t i = 0; i < N * TINY_OUT; i++)
        assert_true(out[i] == 2.385f);

    /* Valid calls: an order may repeat rows and needs no n_samples <= n_rows. */
    uint32_t rep[9] = {5, 5, 0, 1, 2, 3, 4, 5, 0};
    EXPECT_OK(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, rep, 9));
    assert_int_equal(btsp_net_sample_count(net), 9);
    assert_false(weights_equal(t.w, w0));
    EXPECT_OK(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, N));
    assert_int_equal(btsp_net_sample_count(net), 9 + N);
    EXPECT_OK(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, 0));
    assert_int_equal(btsp_net_sample_count(net), 9 + N);
    EXPECT_OK(net, btsp_net_evaluate(net, X, N, TINY_IN, out, TINY_OUT));
    for (size_t i = 0; i < N * TINY_OUT; i++)
        assert_false(out[i] == 2.385f);
    /* evaluate agrees with forward, sample by sample. */
    for (size_t s = 0; s < N; s++) {
        const float *a;
        size_t n;
        EXPECT_OK(net, btsp_net_forward(net, X + s * TINY_IN, TINY_IN));
        EXPECT_OK(net, btsp_pop_state(t.out, BTSP_VAR_ACTIVITY, &a, &n));
        assert_int_equal(n, TINY_OUT);
        assert_true(test_max_abs_diff(a, out + s * TINY_OUT, TINY_OUT) <= 1e-6);
    }
    free(w0);
    btsp_net_destroy(net);
}

typedef struct hook_log {
    btsp_net *net;
    uint64_t seen[32];
    size_t calls;
    uint64_t stop_at;
    int verdict; /* returned at stop_at */
} hook_log;

static int hook_record(void *user, btsp_net *net, uint64_t sample)
{
    hook_log *h = user;
    assert_ptr_equal(net, h->net);
    assert_true(h->calls < 32);
    h->seen[h->calls++] = sample;
    assert_int_equal(btsp_net_sample_count(net), sample);
    return sample == h->stop_at ? h->verdict : 0;
}

static void test_step_hook(void **state)
{
    (void)state;
    tiny_net t;
    assert_int_equal(tiny_create(&t, 55), BTSP_OK);
    btsp_net *net = t.net;
    enum { N = 7 };
    float X[N * TINY_IN], Y[N * TINY_OUT];
    test_fill_data(X, Y, N, TINY_IN, TINY_OUT, 8);

    hook_log h = {net, {0}, 0, 3, 5};
    EXPECT_OK(net, btsp_net_set_step_hook(net, hook_record, &h));
    assert_int_equal(btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, N), BTSP_STOPPED);
    assert_int_equal(h.calls, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(h.seen[i], i + 1);
    assert_int_equal(btsp_net_sample_count(net), 3);
    assert_int_equal(btsp_net_errcode(net), BTSP_OK); /* stopping is not an error */

    /* Continue: the hook sees the running count. */
    h.calls = 0;
    h.stop_at = 0;
    EXPECT_OK(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, 4));
    assert_int_equal(h.calls, 4);
    assert_int_equal(h.seen[0], 4);
    assert_int_equal(h.seen[3], 7);
    assert_int_equal(btsp_net_sample_count(net), 7);

    /* Failing hook: negative value after the second sample of this call. */
    h.calls = 0;
    h.stop_at = 9;
    h.verdict = -2;
    EXPECT_FAIL(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, N), BTSP_E_CALLBACK, "hook");
    assert_int_equal(h.calls, 2);
    assert_int_equal(btsp_net_sample_count(net), 9);
    assert_non_null(strstr(btsp_net_errmsg(net), "-2"));

    /* Stop on the very last sample still reports BTSP_STOPPED. */
    h.calls = 0;
    h.stop_at = 11;
    h.verdict = 1;
    assert_int_equal(btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, 2), BTSP_STOPPED);
    assert_int_equal(btsp_net_sample_count(net), 11);

    /* Hook removed: full run, no calls. train_sample never calls the hook. */
    EXPECT_OK(net, btsp_net_set_step_hook(net, NULL, NULL));
    h.calls = 0;
    EXPECT_OK(net, btsp_net_train(net, X, Y, N, TINY_IN, TINY_OUT, NULL, N));
    assert_int_equal(btsp_net_sample_count(net), 11 + N);
    EXPECT_OK(net, btsp_net_set_step_hook(net, hook_record, &h));
    EXPECT_OK(net, btsp_net_train_sample(net, X, TINY_IN, Y, TINY_OUT));
    assert_int_equal(h.calls, 0);
    btsp_net_destroy(net);
}

/* ----------------------------------------------------------------------------------------- */
/* Reset and seeds                                                                           */
/* ----------------------------------------------------------------------------------------- */

static void test_reset_flags(void **state)
{
    (void)state;
    tiny_net t;
    assert_int_equal(tiny_create(&t, 17), BTSP_OK);
    btsp_net *net = t.net;
    tiny_train(&t, 4, 2);
    float *w = copy_weights(t.w);
    double loss = btsp_net_last_loss(net);
    assert_true(loss > 0.0);
    const unsigned bad[] = {0u, 8u, 0xFFu, 1u | 16u, 0x80000000u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_FAIL(net, btsp_net_reset(net, bad[i]), BTSP_E_INVALID_ARG, "btsp_net_reset");
    assert_int_equal(btsp_net_sample_count(net), 4);
    assert_true(btsp_net_last_loss(net) == loss);
    assert_true(weights_equal(t.w, w));

    /* State reset: counter, loss and activities to zero; weights untouched. */
    EXPECT_OK(net, btsp_net_reset(net, BTSP_RESET_STATE));
    assert_int_equal(btsp_net_sample_count(net), 0);
    assert_true(btsp_net_last_loss(net) == 0.0);
    assert_true(weights_equal(t.w, w));
    static const btsp_var vars[] = {BTSP_VAR_ACTIVITY, BTSP_VAR_PREV_ACTIVITY, BTSP_VAR_SOMA_STATE,
                                    BTSP_VAR_FORWARD_ACTIVITY, BTSP_VAR_PLATEAU, BTSP_VAR_NUDGE};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const float *a;
        size_t n;
        EXPECT_OK(net, btsp_pop_state(t.out, vars[i], &a, &n));
        for (size_t k = 0; k < n; k++)
            assert_true(a[k] == 0.0f);
    }
    /* Monitors-only reset keeps the counter. */
    tiny_train(&t, 2, 3);
    EXPECT_OK(net, btsp_net_reset(net, BTSP_RESET_MONITORS));
    assert_int_equal(btsp_net_sample_count(net), 2);
    free(w);
    btsp_net_destroy(net);
}

static void rep_make(rep_net *r, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->seed = seed;
    btsp_status st = rep_build(r);
    if (st != BTSP_OK)
        fail_msg("rep_build: %s (%s)", btsp_status_name(st), btsp_net_errmsg(r->net));
}

static void rep_train(rep_net *r, size_t n, uint32_t salt)
{
    float X[32 * REP_IN], Y[32 * REP_OUT];
    assert_true(n <= 32);
    test_fill_data(X, Y, n, REP_IN, REP_OUT, salt);
    EXPECT_OK(r->net, btsp_net_train(r->net, X, Y, n, REP_IN, REP_OUT, NULL, n));
}

static void test_reset_weights_bitwise(void **state)
{
    (void)state;
    rep_net a, b;
    rep_make(&a, 2385);
    rep_make(&b, 2385);
    assert_true(test_nets_equal(a.net, b.net));
    rep_train(&a, 12, 1);
    assert_false(test_nets_equal(a.net, b.net)); /* training changed the weights */
    EXPECT_OK(a.net, btsp_net_reset(a.net, BTSP_RESET_WEIGHTS));
    assert_true(test_nets_equal(a.net, b.net)); /* identical to a fresh finalize */
    /* With the state reset too, training again follows the fresh network bitwise. */
    EXPECT_OK(a.net, btsp_net_reset(a.net, BTSP_RESET_STATE));
    rep_train(&a, 9, 2);
    rep_train(&b, 9, 2);
    assert_true(test_nets_equal(a.net, b.net));
    /* A new seed before the weight reset gives the weights of a fresh network with that seed. */
    rep_net c;
    rep_make(&c, 77);
    assert_false(test_nets_equal(a.net, c.net));
    EXPECT_OK(a.net, btsp_net_seed(a.net, 77));
    EXPECT_OK(a.net, btsp_net_reset(a.net, BTSP_RESET_WEIGHTS | BTSP_RESET_STATE | BTSP_RESET_MONITORS));
    assert_true(test_nets_equal(a.net, c.net));
    btsp_net_destroy(a.net);
    btsp_net_destroy(b.net);
    btsp_net_destroy(c.net);
}

static void test_seeds(void **state)
{
    (void)state;
    rep_net a, b, c, d;
    rep_make(&a, 12345);
    rep_make(&b, 12345);
    rep_make(&c, 12346);
    rep_make(&d, 0);
    assert_true(test_nets_equal(a.net, b.net));
    assert_false(test_nets_equal(a.net, c.net));
    assert_false(test_nets_equal(a.net, d.net));
    /* Each randomly initialised projection differs, not only one of them. */
    {
        const float *wa, *wc;
        size_t r, k;
        EXPECT_OK(a.net, btsp_proj_weights(a.hE_in, &wa, &r, &k));
        EXPECT_OK(c.net, btsp_proj_weights(c.hE_in, &wc, &r, &k));
        assert_true(memcmp(wa, wc, r * k * sizeof *wa) != 0);
        EXPECT_OK(a.net, btsp_proj_weights(a.out_hE, &wa, &r, &k));
        EXPECT_OK(c.net, btsp_proj_weights(c.out_hE, &wc, &r, &k));
        assert_true(memcmp(wa, wc, r * k * sizeof *wa) != 0);
    }
    rep_train(&a, 20, 6);
    rep_train(&b, 20, 6);
    assert_true(test_nets_equal(a.net, b.net));
    assert_int_equal(btsp_net_sample_count(a.net), 20);
    assert_true(btsp_net_last_loss(a.net) == btsp_net_last_loss(b.net));
    btsp_net_destroy(a.net);
    btsp_net_destroy(b.net);
    btsp_net_destroy(c.net);
    btsp_net_destroy(d.net);
}

/* ----------------------------------------------------------------------------------------- */
/* Memory, look-ups, enumeration                                                             */
/* ----------------------------------------------------------------------------------------- */

static void test_memory_bytes(void **state)
{
    (void)state;
    test_alloc_state st = {0};
    btsp_allocator al = test_allocator(&st);
    btsp_net *net;
    assert_int_equal(btsp_net_create_with_allocator(&al, &net), BTSP_OK);
    size_t m0 = btsp_net_memory_bytes(net);
    assert_true(m0 > 0);
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    size_t m1 = btsp_net_memory_bytes(net);
    assert_true(m1 > m0);
    EXPECT_OK(net, btsp_net_finalize(net));
    size_t m2 = btsp_net_memory_bytes(net);
    /* At least the weights and two activity vectors per population were added. */
    assert_true(m2 >= m1 + (TINY_IN * TINY_OUT + 2 * (TINY_IN + TINY_OUT)) * sizeof(float));
    assert_true(st.live_bytes >= m2);
    tiny_train(&t, 6, 1);
    EXPECT_OK(net, btsp_net_reset(net, BTSP_RESET_WEIGHTS | BTSP_RESET_STATE));
    assert_int_equal(btsp_net_memory_bytes(net), m2);
    btsp_net_destroy(net);
    assert_int_equal(st.live_bytes, 0);
    assert_int_equal(st.n_alloc, st.n_free);
}

static void test_find(void **state)
{
    (void)state;
    rep_net r;
    rep_make(&r, 5);
    btsp_net *net = r.net;
    btsp_pop *p = NULL;
    btsp_proj *q = NULL;
    EXPECT_OK(net, btsp_net_find_pop(net, "Input.E", &p));
    assert_ptr_equal(p, r.in);
    EXPECT_OK(net, btsp_net_find_pop(net, "H1.I", &p));
    assert_ptr_equal(p, r.hI);
    EXPECT_OK(net, btsp_net_find_pop(net, "Output.E", &p));
    assert_ptr_equal(p, r.out);
    const char *bad_pops[] = {"H1", "E", "H1.E ", "h1.e", "H1.X", "Output.E.E", ""};
    for (size_t i = 0; i < sizeof bad_pops / sizeof bad_pops[0]; i++) {
        p = r.in;
        EXPECT_FAIL(net, btsp_net_find_pop(net, bad_pops[i], &p), BTSP_E_NOT_FOUND, bad_pops[i]);
        assert_null(p);
    }
    EXPECT_OK(net, btsp_net_find_proj(net, "H1E_InputE", &q));
    assert_ptr_equal(q, r.hE_in);
    EXPECT_OK(net, btsp_net_find_proj(net, "H1E_OutputE", &q));
    assert_ptr_equal(q, r.hEd_out);
    EXPECT_OK(net, btsp_net_find_proj(net, "H1I_H1E", &q));
    assert_ptr_equal(q, r.hI_hE);
    const char *bad_projs[] = {"InputE_H1E", "H1E_InputI", "H1E-InputE", "H1E_Input.E", ""};
    for (size_t i = 0; i < sizeof bad_projs / sizeof bad_projs[0]; i++) {
        q = r.hE_in;
        EXPECT_FAIL(net, btsp_net_find_proj(net, bad_projs[i], &q), BTSP_E_NOT_FOUND, bad_projs[i]);
        assert_null(q);
    }
    btsp_net_destroy(net);
}

static void test_enumeration(void **state)
{
    (void)state;
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    btsp_layer *l0, *l1, *l2;
    btsp_pop *in, *a, *b, *c, *o;
    EXPECT_OK(net, btsp_layer_add(net, "In", &l0));
    EXPECT_OK(net, btsp_layer_add(net, "Mid", &l1));
    EXPECT_OK(net, btsp_layer_add(net, "Top", &l2));
    /* Populations created out of layer order: enumeration follows the sweep order. */
    EXPECT_OK(net, btsp_pop_add(l2, "O", 3, &o));
    EXPECT_OK(net, btsp_pop_add(l1, "A", 4, &a));
    EXPECT_OK(net, btsp_pop_add(l0, "X", 5, &in));
    EXPECT_OK(net, btsp_pop_add(l1, "B", 2, &b));
    EXPECT_OK(net, btsp_pop_add(l2, "C", 6, &c));
    assert_int_equal(btsp_net_layer_count(net), 3);
    assert_ptr_equal(btsp_net_layer_at(net, 0), l0);
    assert_ptr_equal(btsp_net_layer_at(net, 1), l1);
    assert_ptr_equal(btsp_net_layer_at(net, 2), l2);
    assert_null(btsp_net_layer_at(net, 3));
    assert_null(btsp_net_layer_at(net, SIZE_MAX));
    assert_string_equal(btsp_layer_name(l1), "Mid");
    const btsp_pop *order[] = {in, a, b, o, c};
    assert_int_equal(btsp_net_pop_count(net), 5);
    for (size_t i = 0; i < 5; i++)
        assert_ptr_equal(btsp_net_pop_at(net, i), order[i]);
    assert_null(btsp_net_pop_at(net, 5));
    assert_int_equal(btsp_layer_pop_count(l1), 2);
    assert_ptr_equal(btsp_layer_pop_at(l1, 0), a);
    assert_ptr_equal(btsp_layer_pop_at(l1, 1), b);
    assert_null(btsp_layer_pop_at(l1, 2));
    assert_ptr_equal(btsp_pop_layer(b), l1);
    assert_string_equal(btsp_pop_full_name(b), "Mid.B");
    assert_ptr_equal(btsp_net_input(net), in);
    assert_ptr_equal(btsp_net_output(net), o);
    EXPECT_OK(net, btsp_pop_set(c, BTSP_POP_OUTPUT, 1.0));
    assert_ptr_equal(btsp_net_output(net), c);
    EXPECT_OK(net, btsp_pop_set(b, BTSP_POP_OUTPUT, 1.0)); /* moves the flag */
    assert_ptr_equal(btsp_net_output(net), b);
    double v = -1;
    EXPECT_OK(net, btsp_pop_get(c, BTSP_POP_OUTPUT, &v));
    assert_true(v == 0.0);

    btsp_proj *q0, *q1, *q2;
    EXPECT_OK(net, btsp_proj_add(in, a, BTSP_SOMA, &q0));
    EXPECT_OK(net, btsp_proj_add(a, b, BTSP_SOMA, &q1));
    EXPECT_OK(net, btsp_proj_add(in, b, BTSP_SOMA, &q2));
    assert_int_equal(btsp_net_proj_count(net), 3);
    assert_ptr_equal(btsp_net_proj_at(net, 0), q0);
    assert_ptr_equal(btsp_net_proj_at(net, 1), q1);
    assert_ptr_equal(btsp_net_proj_at(net, 2), q2);
    assert_null(btsp_net_proj_at(net, 3));
    assert_string_equal(btsp_proj_name(q1), "MidB_MidA");
    EXPECT_OK(net, btsp_net_finalize(net));
    assert_ptr_equal(btsp_net_output(net), b);
    float x[5] = {0.125f, 0.5f, 0.25f, 0.875f, 0.375f}, out[2];
    EXPECT_OK(net, btsp_net_evaluate(net, x, 1, 5, out, 2));

    /* The same network built in sweep order computes the same bits, backprop included (which
     * indexes its buffers by each population's place in the sweep). */
    btsp_net *ref;
    assert_int_equal(btsp_net_create(&ref), BTSP_OK);
    btsp_layer *m0, *m1, *m2;
    btsp_pop *rin, *ra, *rb, *ro, *rc;
    EXPECT_OK(ref, btsp_layer_add(ref, "In", &m0));
    EXPECT_OK(ref, btsp_layer_add(ref, "Mid", &m1));
    EXPECT_OK(ref, btsp_layer_add(ref, "Top", &m2));
    EXPECT_OK(ref, btsp_pop_add(m0, "X", 5, &rin));
    EXPECT_OK(ref, btsp_pop_add(m1, "A", 4, &ra));
    EXPECT_OK(ref, btsp_pop_add(m1, "B", 2, &rb));
    EXPECT_OK(ref, btsp_pop_add(m2, "O", 3, &ro));
    EXPECT_OK(ref, btsp_pop_add(m2, "C", 6, &rc));
    EXPECT_OK(ref, btsp_pop_set(rb, BTSP_POP_OUTPUT, 1.0));
    btsp_proj *r0, *r1, *r2;
    EXPECT_OK(ref, btsp_proj_add(rin, ra, BTSP_SOMA, &r0));
    EXPECT_OK(ref, btsp_proj_add(ra, rb, BTSP_SOMA, &r1));
    EXPECT_OK(ref, btsp_proj_add(rin, rb, BTSP_SOMA, &r2));
    EXPECT_OK(ref, btsp_net_finalize(ref));
    float rout[2], target[2] = {1.0f, 0.0f}, g[20], rg[20];
    EXPECT_OK(ref, btsp_net_evaluate(ref, x, 1, 5, rout, 2));
    assert_memory_equal(out, rout, sizeof out);
    const btsp_proj *mine[3] = {q0, q1, q2}, *theirs[3] = {r0, r1, r2};
    for (int k = 0; k < 3; k++) {
        size_t rows = btsp_pop_size(btsp_proj_post(mine[k])), cols = btsp_pop_size(btsp_proj_pre(mine[k]));
        EXPECT_OK(net, btsp_net_loss_gradient(net, x, 5, target, 2, 2, mine[k], g, rows, cols));
        EXPECT_OK(ref, btsp_net_loss_gradient(ref, x, 5, target, 2, 2, theirs[k], rg, rows, cols));
        assert_memory_equal(g, rg, rows * cols * sizeof *g);
    }
    btsp_net_destroy(ref);
    btsp_net_destroy(net);
}

/* BTSP_INIT_RNG_TORCH draws in the documented order: construction of every projection in
 * creation order, then per population (sweep order) its incoming projections in creation order
 * and its bias; DEFAULT_LINEAR keeps the construction values, CONSTANT draws nothing. The
 * expected values are drawn here from the kernels, following btsp.h. */
static void fill_torch(btsp_k_mt19937 *g, float *x, size_t n, double from, double to)
{
    for (size_t i = 0; i < n; i++)
        x[i] = btsp_k_torch_uniform(g, (float)from, (float)to);
}

static void test_init_rng_torch_order(void **state)
{
    (void)state;
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    btsp_layer *lin, *lh, *lo;
    btsp_pop *in, *he, *hi, *oe;
    btsp_proj *q[4];
    EXPECT_OK(net, btsp_layer_add(net, "In", &lin));
    EXPECT_OK(net, btsp_layer_add(net, "H", &lh));
    EXPECT_OK(net, btsp_layer_add(net, "Out", &lo));
    EXPECT_OK(net, btsp_pop_add(lin, "E", 3, &in));
    EXPECT_OK(net, btsp_pop_add(lh, "E", 4, &he));
    EXPECT_OK(net, btsp_pop_add(lh, "I", 2, &hi));
    EXPECT_OK(net, btsp_pop_add(lo, "E", 2, &oe));
    EXPECT_OK(net, btsp_proj_add(in, he, BTSP_SOMA, &q[0]));
    EXPECT_OK(net, btsp_proj_add(he, hi, BTSP_SOMA, &q[1]));
    EXPECT_OK(net, btsp_proj_add(hi, he, BTSP_SOMA, &q[2]));
    EXPECT_OK(net, btsp_proj_add(he, oe, BTSP_SOMA, &q[3]));
    EXPECT_OK(net, btsp_proj_set_direction(q[2], BTSP_DIR_RECURRENT));
    EXPECT_OK(net, btsp_proj_set_init(q[0], BTSP_INIT_HALF_KAIMING, 1.5, 0));
    EXPECT_OK(net, btsp_proj_set_bounds(q[0], 0.0, INFINITY));
    EXPECT_OK(net, btsp_proj_set_init(q[1], BTSP_INIT_UNIFORM, -0.3, 0.1));
    /* q[2]: BTSP_INIT_DEFAULT_LINEAR (the default) */
    EXPECT_OK(net, btsp_proj_set_init(q[3], BTSP_INIT_CONSTANT, 0.25, 0));
    EXPECT_OK(net, btsp_pop_set_bias_init(hi, BTSP_INIT_UNIFORM, -0.2, 0.2));
    EXPECT_OK(net, btsp_pop_set(oe, BTSP_POP_INCLUDE_BIAS, 1.0)); /* scaled Kaiming, fan-in 4 */
    EXPECT_OK(net, btsp_net_seed(net, 4242));
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH));
    EXPECT_OK(net, btsp_net_finalize(net));

    const size_t rows[4] = {4, 2, 4, 2}, cols[4] = {3, 4, 2, 4};
    float w[4][12], bhi[2], boe[2];
    btsp_k_mt19937 g;
    btsp_k_mt19937_seed(&g, 4242);
    for (size_t k = 0; k < 4; k++) {
        double bound = sqrt(3.0) * (sqrt(2.0 / (1.0 + sqrt(5.0) * sqrt(5.0))) / sqrt((double)cols[k]));
        fill_torch(&g, w[k], rows[k] * cols[k], -bound, bound);
    }
    fill_torch(&g, w[0], 12, 0.0, 1.5 / sqrt(3.0)); /* H.E: q[0]; q[2] keeps its values */
    fill_torch(&g, w[1], 8, -0.3, 0.1);             /* H.I: q[1], then its bias */
    fill_torch(&g, bhi, 2, -0.2, 0.2);
    for (size_t i = 0; i < 8; i++)                  /* Out.E: q[3] constant, then its bias */
        w[3][i] = 0.25f;
    fill_torch(&g, boe, 2, -0.5, 0.5);
    for (size_t k = 0; k < 4; k++) {
        const float *wk;
        size_t r, c;
        assert_int_equal(btsp_proj_weights(q[k], &wk, &r, &c), BTSP_OK);
        assert_memory_equal(wk, w[k], r * c * sizeof *wk);
    }
    float b[2];
    assert_int_equal(btsp_pop_copy_state(hi, BTSP_VAR_BIAS, b, 2), BTSP_OK);
    assert_memory_equal(b, bhi, sizeof b);
    assert_int_equal(btsp_pop_copy_state(oe, BTSP_VAR_BIAS, b, 2), BTSP_OK);
    assert_memory_equal(b, boe, sizeof b);
    btsp_net_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy),
        cmocka_unit_test(test_create_with_allocator),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_null_out_params),
        cmocka_unit_test(test_structure_after_finalize),
        cmocka_unit_test(test_run_before_finalize),
        cmocka_unit_test(test_param_defaults),
        cmocka_unit_test(test_param_bounds),
        cmocka_unit_test(test_backward_mode_kept),
        cmocka_unit_test(test_run_wrong_sizes),
        cmocka_unit_test(test_step_hook),
        cmocka_unit_test(test_reset_flags),
        cmocka_unit_test(test_reset_weights_bitwise),
        cmocka_unit_test(test_seeds),
        cmocka_unit_test(test_memory_bytes),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_enumeration),
        cmocka_unit_test(test_init_rng_torch_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
