/* Building API misuse: layers, populations, dendrites, projections, constraints, rules on
 * projections and biases, finalize validation (each failure leaves the network in the building
 * phase so that fixing the problem and finalizing again succeeds), weights and state access. */
#include "test_support.h"
#include "test_nets.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ----------------------------------------------------------------------------------------- */

static btsp_net *new_net(void)
{
    btsp_net *net = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    return net;
}

/* Input.E (nin) -> Output.E (nout, relu) with one somatic projection; returns via out-params. */
static void two_layer(btsp_net *net, size_t nin, size_t nout, btsp_pop **in, btsp_pop **out, btsp_proj **w)
{
    btsp_layer *l0, *l1;
    EXPECT_OK(net, btsp_layer_add(net, "Input", &l0));
    EXPECT_OK(net, btsp_pop_add(l0, "E", nin, in));
    assert_null(btsp_net_output(net)); /* the input layer is never the output by default */
    EXPECT_OK(net, btsp_layer_add(net, "Output", &l1));
    EXPECT_OK(net, btsp_pop_add(l1, "E", nout, out));
    assert_ptr_equal(btsp_net_output(net), *out);
    EXPECT_OK(net, btsp_pop_set_activation(*out, BTSP_ACT_RELU, 0, 0));
    EXPECT_OK(net, btsp_proj_add(*in, *out, BTSP_SOMA, w));
}

/* Finalize must succeed and one training sample must run. */
static void finalize_and_run(btsp_net *net)
{
    EXPECT_OK(net, btsp_net_finalize(net));
    assert_int_equal(btsp_net_is_finalized(net), 1);
    btsp_pop *in = btsp_net_input(net), *out = btsp_net_output(net);
    size_t nx = btsp_pop_size(in), ny = btsp_pop_size(out);
    float *x = calloc(nx, sizeof *x), *y = calloc(ny, sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (size_t i = 0; i < nx; i++)
        x[i] = 0.125f + 0.0625f * (float)(i % 5);
    y[0] = 1.0f;
    EXPECT_OK(net, btsp_net_train_sample(net, x, nx, y, ny));
    assert_int_equal(btsp_net_sample_count(net), 1);
    free(x);
    free(y);
}

/* Finalize must fail with BTSP_E_STATE mentioning `ctx` and leave the network building. */
static void finalize_fails(btsp_net *net, const char *ctx)
{
    size_t mem = btsp_net_memory_bytes(net);
    EXPECT_FAIL(net, btsp_net_finalize(net), BTSP_E_STATE, "btsp_net_finalize");
    if (ctx && !strstr(btsp_net_errmsg(net), ctx))
        fail_msg("finalize message '%s' does not mention '%s'", btsp_net_errmsg(net), ctx);
    assert_int_equal(btsp_net_is_finalized(net), 0);
    assert_int_equal(btsp_net_memory_bytes(net), mem); /* nothing left allocated */
}

static void fill_name(char *buf, size_t len, char c)
{
    memset(buf, c, len);
    buf[len] = '\0';
}

/* ----------------------------------------------------------------------------------------- */
/* NULL handles                                                                              */
/* ----------------------------------------------------------------------------------------- */

static void test_null_handles(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_pop *in, *out;
    btsp_proj *w;
    two_layer(net, 4, 3, &in, &out, &w);
    btsp_rule *r;
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &r));
    double v = 2.385, lo = 2.385, hi = 2.385;
    float buf[12] = {0};
    const float *data = buf;
    size_t n = 99, rows = 99, cols = 99;
    btsp_layer *l = (btsp_layer *)net;
    btsp_pop *p = (btsp_pop *)net;
    btsp_proj *q = (btsp_proj *)net;
    btsp_dend *d = (btsp_dend *)net;

    assert_int_equal(btsp_layer_add(NULL, "X", &l), BTSP_E_INVALID_ARG);
    assert_null(l);
    assert_null(btsp_layer_name(NULL));
    assert_int_equal(btsp_layer_pop_count(NULL), 0);
    assert_null(btsp_layer_pop_at(NULL, 0));
    assert_int_equal(btsp_pop_add(NULL, "X", 3, &p), BTSP_E_INVALID_ARG);
    assert_null(p);
    assert_int_equal(btsp_pop_set_activation(NULL, BTSP_ACT_RELU, 0, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_pop_set(NULL, BTSP_POP_TAU, 2.5), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_pop_get(NULL, BTSP_POP_TAU, &v), BTSP_E_INVALID_ARG);
    assert_true(v == 0.0);
    assert_int_equal(btsp_pop_set_bias_init(NULL, BTSP_INIT_CONSTANT, 0.5, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_pop_set_bias(NULL, buf, 3), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_pop_set_bias_rule(NULL, r), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_pop_size(NULL), 0);
    assert_null(btsp_pop_name(NULL));
    assert_null(btsp_pop_full_name(NULL));
    assert_null(btsp_pop_layer(NULL));
    assert_int_equal(btsp_pop_state(NULL, BTSP_VAR_ACTIVITY, &data, &n), BTSP_E_INVALID_ARG);
    assert_null(data);
    assert_int_equal(n, 0);
    assert_int_equal(btsp_pop_copy_state(NULL, BTSP_VAR_ACTIVITY, buf, 3), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_pop_dend(NULL, &d), BTSP_E_INVALID_ARG);
    assert_null(d);
    assert_int_equal(btsp_dend_set(NULL, BTSP_DEND_CLIP, 0.5), BTSP_E_INVALID_ARG);
    v = 2.385;
    assert_int_equal(btsp_dend_get(NULL, BTSP_DEND_CLIP, &v), BTSP_E_INVALID_ARG);
    assert_true(v == 0.0);
    assert_null(btsp_dend_pop(NULL));
    assert_int_equal(btsp_proj_add(NULL, out, BTSP_SOMA, &q), BTSP_E_INVALID_ARG);
    assert_null(q);
    q = (btsp_proj *)net;
    assert_int_equal(btsp_proj_add(in, NULL, BTSP_SOMA, &q), BTSP_E_INVALID_ARG);
    assert_null(q);
    assert_int_equal(btsp_proj_set_direction(NULL, BTSP_DIR_RECURRENT), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_set_phase(NULL, BTSP_PHASE_ALL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_set_bounds(NULL, 0, 1), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_get_bounds(NULL, &lo, &hi), BTSP_E_INVALID_ARG);
    assert_true(lo == 0.0 && hi == 0.0);
    assert_int_equal(btsp_proj_set_init(NULL, BTSP_INIT_CONSTANT, 0.5, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_set_normalize(NULL, 1.0, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_set_no_autapses(NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_set_clone(NULL, w, 1.0, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_set_rule(NULL, r), BTSP_E_INVALID_ARG);
    assert_null(btsp_proj_rule(NULL));
    assert_int_equal(btsp_proj_weights(NULL, &data, &rows, &cols), BTSP_E_INVALID_ARG);
    assert_null(data);
    assert_int_equal(rows, 0);
    assert_int_equal(cols, 0);
    assert_int_equal(btsp_proj_set_weights(NULL, buf, 3, 4), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_copy_weights(NULL, buf, 3, 4), BTSP_E_INVALID_ARG);
    assert_null(btsp_proj_name(NULL));
    assert_null(btsp_proj_pre(NULL));
    assert_null(btsp_proj_post(NULL));
    assert_int_equal(btsp_proj_compartment(NULL), BTSP_SOMA);
    assert_int_equal(btsp_proj_direction(NULL), BTSP_DIR_FORWARD);
    assert_int_equal(btsp_proj_phase(NULL), BTSP_PHASE_FORWARD);

    /* NULL out-parameters and arguments with valid handles: message set. */
    l = (btsp_layer *)net;
    EXPECT_FAIL(net, btsp_layer_add(net, NULL, &l), BTSP_E_INVALID_ARG, "btsp_layer_add");
    assert_null(l);
    EXPECT_FAIL(net, btsp_layer_add(net, "X", NULL), BTSP_E_INVALID_ARG, "btsp_layer_add");
    btsp_layer *l0 = btsp_net_layer_at(net, 0);
    EXPECT_FAIL(net, btsp_pop_add(l0, NULL, 3, &p), BTSP_E_INVALID_ARG, "btsp_pop_add");
    EXPECT_FAIL(net, btsp_pop_add(l0, "X", 3, NULL), BTSP_E_INVALID_ARG, "btsp_pop_add");
    EXPECT_FAIL(net, btsp_pop_get(out, BTSP_POP_TAU, NULL), BTSP_E_INVALID_ARG, "btsp_pop_get");
    EXPECT_FAIL(net, btsp_pop_dend(out, NULL), BTSP_E_INVALID_ARG, "btsp_pop_dend");
    EXPECT_FAIL(net, btsp_proj_add(in, out, BTSP_DEND, NULL), BTSP_E_INVALID_ARG, "btsp_proj_add");
    lo = hi = 2.385;
    EXPECT_FAIL(net, btsp_proj_get_bounds(w, NULL, &hi), BTSP_E_INVALID_ARG, "btsp_proj_get_bounds");
    assert_true(hi == 0.0);
    EXPECT_FAIL(net, btsp_proj_get_bounds(w, &lo, NULL), BTSP_E_INVALID_ARG, "btsp_proj_get_bounds");
    assert_true(lo == 0.0);
    EXPECT_FAIL(net, btsp_proj_set_rule(w, NULL), BTSP_E_INVALID_ARG, "btsp_proj_set_rule");
    EXPECT_FAIL(net, btsp_proj_set_clone(w, NULL, 1.0, 0), BTSP_E_INVALID_ARG, "btsp_proj_set_clone");
    EXPECT_FAIL(net, btsp_pop_set_bias_rule(out, NULL), BTSP_E_INVALID_ARG, "btsp_pop_set_bias_rule");
    btsp_dend *dd;
    EXPECT_OK(net, btsp_pop_dend(out, &dd));
    EXPECT_FAIL(net, btsp_dend_get(dd, BTSP_DEND_CLIP, NULL), BTSP_E_INVALID_ARG, "btsp_dend_get");
    EXPECT_OK(net, btsp_proj_set_rule(w, r));
    finalize_and_run(net);
    btsp_net_destroy(net);
}

/* ----------------------------------------------------------------------------------------- */
/* Layers and populations                                                                    */
/* ----------------------------------------------------------------------------------------- */

static void test_layer_names(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    char name[80];
    btsp_layer *l = (btsp_layer *)net;
    EXPECT_FAIL(net, btsp_layer_add(net, "", &l), BTSP_E_INVALID_ARG, "1 to 63");
    assert_null(l);
    fill_name(name, 64, 'L');
    EXPECT_FAIL(net, btsp_layer_add(net, name, &l), BTSP_E_INVALID_ARG, "btsp_layer_add");
    fill_name(name, 79, 'L');
    EXPECT_FAIL(net, btsp_layer_add(net, name, &l), BTSP_E_INVALID_ARG, "btsp_layer_add");
    EXPECT_FAIL(net, btsp_layer_add(net, "In.put", &l), BTSP_E_INVALID_ARG, "In.put");
    EXPECT_FAIL(net, btsp_layer_add(net, ".", &l), BTSP_E_INVALID_ARG, "'.'");
    /* Names become file names and message text: no path separators, no control characters
     * (the message quotes the name with '?' in place of the newline). */
    EXPECT_FAIL(net, btsp_layer_add(net, "../x", &l), BTSP_E_INVALID_ARG, "'/'");
    EXPECT_FAIL(net, btsp_layer_add(net, "a/b", &l), BTSP_E_INVALID_ARG, "'a/b'");
    EXPECT_FAIL(net, btsp_layer_add(net, "a\\b", &l), BTSP_E_INVALID_ARG, "control characters");
    EXPECT_FAIL(net, btsp_layer_add(net, "a\nb", &l), BTSP_E_INVALID_ARG, "'a?b'");
    EXPECT_FAIL(net, btsp_layer_add(net, "a\x7f", &l), BTSP_E_INVALID_ARG, "control characters");
    assert_int_equal(btsp_net_layer_count(net), 0);

    fill_name(name, 63, 'L');
    btsp_layer *l63;
    EXPECT_OK(net, btsp_layer_add(net, name, &l63));
    assert_string_equal(btsp_layer_name(l63), name);
    btsp_layer *l1;
    EXPECT_OK(net, btsp_layer_add(net, "Hidden_1-x", &l1));
    l = (btsp_layer *)net;
    EXPECT_FAIL(net, btsp_layer_add(net, "Hidden_1-x", &l), BTSP_E_EXISTS, "Hidden_1-x");
    assert_null(l);
    EXPECT_FAIL(net, btsp_layer_add(net, name, &l), BTSP_E_EXISTS, "btsp_layer_add");
    assert_int_equal(btsp_net_layer_count(net), 2);
    /* Names are case sensitive. */
    btsp_layer *l2;
    EXPECT_OK(net, btsp_layer_add(net, "hidden_1-x", &l2));

    /* Still usable: add populations to these layers and finalize. */
    btsp_pop *a, *b, *c;
    EXPECT_OK(net, btsp_pop_add(l63, "E", 3, &a));
    EXPECT_OK(net, btsp_pop_add(l1, "E", 2, &b));
    EXPECT_OK(net, btsp_pop_add(l2, "E", 2, &c));
    char full[160];
    memcpy(full, name, 63);
    memcpy(full + 63, ".E", 3);
    assert_string_equal(btsp_pop_full_name(a), full);
    btsp_proj *q;
    EXPECT_OK(net, btsp_proj_add(a, b, BTSP_SOMA, &q));
    EXPECT_OK(net, btsp_proj_add(b, c, BTSP_SOMA, &q));
    assert_string_equal(btsp_proj_name(q), "hidden_1-xE_Hidden_1-xE");
    finalize_and_run(net);
    btsp_net_destroy(net);
}

static void test_pop_names_and_sizes(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_layer *l0, *l1;
    EXPECT_OK(net, btsp_layer_add(net, "Input", &l0));
    EXPECT_OK(net, btsp_layer_add(net, "H1", &l1));
    char name[80];
    btsp_pop *p = (btsp_pop *)net;
    EXPECT_FAIL(net, btsp_pop_add(l1, "", 3, &p), BTSP_E_INVALID_ARG, "btsp_pop_add");
    assert_null(p);
    fill_name(name, 64, 'P');
    EXPECT_FAIL(net, btsp_pop_add(l1, name, 3, &p), BTSP_E_INVALID_ARG, "btsp_pop_add");
    EXPECT_FAIL(net, btsp_pop_add(l1, "E.1", 3, &p), BTSP_E_INVALID_ARG, "E.1");
    EXPECT_FAIL(net, btsp_pop_add(l1, "E", 0, &p), BTSP_E_RANGE, "H1.E");
    EXPECT_FAIL(net, btsp_pop_add(l1, "E", SIZE_MAX, &p), BTSP_E_RANGE, "btsp_pop_add");
    EXPECT_FAIL(net, btsp_pop_add(l1, "E", ((size_t)1 << 24) + 1, &p), BTSP_E_RANGE, "btsp_pop_add");
    assert_null(p);
    assert_int_equal(btsp_net_pop_count(net), 0);
    assert_int_equal(btsp_layer_pop_count(l1), 0);

    btsp_pop *in, *e, *i63;
    EXPECT_OK(net, btsp_pop_add(l0, "E", 6, &in));
    EXPECT_OK(net, btsp_pop_add(l1, "E", 5, &e));
    fill_name(name, 63, 'P');
    EXPECT_OK(net, btsp_pop_add(l1, name, 2, &i63));
    assert_string_equal(btsp_pop_name(i63), name);
    p = (btsp_pop *)net;
    EXPECT_FAIL(net, btsp_pop_add(l1, "E", 7, &p), BTSP_E_EXISTS, "H1.E");
    assert_null(p);
    assert_int_equal(btsp_pop_size(e), 5); /* the original is unchanged */
    assert_int_equal(btsp_layer_pop_count(l1), 2);
    assert_int_equal(btsp_net_pop_count(net), 3);
    assert_string_equal(btsp_pop_name(e), "E");
    assert_string_equal(btsp_pop_full_name(e), "H1.E");
    assert_ptr_equal(btsp_pop_layer(e), l1);
    btsp_proj *q;
    EXPECT_OK(net, btsp_proj_add(in, e, BTSP_SOMA, &q));
    finalize_and_run(net);
    btsp_net_destroy(net);
}

static void test_activation(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_pop *in, *out;
    btsp_proj *w;
    two_layer(net, 3, 2, &in, &out, &w); /* relu */
    EXPECT_OK(net, btsp_proj_set_init(w, BTSP_INIT_CONSTANT, -0.5, 0.0));
    EXPECT_FAIL(net, btsp_pop_set_activation(out, (btsp_activation)8, 0, 0), BTSP_E_INVALID_ARG, "8");
    EXPECT_FAIL(net, btsp_pop_set_activation(out, (btsp_activation)-1, 0, 0), BTSP_E_INVALID_ARG,
                "btsp_pop_set_activation");
    EXPECT_FAIL(net, btsp_pop_set_activation(out, BTSP_ACT_CLAMP, 0.7, 0.3), BTSP_E_RANGE, "min <= max");
    EXPECT_FAIL(net, btsp_pop_set_activation(out, BTSP_ACT_CLAMP, NAN, 0.3), BTSP_E_RANGE, "finite");
    EXPECT_FAIL(net, btsp_pop_set_activation(out, BTSP_ACT_POLY, 1.5, INFINITY), BTSP_E_RANGE, "finite");
    EXPECT_FAIL(net, btsp_pop_set_activation(out, BTSP_ACT_LINEAR, -INFINITY, 0), BTSP_E_RANGE, "finite");
    /* finite doubles that no float holds (they would become +-inf in the engine) */
    EXPECT_FAIL(net, btsp_pop_set_activation(out, BTSP_ACT_POLY, 1e300, 2.0), BTSP_E_RANGE, "finite floats");
    EXPECT_FAIL(net, btsp_pop_set_activation(out, BTSP_ACT_CLAMP, -1e39, 0.0), BTSP_E_RANGE, "finite floats");
    /* Clamp with min == max is valid (on another population). */
    btsp_layer *l2;
    btsp_pop *c;
    EXPECT_OK(net, btsp_layer_add(net, "Side", &l2));
    EXPECT_OK(net, btsp_pop_add(l2, "C", 2, &c));
    EXPECT_OK(net, btsp_pop_set_activation(c, BTSP_ACT_CLAMP, 0.3125, 0.3125));
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_OUTPUT, 1.0));
    EXPECT_OK(net, btsp_net_finalize(net));
    /* The relu survived the failed calls: negative drive gives exact zeros. */
    float x[3] = {0.25f, 0.5f, 0.75f};
    EXPECT_OK(net, btsp_net_forward(net, x, 3));
    const float *a, *u;
    size_t n;
    EXPECT_OK(net, btsp_pop_state(out, BTSP_VAR_SOMA_STATE, &u, &n));
    EXPECT_OK(net, btsp_pop_state(out, BTSP_VAR_ACTIVITY, &a, &n));
    assert_int_equal(n, 2);
    for (size_t i = 0; i < n; i++) {
        assert_true(fabs(u[i] - (-0.75)) < 1e-6);
        assert_true(a[i] == 0.0f);
    }
    EXPECT_OK(net, btsp_pop_state(c, BTSP_VAR_ACTIVITY, &a, &n));
    assert_true(a[0] == 0.3125f && a[1] == 0.3125f);
    btsp_net_destroy(net);
}

static void test_pop_params(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_pop *in, *out;
    btsp_proj *w;
    two_layer(net, 4, 3, &in, &out, &w);
    double v = -1;
    /* Defaults. */
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_TAU, 2.385));
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_TAU, &v));
    assert_true(v == 2.385); /* inherits the network's */
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_INCLUDE_BIAS, &v));
    assert_true(v == 0.0);
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_BIAS_LO, &v));
    assert_true(v == -INFINITY);
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_BIAS_HI, &v));
    assert_true(v == INFINITY);
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_OUTPUT, &v));
    assert_true(v == 1.0); /* first population of the last layer */
    EXPECT_OK(net, btsp_pop_get(in, BTSP_POP_OUTPUT, &v));
    assert_true(v == 0.0);

    /* TAU */
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_TAU, 3.75));
    const double bad_tau[] = {0.5, 0.0, -3.75, 1e6 + 1.0, NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof bad_tau / sizeof bad_tau[0]; i++) {
        EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_TAU, bad_tau[i]), BTSP_E_RANGE, "BTSP_POP_TAU");
        EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_TAU, &v));
        assert_true(v == 3.75);
    }
    /* Flags */
    const double bad_flag[] = {0.5, 2.0, -1.0, NAN, INFINITY};
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_INCLUDE_BIAS, 1.0));
    for (size_t i = 0; i < sizeof bad_flag / sizeof bad_flag[0]; i++) {
        EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_INCLUDE_BIAS, bad_flag[i]), BTSP_E_RANGE, "BTSP_POP_INCLUDE_BIAS");
        EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_INCLUDE_BIAS, &v));
        assert_true(v == 1.0);
        EXPECT_FAIL(net, btsp_pop_set(in, BTSP_POP_OUTPUT, bad_flag[i]), BTSP_E_RANGE, "BTSP_POP_OUTPUT");
        assert_ptr_equal(btsp_net_output(net), out);
    }
    /* Bias bounds */
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_BIAS_HI, 0.25));
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_LO, 0.75), BTSP_E_RANGE, "Output.E");
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_BIAS_LO, &v));
    assert_true(v == -INFINITY);
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_LO, NAN), BTSP_E_RANGE, "NaN");
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_HI, NAN), BTSP_E_RANGE, "NaN");
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_LO, INFINITY), BTSP_E_RANGE, "finite float or -inf");
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_HI, -INFINITY), BTSP_E_RANGE, "finite float or +inf");
    /* +-1e39 is finite but no float: it would clamp the biases to +-inf */
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_LO, -1e39), BTSP_E_RANGE, "BTSP_POP_BIAS_LO");
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_HI, 1e39), BTSP_E_RANGE, "BTSP_POP_BIAS_HI");
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_BIAS_HI, &v));
    assert_true(v == 0.25); /* refused: unchanged */
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_BIAS_LO, -FLT_MAX));
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_BIAS_LO, -0.125));
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_BIAS_HI, -0.5), BTSP_E_RANGE, "lo > hi");
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_BIAS_HI, &v));
    assert_true(v == 0.25);
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_BIAS_LO, &v));
    assert_true(v == -0.125);
    /* Unknown parameters */
    EXPECT_FAIL(net, btsp_pop_set(out, (btsp_pop_param)205, 1.0), BTSP_E_INVALID_ARG, "205");
    EXPECT_FAIL(net, btsp_pop_set(out, (btsp_pop_param)100, 1.0), BTSP_E_INVALID_ARG, "100");
    v = 2.385;
    EXPECT_FAIL(net, btsp_pop_get(out, (btsp_pop_param)199, &v), BTSP_E_INVALID_ARG, "199");
    assert_true(v == 0.0);

    /* Bias init U(-1, 1) is clamped to the bounds at finalize. */
    EXPECT_OK(net, btsp_pop_set_bias_init(out, BTSP_INIT_UNIFORM, -1.0, 1.0));
    EXPECT_OK(net, btsp_net_finalize(net));
    const float *b;
    size_t n;
    EXPECT_OK(net, btsp_pop_state(out, BTSP_VAR_BIAS, &b, &n));
    int at_lo = 0, at_hi = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(b[i] >= -0.125f && b[i] <= 0.25f);
        at_lo += b[i] == -0.125f;
        at_hi += b[i] == 0.25f;
    }
    assert_true(at_lo + at_hi > 0); /* U(-1, 1) on 3 units: the clamp did something */
    /* After finalize: structure-like parameters refused, bias bounds still settable. */
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_TAU, 2.0), BTSP_E_STATE, "BTSP_POP_TAU");
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_INCLUDE_BIAS, 0.0), BTSP_E_STATE, "BTSP_POP_INCLUDE_BIAS");
    EXPECT_FAIL(net, btsp_pop_set(in, BTSP_POP_OUTPUT, 1.0), BTSP_E_STATE, "BTSP_POP_OUTPUT");
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_TAU, &v));
    assert_true(v == 3.75);
    EXPECT_OK(net, btsp_pop_get(in, BTSP_POP_TAU, &v));
    assert_true(v == 2.385);
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_BIAS_HI, 0.0625));
    EXPECT_OK(net, btsp_net_constrain(net));
    EXPECT_OK(net, btsp_pop_state(out, BTSP_VAR_BIAS, &b, &n));
    for (size_t i = 0; i < n; i++)
        assert_true(b[i] <= 0.0625f);
    btsp_net_destroy(net);
}

static void test_bias_init_and_rule(void **state)
{
    (void)state;
    btsp_net *net = new_net(), *other = new_net();
    btsp_pop *in, *out;
    btsp_proj *w;
    two_layer(net, 4, 3, &in, &out, &w);
    double v = -1;
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, (btsp_init)6, 0.5, 0), BTSP_E_INVALID_ARG, "6");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, (btsp_init)-1, 0.5, 0), BTSP_E_INVALID_ARG, "init");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, BTSP_INIT_CONSTANT, NAN, 0), BTSP_E_RANGE, "finite");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, BTSP_INIT_UNIFORM, 0.0, INFINITY), BTSP_E_RANGE, "finite");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, BTSP_INIT_UNIFORM, -1e300, 1e300), BTSP_E_RANGE, "finite floats");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, BTSP_INIT_CONSTANT, 1e39, 0), BTSP_E_RANGE, "finite floats");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, BTSP_INIT_SCALED_KAIMING, -0.5, 0), BTSP_E_RANGE, "Kaiming");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, BTSP_INIT_HALF_KAIMING, -0.01, 0), BTSP_E_RANGE, "Kaiming");
    EXPECT_FAIL(net, btsp_pop_set_bias_init(out, BTSP_INIT_UNIFORM, 0.6, 0.2), BTSP_E_RANGE, "a <= b");
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_INCLUDE_BIAS, &v));
    assert_true(v == 0.0); /* failed calls did not imply a bias */
    EXPECT_OK(net, btsp_pop_set_bias_init(out, BTSP_INIT_CONSTANT, 0.4375, -3.0));
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_INCLUDE_BIAS, &v));
    assert_true(v == 1.0);

    /* Bias rules */
    btsp_rule *proj_rule, *bias_rule, *bias_rule2, *foreign;
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_BTSP, &proj_rule));
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS_BIAS, &bias_rule));
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS_BIAS, &bias_rule2));
    EXPECT_OK(other, btsp_rule_create(other, BTSP_RULE_DENDRITIC_LOSS_BIAS, &foreign));
    EXPECT_FAIL(net, btsp_pop_set_bias_rule(out, proj_rule), BTSP_E_INVALID_ARG, "BTSP_19");
    EXPECT_FAIL(net, btsp_pop_set_bias_rule(out, foreign), BTSP_E_INVALID_ARG, "another network");
    EXPECT_OK(net, btsp_pop_set_bias_rule(out, bias_rule));
    EXPECT_FAIL(net, btsp_pop_set_bias_rule(out, bias_rule2), BTSP_E_EXISTS, "btsp_pop_set_bias_rule");
    EXPECT_FAIL(net, btsp_pop_set_bias_rule(in, bias_rule), BTSP_E_EXISTS, "btsp_pop_set_bias_rule");
    EXPECT_FAIL(net, btsp_proj_set_rule(w, bias_rule), BTSP_E_INVALID_ARG, "bias rule");
    EXPECT_FAIL(net, btsp_pop_set(out, BTSP_POP_INCLUDE_BIAS, 0.0), BTSP_E_STATE, "bias rule");
    EXPECT_OK(net, btsp_pop_get(out, BTSP_POP_INCLUDE_BIAS, &v));
    assert_true(v == 1.0);
    /* Make it valid: the projection rule and the second bias rule need homes, the bias rule a gate. */
    EXPECT_OK(net, btsp_proj_set_bounds(w, 0.0, 1.0));
    EXPECT_OK(net, btsp_proj_set_rule(w, proj_rule));
    btsp_layer *ls;
    btsp_pop *side;
    btsp_proj *ws;
    EXPECT_OK(net, btsp_layer_add(net, "Side", &ls));
    EXPECT_OK(net, btsp_pop_add(ls, "S", 2, &side));
    EXPECT_OK(net, btsp_proj_add(in, side, BTSP_SOMA, &ws));
    EXPECT_OK(net, btsp_pop_set_bias_rule(side, bias_rule2));
    btsp_gate *g1, *g2;
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g1));
    EXPECT_OK(net, btsp_gate_attach(g1, out));
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &g2));
    EXPECT_OK(net, btsp_gate_attach(g2, side));
    btsp_dend *d;
    EXPECT_OK(net, btsp_pop_dend(side, &d));
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_OUTPUT, 1.0));

    /* set_bias before finalize */
    float bias[3] = {0.1875f, -0.3125f, 0.5625f};
    EXPECT_FAIL(net, btsp_pop_set_bias(out, bias, 3), BTSP_E_STATE, "btsp_pop_set_bias");
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_FAIL(net, btsp_pop_set_bias_rule(out, bias_rule2), BTSP_E_STATE, "btsp_pop_set_bias_rule");
    const float *b;
    size_t n;
    EXPECT_OK(net, btsp_pop_state(out, BTSP_VAR_BIAS, &b, &n));
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_true(b[i] == 0.4375f);
    EXPECT_FAIL(net, btsp_pop_set_bias(out, NULL, 3), BTSP_E_INVALID_ARG, "btsp_pop_set_bias");
    EXPECT_FAIL(net, btsp_pop_set_bias(out, bias, 2), BTSP_E_SHAPE, "Output.E");
    EXPECT_FAIL(net, btsp_pop_set_bias(out, bias, 4), BTSP_E_SHAPE, "btsp_pop_set_bias");
    float badb[3] = {0.25f, 0.5f, NAN};
    EXPECT_FAIL(net, btsp_pop_set_bias(out, badb, 3), BTSP_E_RANGE, "value 2");
    badb[2] = 0.75f;
    badb[0] = -INFINITY;
    EXPECT_FAIL(net, btsp_pop_set_bias(out, badb, 3), BTSP_E_RANGE, "value 0");
    for (size_t i = 0; i < n; i++)
        assert_true(b[i] == 0.4375f);
    EXPECT_FAIL(net, btsp_pop_set_bias(in, bias, 4), BTSP_E_STATE, "no bias");
    EXPECT_OK(net, btsp_pop_set_bias(out, bias, 3));
    assert_true(memcmp(b, bias, sizeof bias) == 0);
    btsp_net_destroy(net);
    btsp_net_destroy(other);
}

static void test_dendrites(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_pop *in, *out;
    btsp_proj *w;
    two_layer(net, 4, 3, &in, &out, &w);
    btsp_layer *ls;
    btsp_pop *side;
    EXPECT_OK(net, btsp_layer_add(net, "Side", &ls));
    EXPECT_OK(net, btsp_pop_add(ls, "S", 2, &side));
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_OUTPUT, 1.0));
    btsp_dend *d, *d2;
    EXPECT_OK(net, btsp_pop_dend(side, &d));
    assert_non_null(d);
    EXPECT_OK(net, btsp_pop_dend(side, &d2));
    assert_ptr_equal(d, d2);
    assert_ptr_equal(btsp_dend_pop(d), side);
    double v = -1;
    EXPECT_OK(net, btsp_dend_get(d, BTSP_DEND_CLIP, &v));
    assert_true(v == 1.0);
    EXPECT_OK(net, btsp_dend_set(d, BTSP_DEND_CLIP, 0.8125));
    const double bad[] = {0.0, -0.5, NAN, INFINITY, -INFINITY, 1e6 * 1.5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_FAIL(net, btsp_dend_set(d, BTSP_DEND_CLIP, bad[i]), BTSP_E_RANGE, "BTSP_DEND_CLIP");
        EXPECT_OK(net, btsp_dend_get(d, BTSP_DEND_CLIP, &v));
        assert_true(v == 0.8125);
    }
    EXPECT_OK(net, btsp_dend_set(d, BTSP_DEND_CLIP, 1e6));
    EXPECT_OK(net, btsp_dend_set(d, BTSP_DEND_CLIP, 0.8125));
    EXPECT_FAIL(net, btsp_dend_set(d, (btsp_dend_param)301, 0.5), BTSP_E_INVALID_ARG, "301");
    v = 2.385;
    EXPECT_FAIL(net, btsp_dend_get(d, (btsp_dend_param)299, &v), BTSP_E_INVALID_ARG, "299");
    assert_true(v == 0.0);
    /* A dendrite-targeting projection onto a population that already has one reuses it. */
    btsp_proj *qd;
    EXPECT_OK(net, btsp_proj_add(out, side, BTSP_DEND, &qd));
    EXPECT_OK(net, btsp_pop_dend(side, &d2));
    assert_ptr_equal(d, d2);
    assert_int_equal(btsp_proj_compartment(qd), BTSP_DEND);
    assert_int_equal(btsp_proj_direction(qd), BTSP_DIR_FORWARD); /* defaults */
    assert_int_equal(btsp_proj_phase(qd), BTSP_PHASE_FORWARD);
    EXPECT_OK(net, btsp_proj_set_direction(qd, BTSP_DIR_RECURRENT));
    EXPECT_OK(net, btsp_proj_set_phase(qd, BTSP_PHASE_BACKWARD));
    assert_int_equal(btsp_proj_direction(qd), BTSP_DIR_RECURRENT);
    assert_int_equal(btsp_proj_phase(qd), BTSP_PHASE_BACKWARD);
    EXPECT_OK(net, btsp_net_finalize(net));
    btsp_dend *none = (btsp_dend *)net;
    EXPECT_FAIL(net, btsp_pop_dend(out, &none), BTSP_E_NOT_FOUND, "Output.E");
    assert_null(none);
    EXPECT_OK(net, btsp_pop_dend(side, &d2));
    assert_ptr_equal(d, d2);
    EXPECT_OK(net, btsp_dend_set(d, BTSP_DEND_CLIP, 0.5)); /* any time */
    EXPECT_OK(net, btsp_dend_get(d, BTSP_DEND_CLIP, &v));
    assert_true(v == 0.5);
    btsp_net_destroy(net);
}

/* ----------------------------------------------------------------------------------------- */
/* Projections                                                                               */
/* ----------------------------------------------------------------------------------------- */

static void test_proj_add(void **state)
{
    (void)state;
    btsp_net *net = new_net(), *other = new_net();
    tiny_net t, o;
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(other, tiny_build(other, &o));
    btsp_proj *q = (btsp_proj *)net;
    /* The error is recorded in the post population's network. */
    EXPECT_FAIL(other, btsp_proj_add(t.in, o.out, BTSP_SOMA, &q), BTSP_E_INVALID_ARG, "different networks");
    assert_null(q);
    q = (btsp_proj *)net;
    EXPECT_FAIL(net, btsp_proj_add(o.in, t.out, BTSP_DEND, &q), BTSP_E_INVALID_ARG, "btsp_proj_add");
    assert_null(q);
    q = (btsp_proj *)net;
    EXPECT_FAIL(net, btsp_proj_add(t.in, t.out, BTSP_SOMA, &q), BTSP_E_EXISTS, "Input.E");
    assert_null(q);
    EXPECT_FAIL(net, btsp_proj_add(t.in, t.out, BTSP_DEND, &q), BTSP_E_EXISTS, "Output.E");
    EXPECT_FAIL(net, btsp_proj_add(t.out, t.out, (btsp_compartment)2, &q), BTSP_E_INVALID_ARG, "compartment 2");
    EXPECT_FAIL(net, btsp_proj_add(t.out, t.out, (btsp_compartment)-1, &q), BTSP_E_INVALID_ARG, "compartment");
    assert_null(q);
    assert_int_equal(btsp_net_proj_count(net), 1);
    assert_int_equal(btsp_net_proj_count(other), 1);
    /* Defaults and getters of the existing projection. */
    double lo = 0, hi = 0;
    btsp_proj *w2;
    EXPECT_OK(net, btsp_proj_add(t.out, t.out, BTSP_SOMA, &w2)); /* recurrent self-projection */
    EXPECT_OK(net, btsp_proj_get_bounds(w2, &lo, &hi));
    assert_true(lo == -INFINITY && hi == INFINITY);
    assert_null(btsp_proj_rule(w2));
    assert_ptr_equal(btsp_proj_pre(w2), t.out);
    assert_ptr_equal(btsp_proj_post(w2), t.out);
    assert_string_equal(btsp_proj_name(w2), "OutputE_OutputE");
    assert_string_equal(btsp_proj_name(t.w), "OutputE_InputE");
    EXPECT_FAIL(net, btsp_proj_set_direction(w2, (btsp_direction)2), BTSP_E_INVALID_ARG, "direction 2");
    EXPECT_FAIL(net, btsp_proj_set_phase(w2, (btsp_phase)3), BTSP_E_INVALID_ARG, "phase 3");
    EXPECT_FAIL(net, btsp_proj_set_phase(w2, (btsp_phase)-1), BTSP_E_INVALID_ARG, "btsp_proj_set_phase");
    EXPECT_OK(net, btsp_proj_set_direction(w2, BTSP_DIR_RECURRENT));
    EXPECT_OK(net, btsp_proj_set_phase(w2, BTSP_PHASE_ALL));
    EXPECT_OK(net, btsp_proj_set_bounds(w2, -0.25, 0.0));
    EXPECT_OK(net, btsp_proj_set_init(w2, BTSP_INIT_CONSTANT, -0.0625, 0));
    EXPECT_OK(net, btsp_net_finalize(net));
    /* The failed dendrite-targeting calls created no dendrite. */
    btsp_dend *d = (btsp_dend *)net;
    EXPECT_FAIL(net, btsp_pop_dend(t.out, &d), BTSP_E_NOT_FOUND, "no dendrite");
    assert_null(d);
    EXPECT_FAIL(net, btsp_proj_set_direction(w2, BTSP_DIR_FORWARD), BTSP_E_STATE, "btsp_proj_set_direction");
    EXPECT_FAIL(net, btsp_proj_set_phase(w2, BTSP_PHASE_FORWARD), BTSP_E_STATE, "btsp_proj_set_phase");
    float x[TINY_IN] = {0.5f, 0.25f, 0.125f, 0.0f, 0.75f}, y[TINY_OUT] = {0.0f, 1.0f, 0.0f};
    EXPECT_OK(net, btsp_net_train_sample(net, x, TINY_IN, y, TINY_OUT));
    btsp_net_destroy(net);
    btsp_net_destroy(other);
}

static void test_bounds(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t)); /* bounds [0, 0.875] */
    double lo = 0, hi = 0;
    static const struct {
        double lo, hi;
    } bad[] = {
        {0.9, 0.1}, {NAN, 1.0}, {0.0, NAN}, {NAN, NAN}, {INFINITY, INFINITY}, {-INFINITY, -INFINITY},
        {INFINITY, 0.5}, {0.5, -INFINITY}, {1e-9, 0.0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_FAIL(net, btsp_proj_set_bounds(t.w, bad[i].lo, bad[i].hi), BTSP_E_RANGE, "OutputE_InputE");
        EXPECT_OK(net, btsp_proj_get_bounds(t.w, &lo, &hi));
        assert_true(lo == 0.0 && hi == 0.875);
    }
    EXPECT_OK(net, btsp_net_finalize(net));
    /* Any time: tighter bounds after finalize, applied by btsp_net_constrain. */
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, 0.0, 0.0625));
    EXPECT_FAIL(net, btsp_proj_set_bounds(t.w, 0.5, 0.25), BTSP_E_RANGE, "btsp_proj_set_bounds");
    EXPECT_OK(net, btsp_net_constrain(net));
    const float *w;
    size_t r, c;
    EXPECT_OK(net, btsp_proj_weights(t.w, &w, &r, &c));
    int clipped = 0;
    for (size_t i = 0; i < r * c; i++) {
        assert_true(w[i] >= 0.0f && w[i] <= 0.0625f);
        clipped += w[i] == 0.0625f;
    }
    assert_true(clipped > 0);
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, 0.0625, 0.0625));
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, -INFINITY, INFINITY));
    /* after finalize too: a bound no float holds would set every weight to +-inf */
    EXPECT_FAIL(net, btsp_proj_set_bounds(t.w, 1e39, INFINITY), BTSP_E_RANGE, "finite float");
    EXPECT_FAIL(net, btsp_proj_set_bounds(t.w, -1e39, 0.0), BTSP_E_RANGE, "finite float");
    EXPECT_FAIL(net, btsp_proj_set_bounds(t.w, 0.0, 1e39), BTSP_E_RANGE, "finite float");
    EXPECT_FAIL(net, btsp_proj_set_bounds(t.w, -INFINITY, -INFINITY), BTSP_E_RANGE, "finite float");
    EXPECT_FAIL(net, btsp_proj_set_bounds(t.w, INFINITY, INFINITY), BTSP_E_RANGE, "finite float");
    EXPECT_OK(net, btsp_proj_weights(t.w, &w, &r, &c));
    for (size_t i = 0; i < r * c; i++)
        assert_true(isfinite(w[i]));
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, -FLT_MAX, FLT_MAX));
    btsp_net_destroy(net);
}

static void test_set_init(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(net, btsp_proj_set_init(t.w, BTSP_INIT_CONSTANT, 0.3125, 0.0));
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, (btsp_init)6, 0.5, 0), BTSP_E_INVALID_ARG, "init scheme 6");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, (btsp_init)-2, 0.5, 0), BTSP_E_INVALID_ARG, "btsp_proj_set_init");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_CONSTANT, NAN, 0), BTSP_E_RANGE, "finite");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_UNIFORM, -INFINITY, 0.5), BTSP_E_RANGE, "finite");
    /* (hi - lo) of these overflows a float, and inf x 0 is NaN */
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_UNIFORM, -1e300, 1e300), BTSP_E_RANGE, "finite floats");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_CONSTANT, 1e300, 0), BTSP_E_RANGE, "finite floats");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_SCALED_KAIMING, 1e39, 0), BTSP_E_RANGE, "finite floats");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_HALF_KAIMING, -1.0, 0), BTSP_E_RANGE, "Kaiming");
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_UNIFORM, 0.5, 0.25), BTSP_E_RANGE, "a <= b");
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_FAIL(net, btsp_proj_set_init(t.w, BTSP_INIT_CONSTANT, 0.5, 0), BTSP_E_STATE, "btsp_proj_set_init");
    const float *w;
    size_t r, c;
    EXPECT_OK(net, btsp_proj_weights(t.w, &w, &r, &c));
    assert_int_equal(r, TINY_OUT);
    assert_int_equal(c, TINY_IN);
    for (size_t i = 0; i < r * c; i++)
        assert_true(w[i] == 0.3125f);
    btsp_net_destroy(net);
}

static void test_normalize_and_autapses(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    btsp_layer *lh;
    btsp_pop *h;
    btsp_proj *hh, *h_in;
    EXPECT_OK(net, btsp_layer_add(net, "H", &lh));
    EXPECT_OK(net, btsp_pop_add(lh, "E", 4, &h));
    EXPECT_OK(net, btsp_pop_set(t.out, BTSP_POP_OUTPUT, 1.0));
    EXPECT_OK(net, btsp_proj_add(t.in, h, BTSP_SOMA, &h_in));
    EXPECT_OK(net, btsp_proj_add(h, h, BTSP_SOMA, &hh));
    EXPECT_OK(net, btsp_proj_set_direction(hh, BTSP_DIR_RECURRENT));
    EXPECT_OK(net, btsp_proj_set_init(hh, BTSP_INIT_UNIFORM, 0.125, 0.5));
    const double bad[] = {0.0, -1.3, NAN, INFINITY, -INFINITY, 1e39};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_FAIL(net, btsp_proj_set_normalize(t.w, bad[i], 0), BTSP_E_RANGE, "OutputE_InputE");
    EXPECT_FAIL(net, btsp_proj_set_no_autapses(t.w), BTSP_E_INVALID_ARG, "pre and post differ");
    EXPECT_OK(net, btsp_proj_set_normalize(t.w, 1.3, 0));
    EXPECT_FAIL(net, btsp_proj_set_normalize(t.w, 2.0, 0), BTSP_E_EXISTS, "already has a constraint");
    EXPECT_FAIL(net, btsp_proj_set_clone(t.w, t.w, 1.0, 0), BTSP_E_EXISTS, "btsp_proj_set_clone");
    EXPECT_OK(net, btsp_proj_set_no_autapses(hh));
    EXPECT_FAIL(net, btsp_proj_set_no_autapses(hh), BTSP_E_EXISTS, "HE_HE");
    EXPECT_FAIL(net, btsp_proj_set_normalize(hh, 1.0, 1), BTSP_E_EXISTS, "HE_HE");
    EXPECT_OK(net, btsp_proj_set_normalize(h_in, 0.6875, 0)); /* pre != post: autapse flag irrelevant */
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_FAIL(net, btsp_proj_set_normalize(h_in, 1.0, 0), BTSP_E_STATE, "btsp_proj_set_normalize");
    EXPECT_FAIL(net, btsp_proj_set_no_autapses(hh), BTSP_E_STATE, "btsp_proj_set_no_autapses");
    const float *w;
    size_t r, c;
    EXPECT_OK(net, btsp_proj_weights(t.w, &w, &r, &c));
    for (size_t i = 0; i < r; i++) {
        double s = 0;
        for (size_t j = 0; j < c; j++)
            s += fabs(w[i * c + j]);
        assert_true(s == 0.0 || fabs(s - 1.3) < 1e-5);
    }
    EXPECT_OK(net, btsp_proj_weights(h_in, &w, &r, &c));
    for (size_t i = 0; i < r; i++) {
        double s = 0;
        for (size_t j = 0; j < c; j++)
            s += fabs(w[i * c + j]);
        assert_true(fabs(s - 0.6875) < 1e-5);
    }
    EXPECT_OK(net, btsp_proj_weights(hh, &w, &r, &c));
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < c; j++)
            assert_true(i == j ? w[i * c + j] == 0.0f : (w[i * c + j] >= 0.125f && w[i * c + j] <= 0.5f));
    btsp_net_destroy(net);
}

static void test_clone(void **state)
{
    (void)state;
    btsp_net *net = new_net(), *other = new_net();
    btsp_layer *l0, *l1, *l2;
    btsp_pop *in, *h, *f, *o;
    EXPECT_OK(net, btsp_layer_add(net, "In", &l0));
    EXPECT_OK(net, btsp_pop_add(l0, "E", 4, &in));
    EXPECT_OK(net, btsp_layer_add(net, "H", &l1));
    EXPECT_OK(net, btsp_pop_add(l1, "E", 3, &h));
    EXPECT_OK(net, btsp_pop_add(l1, "F", 3, &f));
    EXPECT_OK(net, btsp_layer_add(net, "Out", &l2));
    EXPECT_OK(net, btsp_pop_add(l2, "E", 2, &o));
    btsp_proj *w1, *w2, *w3, *w4, *w5, *w6;
    EXPECT_OK(net, btsp_proj_add(in, h, BTSP_SOMA, &w1)); /* 3x4 */
    EXPECT_OK(net, btsp_proj_add(h, o, BTSP_SOMA, &w2));  /* 2x3 */
    EXPECT_OK(net, btsp_proj_add(o, h, BTSP_DEND, &w3));  /* 3x2 */
    EXPECT_OK(net, btsp_proj_add(in, o, BTSP_SOMA, &w4)); /* 2x4 */
    EXPECT_OK(net, btsp_proj_add(o, f, BTSP_DEND, &w5));  /* 3x2 */
    EXPECT_OK(net, btsp_proj_add(in, f, BTSP_SOMA, &w6)); /* 3x4 */
    tiny_net t;
    EXPECT_OK(other, tiny_build(other, &t));

    EXPECT_FAIL(net, btsp_proj_set_clone(w3, w2, 1.0, 0), BTSP_E_SHAPE, "HE_OutE");
    EXPECT_FAIL(net, btsp_proj_set_clone(w3, w1, 1.0, 1), BTSP_E_SHAPE, "transposed");
    EXPECT_FAIL(net, btsp_proj_set_clone(w3, w3, 1.0, 0), BTSP_E_INVALID_ARG, "invalid source");
    EXPECT_FAIL(net, btsp_proj_set_clone(w3, t.w, 1.0, 0), BTSP_E_INVALID_ARG, "invalid source");
    EXPECT_FAIL(net, btsp_proj_set_clone(w3, w2, NAN, 1), BTSP_E_RANGE, "finite");
    EXPECT_FAIL(net, btsp_proj_set_clone(w3, w2, -INFINITY, 1), BTSP_E_RANGE, "finite");
    EXPECT_FAIL(net, btsp_proj_set_clone(w3, w2, 1e300, 1), BTSP_E_RANGE, "finite float");
    EXPECT_OK(net, btsp_proj_set_clone(w3, w2, 0.75, 1));
    EXPECT_FAIL(net, btsp_proj_set_clone(w3, w2, 0.75, 1), BTSP_E_EXISTS, "already has a constraint");
    /* The source may not be a clone itself. */
    EXPECT_FAIL(net, btsp_proj_set_clone(w5, w3, 1.0, 0), BTSP_E_INVALID_ARG, "itself a clone");
    /* Nor may a projection that already serves as a clone source become a clone (a chain built in
     * the other order). */
    EXPECT_FAIL(net, btsp_proj_set_clone(w2, w5, 1.0, 1), BTSP_E_INVALID_ARG, "HE_OutE");
    /* A projection with a rule cannot be a clone, a clone cannot get a rule. */
    btsp_rule *r1, *r2;
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &r1));
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &r2));
    EXPECT_OK(net, btsp_proj_set_rule(w6, r1));
    EXPECT_FAIL(net, btsp_proj_set_clone(w6, w1, 1.0, 0), BTSP_E_STATE, "cannot have a rule");
    EXPECT_FAIL(net, btsp_proj_set_rule(w3, r2), BTSP_E_STATE, "cannot learn");
    assert_null(btsp_proj_rule(w3));
    EXPECT_OK(net, btsp_rule_set(r2, BTSP_RULE_LEARNING_RATE, 0.03));
    EXPECT_OK(net, btsp_proj_set_rule(w2, r2));
    EXPECT_OK(net, btsp_proj_set_clone(w5, w2, -0.5, 1));

    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_FAIL(net, btsp_proj_set_clone(w4, w4, 1.0, 0), BTSP_E_STATE, "btsp_proj_set_clone");
    float x[4] = {0.25f, 0.875f, 0.5f, 0.125f}, y[2] = {1.0f, 0.0f};
    for (int k = 0; k < 3; k++) {
        const float *a, *b3, *b5;
        size_t r, c;
        EXPECT_OK(net, btsp_proj_weights(w2, &a, &r, &c));
        EXPECT_OK(net, btsp_proj_weights(w3, &b3, &r, &c));
        EXPECT_OK(net, btsp_proj_weights(w5, &b5, &r, &c));
        assert_int_equal(r, 3);
        assert_int_equal(c, 2);
        for (size_t i = 0; i < 3; i++)
            for (size_t j = 0; j < 2; j++) {
                assert_true(b3[i * 2 + j] == 0.75f * a[j * 3 + i]);
                assert_true(b5[i * 2 + j] == -0.5f * a[j * 3 + i]);
            }
        EXPECT_OK(net, btsp_net_train_sample(net, x, 4, y, 2)); /* w2 learns; clones follow */
    }
    btsp_net_destroy(net);
    btsp_net_destroy(other);
}

/* What btsp_proj_set_bounds() promises about the order of clamping and constraints (EIANN's):
 * clamping goes to the nearest float of a bound; normalisation and autapse removal follow it
 * and may leave non-sign bounds; clones are not clamped. */
static void test_bounds_then_constraints(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    btsp_layer *l0, *l1, *l2;
    btsp_pop *in, *h, *o;
    EXPECT_OK(net, btsp_layer_add(net, "In", &l0));
    EXPECT_OK(net, btsp_pop_add(l0, "E", 4, &in));
    EXPECT_OK(net, btsp_layer_add(net, "H", &l1));
    EXPECT_OK(net, btsp_pop_add(l1, "E", 4, &h));
    EXPECT_OK(net, btsp_layer_add(net, "Out", &l2));
    EXPECT_OK(net, btsp_pop_add(l2, "E", 2, &o));
    btsp_proj *tiny_hi, *rec, *norm, *clone;
    EXPECT_OK(net, btsp_proj_add(in, h, BTSP_SOMA, &tiny_hi));
    EXPECT_OK(net, btsp_proj_set_bounds(tiny_hi, 0.0, 1e-3)); /* 1e-3 is not a float */
    EXPECT_OK(net, btsp_proj_set_init(tiny_hi, BTSP_INIT_CONSTANT, 1.0, 0.0));
    EXPECT_OK(net, btsp_proj_add(h, h, BTSP_SOMA, &rec));
    EXPECT_OK(net, btsp_proj_set_direction(rec, BTSP_DIR_RECURRENT));
    EXPECT_OK(net, btsp_proj_set_bounds(rec, 1.0, 2.0));
    EXPECT_OK(net, btsp_proj_set_init(rec, BTSP_INIT_CONSTANT, 1.5, 0.0));
    EXPECT_OK(net, btsp_proj_set_no_autapses(rec));
    EXPECT_OK(net, btsp_proj_add(in, o, BTSP_SOMA, &norm));
    EXPECT_OK(net, btsp_proj_set_bounds(norm, 3.0, 3.0));
    EXPECT_OK(net, btsp_proj_set_normalize(norm, 3.0, 0));
    EXPECT_OK(net, btsp_proj_add(o, h, BTSP_DEND, &clone));
    EXPECT_OK(net, btsp_proj_set_bounds(clone, 0.0, 0.1));
    EXPECT_OK(net, btsp_proj_set_clone(clone, norm, 1.0, 1));
    EXPECT_OK(net, btsp_net_finalize(net));

    const float *w;
    size_t r, c;
    EXPECT_OK(net, btsp_proj_weights(tiny_hi, &w, &r, &c));
    for (size_t i = 0; i < r * c; i++)
        assert_true(w[i] == (float)1e-3 && (double)w[i] > 1e-3); /* nearest float, above the bound */
    EXPECT_OK(net, btsp_proj_weights(rec, &w, &r, &c));
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < c; j++)
            assert_true(w[i * c + j] == (i == j ? 0.0f : 1.5f)); /* autapse 0 below the bound 1 */
    EXPECT_OK(net, btsp_proj_weights(norm, &w, &r, &c));
    for (size_t i = 0; i < r * c; i++)
        assert_true(w[i] == 0.75f); /* clamped to 3, then each row of four rescaled to sum 3 */
    EXPECT_OK(net, btsp_proj_weights(clone, &w, &r, &c));
    for (size_t i = 0; i < r * c; i++)
        assert_true(w[i] == 0.75f); /* the clone keeps 0.75 above its bound 0.1 */
    /* btsp_net_constrain applies the same order again. */
    EXPECT_OK(net, btsp_net_constrain(net));
    EXPECT_OK(net, btsp_proj_weights(norm, &w, &r, &c));
    assert_true(w[0] == 0.75f);
    btsp_net_destroy(net);
}

static void test_set_rule(void **state)
{
    (void)state;
    btsp_net *net = new_net(), *other = new_net();
    tiny_net t; /* t.w already has a BTSP rule */
    EXPECT_OK(net, tiny_build(net, &t));
    btsp_layer *lh;
    btsp_pop *h;
    btsp_proj *q;
    EXPECT_OK(net, btsp_layer_add(net, "H", &lh));
    EXPECT_OK(net, btsp_pop_add(lh, "E", 4, &h));
    EXPECT_OK(net, btsp_proj_add(t.in, h, BTSP_SOMA, &q));
    EXPECT_OK(net, btsp_pop_set(t.out, BTSP_POP_OUTPUT, 1.0));
    btsp_rule *hebb, *bias, *foreign;
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &hebb));
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS_BIAS, &bias));
    EXPECT_OK(other, btsp_rule_create(other, BTSP_RULE_HEBB_WEIGHTNORM, &foreign));
    EXPECT_FAIL(net, btsp_proj_set_rule(t.w, hebb), BTSP_E_EXISTS, "OutputE_InputE");
    assert_ptr_equal(btsp_proj_rule(t.w), t.rule);
    EXPECT_FAIL(net, btsp_proj_set_rule(q, t.rule), BTSP_E_EXISTS, "HE_InputE");
    EXPECT_FAIL(net, btsp_proj_set_rule(q, bias), BTSP_E_INVALID_ARG, "DendriticLossBias");
    EXPECT_FAIL(net, btsp_proj_set_rule(q, foreign), BTSP_E_INVALID_ARG, "another network");
    assert_null(btsp_proj_rule(q));
    /* A projection rule as a bias rule. */
    EXPECT_FAIL(net, btsp_pop_set_bias_rule(h, hebb), BTSP_E_INVALID_ARG, "not a bias rule");
    EXPECT_OK(net, btsp_proj_set_rule(q, hebb));
    EXPECT_FAIL(net, btsp_proj_set_rule(q, hebb), BTSP_E_EXISTS, "already attached");
    assert_ptr_equal(btsp_proj_rule(q), hebb);
    /* The bias rule is still unattached: finalize fails, attaching it (with a gate) fixes that. */
    finalize_fails(net, "DendriticLossBias");
    EXPECT_OK(net, btsp_pop_set_bias_rule(t.out, bias));
    finalize_and_run(net);
    EXPECT_FAIL(net, btsp_proj_set_rule(t.w, hebb), BTSP_E_STATE, "btsp_proj_set_rule");
    btsp_net_destroy(net);
    btsp_net_destroy(other);
}

/* ----------------------------------------------------------------------------------------- */
/* Finalize validation                                                                       */
/* ----------------------------------------------------------------------------------------- */

static void test_finalize_no_layers(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    finalize_fails(net, "input layer");
    btsp_layer *l0, *l1;
    btsp_pop *in;
    EXPECT_OK(net, btsp_layer_add(net, "Input", &l0));
    finalize_fails(net, "at least one more layer");
    EXPECT_OK(net, btsp_pop_add(l0, "E", 3, &in));
    EXPECT_OK(net, btsp_layer_add(net, "Output", &l1));
    finalize_fails(net, "'Output' has no population");
    btsp_pop *out;
    EXPECT_OK(net, btsp_pop_add(l1, "E", 2, &out));
    btsp_proj *w;
    EXPECT_OK(net, btsp_proj_add(in, out, BTSP_SOMA, &w));
    finalize_and_run(net);
    btsp_net_destroy(net);
}

static void test_finalize_input_layer(void **state)
{
    (void)state;
    /* Two populations in the input layer: cannot be undone, but the network stays building. */
    btsp_net *net = new_net();
    btsp_pop *in, *out, *in2;
    btsp_proj *w;
    two_layer(net, 4, 2, &in, &out, &w);
    EXPECT_OK(net, btsp_pop_add(btsp_net_layer_at(net, 0), "I", 2, &in2));
    finalize_fails(net, "exactly one population");
    btsp_layer *l;
    btsp_pop *more;
    EXPECT_OK(net, btsp_layer_add(net, "More", &l));
    EXPECT_OK(net, btsp_pop_add(l, "E", 3, &more));
    finalize_fails(net, "exactly one population");
    btsp_net_destroy(net);

    /* The input population receives a projection. */
    net = new_net();
    two_layer(net, 4, 2, &in, &out, &w);
    btsp_proj *back;
    EXPECT_OK(net, btsp_proj_add(out, in, BTSP_SOMA, &back));
    finalize_fails(net, "cannot receive projections");
    btsp_net_destroy(net);

    /* The output flag on the input; a bias on the input: fixable. */
    net = new_net();
    two_layer(net, 4, 2, &in, &out, &w);
    EXPECT_OK(net, btsp_pop_set(in, BTSP_POP_OUTPUT, 1.0));
    finalize_fails(net, "cannot be the input");
    EXPECT_OK(net, btsp_pop_set(in, BTSP_POP_OUTPUT, 0.0));
    EXPECT_OK(net, btsp_pop_set(in, BTSP_POP_INCLUDE_BIAS, 1.0));
    finalize_fails(net, "bias");
    EXPECT_OK(net, btsp_pop_set(in, BTSP_POP_INCLUDE_BIAS, 0.0));
    btsp_gate *g;
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    EXPECT_OK(net, btsp_gate_attach(g, in));
    finalize_fails(net, "gate");
    btsp_net_destroy(net);
}

static void test_finalize_half_kaiming(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, -INFINITY, INFINITY));
    finalize_fails(net, "half-Kaiming");
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, -0.5, 0.5));
    finalize_fails(net, "OutputE_InputE");
    EXPECT_OK(net, btsp_proj_set_bounds(t.w, -0.75, 0.0)); /* inhibitory: U(-a k, 0) */
    EXPECT_OK(net, btsp_net_finalize(net));
    const float *w;
    size_t r, c;
    EXPECT_OK(net, btsp_proj_weights(t.w, &w, &r, &c));
    int neg = 0;
    for (size_t i = 0; i < r * c; i++) {
        assert_true(w[i] <= 0.0f && w[i] >= -0.75f);
        neg += w[i] < 0.0f;
    }
    assert_true(neg > 0);
    btsp_net_destroy(net);
}

static void test_finalize_rules_and_gates(void **state)
{
    (void)state;
    btsp_pop *in, *out;
    btsp_proj *w;
    btsp_rule *r;
    btsp_gate *g;

    /* BTSP without a gate, then without a backward phase. */
    btsp_net *net = new_net();
    two_layer(net, 4, 3, &in, &out, &w);
    EXPECT_OK(net, btsp_proj_set_bounds(w, 0.0, 1.0));
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_BTSP, &r));
    EXPECT_OK(net, btsp_proj_set_rule(w, r));
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    finalize_fails(net, "needs a gate");
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    assert_null(btsp_gate_pop(g)); /* not attached yet */
    EXPECT_OK(net, btsp_gate_attach(g, out));
    assert_ptr_equal(btsp_gate_pop(g), out);
    assert_ptr_equal(btsp_pop_gate(out), g);
    assert_null(btsp_pop_gate(in));
    assert_null(btsp_gate_pop(NULL));
    assert_null(btsp_pop_gate(NULL));
    assert_int_equal(btsp_net_get_backward(net), BTSP_BACKWARD_SETTLE);
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_NONE));
    assert_int_equal(btsp_net_get_backward(net), BTSP_BACKWARD_NONE);
    assert_int_equal(btsp_net_get_backward(NULL), BTSP_BACKWARD_NONE);
    finalize_fails(net, "backward phase");
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SINGLE));
    assert_int_equal(btsp_net_get_backward(net), BTSP_BACKWARD_SINGLE);
    finalize_and_run(net);
    btsp_net_destroy(net);

    /* Dendritic gate without a dendrite. */
    net = new_net();
    two_layer(net, 4, 3, &in, &out, &w);
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &g));
    EXPECT_OK(net, btsp_gate_attach(g, out));
    finalize_fails(net, "no dendrite");
    btsp_dend *d;
    EXPECT_OK(net, btsp_pop_dend(out, &d));
    finalize_and_run(net);
    btsp_net_destroy(net);

    /* Unattached rule, unattached gate. */
    net = new_net();
    two_layer(net, 4, 3, &in, &out, &w);
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_WEIGHTNORM, &r));
    finalize_fails(net, "Hebb_WeightNorm");
    EXPECT_OK(net, btsp_proj_set_rule(w, r));
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    finalize_fails(net, "not attached");
    EXPECT_OK(net, btsp_gate_attach(g, out));
    finalize_and_run(net);
    btsp_net_destroy(net);

    /* DendriticLoss without a dendrite on the post population. */
    net = new_net();
    two_layer(net, 4, 3, &in, &out, &w);
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS, &r));
    EXPECT_OK(net, btsp_proj_set_rule(w, r));
    finalize_fails(net, "DendriticLoss_6");
    EXPECT_OK(net, btsp_pop_dend(out, &d));
    finalize_and_run(net);
    btsp_net_destroy(net);

    /* DendriticLossBias without a gate. */
    net = new_net();
    two_layer(net, 4, 3, &in, &out, &w);
    EXPECT_OK(net, btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS_BIAS, &r));
    EXPECT_OK(net, btsp_pop_set_bias_rule(out, r));
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_OUTPUT_ONLY));
    finalize_fails(net, "Output.E");
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    EXPECT_OK(net, btsp_gate_attach(g, out));
    finalize_and_run(net);
    btsp_net_destroy(net);
}

static void test_finalize_target_gate_not_output(void **state)
{
    (void)state;
    /* A target gate compares with the target, which has the output's size: it belongs on the output
     * population. On a larger hidden population it would read past the target. */
    btsp_net *net = new_net();
    btsp_pop *in, *out, *h;
    btsp_proj *w, *wh;
    two_layer(net, 4, 3, &in, &out, &w);
    btsp_layer *lh;
    EXPECT_OK(net, btsp_layer_add(net, "Top", &lh));
    EXPECT_OK(net, btsp_pop_add(lh, "E", 7, &h));
    EXPECT_OK(net, btsp_pop_set_activation(h, BTSP_ACT_SOFTPLUS, 0, 0));
    EXPECT_OK(net, btsp_proj_add(in, h, BTSP_SOMA, &wh));
    EXPECT_OK(net, btsp_pop_set(out, BTSP_POP_OUTPUT, 1.0));
    EXPECT_OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    btsp_gate *g;
    EXPECT_OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    EXPECT_OK(net, btsp_gate_attach(g, h));
    finalize_fails(net, "Top.E");
    EXPECT_OK(net, btsp_pop_set(h, BTSP_POP_OUTPUT, 1.0));
    finalize_and_run(net);
    btsp_net_destroy(net);
}

/* ----------------------------------------------------------------------------------------- */
/* Weights and state access                                                                  */
/* ----------------------------------------------------------------------------------------- */

static void test_weights_access(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(net, btsp_net_seed(net, 31337));
    float buf[TINY_IN * TINY_OUT], back[TINY_IN * TINY_OUT];
    for (size_t i = 0; i < TINY_IN * TINY_OUT; i++)
        buf[i] = 0.1234f + 0.0371f * (float)i;
    buf[7] = 1.9f; /* above the upper bound: set_weights does not clamp */
    const float *w = buf;
    size_t r = 9, c = 9;
    EXPECT_FAIL(net, btsp_proj_weights(t.w, &w, &r, &c), BTSP_E_STATE, "btsp_proj_weights");
    assert_null(w);
    assert_int_equal(r, 0);
    assert_int_equal(c, 0);
    EXPECT_FAIL(net, btsp_proj_set_weights(t.w, buf, TINY_OUT, TINY_IN), BTSP_E_STATE, "btsp_proj_set_weights");
    EXPECT_FAIL(net, btsp_proj_copy_weights(t.w, back, TINY_OUT, TINY_IN), BTSP_E_STATE, "btsp_proj_copy_weights");
    EXPECT_OK(net, btsp_net_finalize(net));

    EXPECT_FAIL(net, btsp_proj_weights(t.w, NULL, &r, &c), BTSP_E_INVALID_ARG, "btsp_proj_weights");
    assert_int_equal(r, 0);
    EXPECT_FAIL(net, btsp_proj_weights(t.w, &w, NULL, &c), BTSP_E_INVALID_ARG, "btsp_proj_weights");
    assert_null(w);
    EXPECT_FAIL(net, btsp_proj_weights(t.w, &w, &r, NULL), BTSP_E_INVALID_ARG, "btsp_proj_weights");
    const float *live;
    EXPECT_OK(net, btsp_proj_weights(t.w, &live, &r, &c));
    assert_int_equal(r, TINY_OUT);
    assert_int_equal(c, TINY_IN);
    float orig[TINY_IN * TINY_OUT];
    memcpy(orig, live, sizeof orig);

    EXPECT_FAIL(net, btsp_proj_set_weights(t.w, NULL, TINY_OUT, TINY_IN), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(net, btsp_proj_set_weights(t.w, buf, TINY_IN, TINY_OUT), BTSP_E_SHAPE, "expected 3x5, got 5x3");
    EXPECT_FAIL(net, btsp_proj_set_weights(t.w, buf, TINY_OUT, TINY_IN - 1), BTSP_E_SHAPE, "OutputE_InputE");
    EXPECT_FAIL(net, btsp_proj_set_weights(t.w, buf, 0, 0), BTSP_E_SHAPE, "btsp_proj_set_weights");
    const float nonfinite[] = {NAN, INFINITY, -INFINITY};
    for (size_t k = 0; k < 3; k++) {
        float bad[TINY_IN * TINY_OUT];
        memcpy(bad, buf, sizeof bad);
        bad[TINY_IN * TINY_OUT - 1 - k] = nonfinite[k];
        EXPECT_FAIL(net, btsp_proj_set_weights(t.w, bad, TINY_OUT, TINY_IN), BTSP_E_RANGE, "not finite");
        assert_true(memcmp(live, orig, sizeof orig) == 0);
    }
    EXPECT_FAIL(net, btsp_proj_copy_weights(t.w, NULL, TINY_OUT, TINY_IN), BTSP_E_INVALID_ARG, "NULL");
    for (size_t i = 0; i < TINY_IN * TINY_OUT; i++)
        back[i] = 2.385f;
    EXPECT_FAIL(net, btsp_proj_copy_weights(t.w, back, TINY_IN, TINY_OUT), BTSP_E_SHAPE, "btsp_proj_copy_weights");
    EXPECT_FAIL(net, btsp_proj_copy_weights(t.w, back, TINY_OUT + 1, TINY_IN), BTSP_E_SHAPE, "expected 3x5");
    for (size_t i = 0; i < TINY_IN * TINY_OUT; i++)
        assert_true(back[i] == 2.385f);
    EXPECT_OK(net, btsp_proj_copy_weights(t.w, back, TINY_OUT, TINY_IN));
    assert_true(memcmp(back, orig, sizeof orig) == 0);

    /* A valid set is exact and not clamped; the forward pass sees it (the input cache is reset). */
    float x[TINY_IN] = {0.5f, 0.25f, 0.125f, 0.0f, 0.75f};
    float out0[TINY_OUT], out1[TINY_OUT];
    EXPECT_OK(net, btsp_net_evaluate(net, x, 1, TINY_IN, out0, TINY_OUT));
    EXPECT_OK(net, btsp_net_forward(net, x, TINY_IN));
    EXPECT_OK(net, btsp_proj_set_weights(t.w, buf, TINY_OUT, TINY_IN));
    EXPECT_OK(net, btsp_proj_copy_weights(t.w, back, TINY_OUT, TINY_IN));
    assert_true(memcmp(back, buf, sizeof buf) == 0);
    EXPECT_OK(net, btsp_net_forward(net, x, TINY_IN));
    EXPECT_OK(net, btsp_pop_copy_state(t.out, BTSP_VAR_ACTIVITY, out1, TINY_OUT));
    assert_false(memcmp(out0, out1, sizeof out0) == 0);
    EXPECT_OK(net, btsp_net_constrain(net));
    EXPECT_OK(net, btsp_proj_copy_weights(t.w, back, TINY_OUT, TINY_IN));
    assert_true(back[7] == 0.875f);
    assert_true(back[6] == buf[6]);
    btsp_net_destroy(net);
}

static void test_pop_state_access(void **state)
{
    (void)state;
    btsp_net *net = new_net();
    tiny_net t; /* the output has a gate, no dendrite, no bias */
    EXPECT_OK(net, tiny_build(net, &t));
    const float *d = (const float *)net;
    size_t n = 99;
    float buf[8];
    EXPECT_FAIL(net, btsp_pop_state(t.out, BTSP_VAR_ACTIVITY, &d, &n), BTSP_E_STATE, "finalize");
    assert_null(d);
    assert_int_equal(n, 0);
    EXPECT_FAIL(net, btsp_pop_copy_state(t.out, BTSP_VAR_ACTIVITY, buf, TINY_OUT), BTSP_E_STATE, "finalize");
    EXPECT_OK(net, btsp_net_finalize(net));
    static const struct {
        int var;
        btsp_status st;
    } cases[] = {
        {BTSP_VAR_FORWARD_DEND, BTSP_E_NOT_FOUND}, {BTSP_VAR_DEND_STATE, BTSP_E_NOT_FOUND},
        {BTSP_VAR_BIAS, BTSP_E_NOT_FOUND},         {BTSP_VAR_WEIGHTS, BTSP_E_INVALID_ARG},
        {BTSP_VAR_LOSS, BTSP_E_INVALID_ARG},       {-1, BTSP_E_INVALID_ARG},
        {12, BTSP_E_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        d = (const float *)net;
        n = 99;
        EXPECT_FAIL(net, btsp_pop_state(t.out, (btsp_var)cases[i].var, &d, &n), cases[i].st, "btsp_pop_state");
        assert_null(d);
        assert_int_equal(n, 0);
    }
    /* The input population has no gate: no plateau, no nudge. */
    EXPECT_FAIL(net, btsp_pop_state(t.in, BTSP_VAR_PLATEAU, &d, &n), BTSP_E_NOT_FOUND, "Input.E");
    EXPECT_FAIL(net, btsp_pop_state(t.in, BTSP_VAR_NUDGE, &d, &n), BTSP_E_NOT_FOUND, "Input.E");
    EXPECT_FAIL(net, btsp_pop_state(t.out, BTSP_VAR_ACTIVITY, NULL, &n), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(net, btsp_pop_state(t.out, BTSP_VAR_ACTIVITY, &d, NULL), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(net, btsp_pop_copy_state(t.out, BTSP_VAR_ACTIVITY, NULL, TINY_OUT), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(net, btsp_pop_copy_state(t.out, BTSP_VAR_ACTIVITY, buf, TINY_OUT + 1), BTSP_E_SHAPE, "Output.E");
    EXPECT_FAIL(net, btsp_pop_copy_state(t.out, BTSP_VAR_BIAS, buf, TINY_OUT), BTSP_E_NOT_FOUND, "btsp_pop_state");
    /* Every variable the population has is readable; the input's activity is the last input. */
    for (int v = BTSP_VAR_ACTIVITY; v <= BTSP_VAR_NUDGE; v++) {
        if (v == BTSP_VAR_FORWARD_DEND || v == BTSP_VAR_DEND_STATE)
            continue;
        EXPECT_OK(net, btsp_pop_state(t.out, (btsp_var)v, &d, &n));
        assert_int_equal(n, TINY_OUT);
    }
    float x[TINY_IN] = {0.5f, 0.25f, 0.125f, 0.0f, 0.75f};
    EXPECT_OK(net, btsp_net_forward(net, x, TINY_IN));
    EXPECT_OK(net, btsp_pop_copy_state(t.in, BTSP_VAR_ACTIVITY, buf, TINY_IN));
    assert_true(memcmp(buf, x, sizeof x) == 0);
    btsp_net_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_layer_names),
        cmocka_unit_test(test_pop_names_and_sizes),
        cmocka_unit_test(test_activation),
        cmocka_unit_test(test_pop_params),
        cmocka_unit_test(test_bias_init_and_rule),
        cmocka_unit_test(test_dendrites),
        cmocka_unit_test(test_proj_add),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_set_init),
        cmocka_unit_test(test_normalize_and_autapses),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_bounds_then_constraints),
        cmocka_unit_test(test_set_rule),
        cmocka_unit_test(test_finalize_no_layers),
        cmocka_unit_test(test_finalize_input_layer),
        cmocka_unit_test(test_finalize_half_kaiming),
        cmocka_unit_test(test_finalize_rules_and_gates),
        cmocka_unit_test(test_finalize_target_gate_not_output),
        cmocka_unit_test(test_weights_access),
        cmocka_unit_test(test_pop_state_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
