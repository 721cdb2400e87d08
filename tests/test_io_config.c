/* libbtsp_io: EIANN YAML configurations (btsp_config_load, btsp_config_load_string). */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include "btsp/btsp_config.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FMNIST_5L "fmnist/20250619_EIANN_2_hidden_fmnist_BTSP_config_5L_zero_bias_complete_optimized.yaml"

static void eiann_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/configs/eiann/%s", test_source_dir(), rel);
}

/* ------------------------------------------------------------------------------------------ */
/* Every shipped EIANN configuration                                                           */

static int is_btsp_5l(const char *name)
{
    return strstr(name, "BTSP_config_5L") != NULL;
}

/* Files that must load and finalize besides the BTSP 5L ones: the local-rule networks (DTP,
 * temporal contrast, BCM, top-layer + Hebb). */
static int is_local_rule_config(const char *name)
{
    static const char *const stems[] = {
        "20250607_EIANN_2_hidden_fmnist_DTP_config_5J_zero_bias_complete_optimized.yaml",
        "20250619_EIANN_2_hidden_fmnist_DTP_config_5J_learn_TD_HTCWN_2_zero_bias_complete_optimized.yaml",
        "20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized.yaml",
        "20240723_EIANN_2_hidden_mnist_Supervised_BCM_config_4_complete_optimized.yaml",
        "20241009_EIANN_2_hidden_mnist_BP_like_config_5J_complete_optimized.yaml",
        "20241105_EIANN_2_hidden_mnist_Top_Layer_Supervised_Hebb_WeightNorm_config_7_complete_optimized.yaml",
        "20241113_EIANN_2_hidden_mnist_BP_like_config_5K_complete_optimized.yaml",
        "20241114_EIANN_2_hidden_mnist_BP_like_config_5J_fixed_TD_complete_optimized.yaml",
        "20241120_EIANN_2_hidden_mnist_BP_like_config_5J_learn_TD_HTCWN_2_complete_optimized.yaml",
        "20241125_EIANN_2_hidden_mnist_Hebb_Temp_Contrast_config_2_complete_optimized.yaml",
    };
    for (size_t i = 0; i < sizeof stems / sizeof stems[0]; i++)
        if (strcmp(name, stems[i]) == 0)
            return 1;
    return 0;
}

static void test_all_shipped(void **state)
{
    (void)state;
    static const char *const dirs[] = {"mnist", "fmnist"};
    size_t n_files = 0, n_ok = 0, n_local = 0, n_other = 0;
    for (size_t d = 0; d < 2; d++) {
        char dir[1024];
        eiann_path(dir, sizeof dir, dirs[d]);
        DIR *dp = opendir(dir);
        assert_non_null(dp);
        struct dirent *e;
        while ((e = readdir(dp)) != NULL) {
            size_t nl = strlen(e->d_name);
            if (nl < 6 || strcmp(e->d_name + nl - 5, ".yaml") != 0)
                continue;
            char path[2048], err[1024];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            btsp_net *net = (btsp_net *)0x1;
            btsp_status st = btsp_config_load(path, NULL, &net, err, sizeof err);
            n_files++;
            if (is_btsp_5l(e->d_name)) {
                if (st != BTSP_OK)
                    fail_msg("%s: %s", e->d_name, err);
                assert_non_null(net);
                assert_string_equal(err, "");
                assert_int_equal(btsp_net_pop_count(net), 9);
                assert_int_equal(btsp_net_proj_count(net), 23);
                btsp_status fs = btsp_net_finalize(net);
                if (fs != BTSP_OK)
                    fail_msg("%s: finalize: %s", e->d_name, btsp_net_errmsg(net));
                btsp_net_destroy(net);
                n_ok++;
            } else if (is_local_rule_config(e->d_name) || st == BTSP_OK) {
                /* local-rule networks must load; others (backprop, ...) may, as rules land */
                if (st != BTSP_OK)
                    fail_msg("%s: %s", e->d_name, err);
                assert_non_null(net);
                assert_string_equal(err, "");
                btsp_status fs = btsp_net_finalize(net);
                if (fs != BTSP_OK)
                    fail_msg("%s: finalize: %s", e->d_name, btsp_net_errmsg(net));
                btsp_net_destroy(net);
                if (is_local_rule_config(e->d_name))
                    n_local++;
                else
                    n_other++;
            } else {
                /* rules of a later version: a clear refusal, never a crash */
                if (st != BTSP_E_UNSUPPORTED)
                    fail_msg("%s: expected BTSP_E_UNSUPPORTED, got %s: %s", e->d_name, btsp_status_name(st), err);
                assert_null(net);
                assert_non_null(strstr(err, e->d_name));
                assert_true(strstr(err, "not implemented in this version of libbtsp") != NULL ||
                            strstr(err, "not supported") != NULL || strstr(err, "not modelled") != NULL);
            }
        }
        closedir(dp);
    }
    assert_int_equal(n_files, 29);
    assert_int_equal(n_ok, 5);
    assert_int_equal(n_local, 10);
    assert_int_equal(n_ok + n_local + n_other, n_files); /* since 0.2 every original config loads */
    print_message("shipped configs: %zu BTSP 5L, %zu local-rule and %zu other networks load\n", n_ok, n_local,
                  n_other);
}

/* ------------------------------------------------------------------------------------------ */
/* The Fashion-MNIST BTSP 5L configuration in detail                                           */

typedef struct proj_expect {
    const char *name;
    btsp_compartment comp;
    double lo, hi;
    int kind; /* 0 = fixed weights */
    double lr;
} proj_expect;

static void test_5l_fmnist_detail(void **state)
{
    (void)state;
    char path[1024], err[1024];
    eiann_path(path, sizeof path, FMNIST_5L);
    btsp_net *net = NULL;
    btsp_status st = btsp_config_load(path, NULL, &net, err, sizeof err);
    if (st)
        fail_msg("%s", err);

    double v;
    assert_int_equal(btsp_net_get(net, BTSP_NET_TAU, &v), BTSP_OK);
    assert_true(v == 3.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_FORWARD_STEPS, &v), BTSP_OK);
    assert_true(v == 15.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_BACKWARD_STEPS, &v), BTSP_OK);
    assert_true(v == 0.0);
    assert_int_equal(btsp_net_get(net, BTSP_NET_LEARNING_RATE, &v), BTSP_OK);
    assert_true(v == 0.9553728);

    static const struct {
        const char *name;
        size_t size;
    } pops[] = {{"Input.E", 784}, {"H1.E", 500},    {"H1.SomaI", 50},   {"H1.DendI", 50}, {"H2.E", 500},
                {"H2.SomaI", 50}, {"H2.DendI", 50}, {"Output.E", 10}, {"Output.SomaI", 10}};
    assert_int_equal(btsp_net_layer_count(net), 4);
    assert_int_equal(btsp_net_pop_count(net), 9);
    for (size_t i = 0; i < 9; i++) {
        btsp_pop *p = btsp_net_pop_at(net, i);
        assert_non_null(p);
        assert_string_equal(btsp_pop_full_name(p), pops[i].name);
        assert_int_equal(btsp_pop_size(p), pops[i].size);
    }
    assert_string_equal(btsp_pop_full_name(btsp_net_input(net)), "Input.E");
    assert_string_equal(btsp_pop_full_name(btsp_net_output(net)), "Output.E");

    const double inf = INFINITY;
    static const proj_expect px[] = {
        {"H1E_InputE", BTSP_SOMA, 0, 0.22617085008362386, BTSP_RULE_BTSP, 0.004227019388924618},
        {"H1E_H1SomaI", BTSP_SOMA, -INFINITY, 0, 0, 0},
        {"H1E_H1DendI", BTSP_DEND, -INFINITY, 0, BTSP_RULE_DENDRITIC_LOSS, 0.06098033865229452},
        {"H1E_H2E", BTSP_DEND, 0, INFINITY, 0, 0},
        {"H1SomaI_InputE", BTSP_SOMA, 0, INFINITY, 0, 0},
        {"H1SomaI_H1E", BTSP_SOMA, 0, INFINITY, 0, 0},
        {"H1SomaI_H1SomaI", BTSP_SOMA, -INFINITY, 0, 0, 0},
        {"H1DendI_H1E", BTSP_SOMA, 0, INFINITY, BTSP_RULE_HEBB_WEIGHTNORM, 0.20372268686857808},
        {"H1DendI_H1DendI", BTSP_SOMA, -INFINITY, 0, BTSP_RULE_HEBB_WEIGHTNORM, 0.16560599126845238},
        {"H2E_H1E", BTSP_SOMA, 0, 0.2832107013769023, BTSP_RULE_BTSP, 0.004227019388924618},
        {"H2E_H2SomaI", BTSP_SOMA, -INFINITY, 0, 0, 0},
        {"H2E_H2DendI", BTSP_DEND, -INFINITY, 0, BTSP_RULE_DENDRITIC_LOSS, 0.06098033865229452},
        {"H2E_OutputE", BTSP_DEND, 0, INFINITY, 0, 0},
        {"H2SomaI_H1E", BTSP_SOMA, 0, INFINITY, 0, 0},
        {"H2SomaI_H2E", BTSP_SOMA, 0, INFINITY, 0, 0},
        {"H2SomaI_H2SomaI", BTSP_SOMA, -INFINITY, 0, 0, 0},
        {"H2DendI_H2E", BTSP_SOMA, 0, INFINITY, BTSP_RULE_HEBB_WEIGHTNORM, 0.20372268686857808},
        {"H2DendI_H2DendI", BTSP_SOMA, -INFINITY, 0, BTSP_RULE_HEBB_WEIGHTNORM, 0.16560599126845238},
        {"OutputE_H2E", BTSP_SOMA, 0, 0.4130114392240917, BTSP_RULE_BTSP, 0.01920445501210893},
        {"OutputE_OutputSomaI", BTSP_SOMA, -INFINITY, 0, 0, 0},
        {"OutputSomaI_H2E", BTSP_SOMA, 0, INFINITY, 0, 0},
        {"OutputSomaI_OutputE", BTSP_SOMA, 0, INFINITY, 0, 0},
        {"OutputSomaI_OutputSomaI", BTSP_SOMA, -INFINITY, 0, 0, 0},
    };
    (void)inf;
    assert_int_equal(btsp_net_proj_count(net), 23);
    for (size_t i = 0; i < 23; i++) {
        btsp_proj *q = btsp_net_proj_at(net, i);
        assert_non_null(q);
        assert_string_equal(btsp_proj_name(q), px[i].name); /* file order */
        assert_int_equal(btsp_proj_compartment(q), px[i].comp);
        double lo, hi;
        assert_int_equal(btsp_proj_get_bounds(q, &lo, &hi), BTSP_OK);
        assert_true(lo == px[i].lo);
        assert_true(hi == px[i].hi);
        btsp_rule *r = btsp_proj_rule(q);
        if (!px[i].kind) {
            assert_null(r);
            continue;
        }
        assert_non_null(r);
        assert_int_equal(btsp_rule_get_kind(r), px[i].kind);
        assert_int_equal(btsp_rule_get(r, BTSP_RULE_LEARNING_RATE, &v), BTSP_OK);
        assert_true(v == px[i].lr);
    }

    /* rule kwargs */
    btsp_proj *q;
    assert_int_equal(btsp_net_find_proj(net, "H1E_InputE", &q), BTSP_OK);
    assert_int_equal(btsp_rule_get(btsp_proj_rule(q), BTSP_RULE_TEMPORAL_DISCOUNT, &v), BTSP_OK);
    assert_true(v == 0.0005366533370376131);
    assert_int_equal(btsp_rule_get(btsp_proj_rule(q), BTSP_RULE_DEP_RATIO, &v), BTSP_OK);
    assert_true(v == 1.0);
    assert_int_equal(btsp_net_find_proj(net, "H1E_H1DendI", &q), BTSP_OK);
    assert_int_equal(btsp_rule_get(btsp_proj_rule(q), BTSP_RULE_SIGN, &v), BTSP_OK);
    assert_true(v == -1.0);
    assert_int_equal(btsp_net_find_proj(net, "H2DendI_H2DendI", &q), BTSP_OK);
    assert_int_equal(btsp_rule_get(btsp_proj_rule(q), BTSP_RULE_SIGN, &v), BTSP_OK);
    assert_true(v == -1.0);
    assert_int_equal(btsp_rule_get(btsp_proj_rule(q), BTSP_RULE_FORWARD_ONLY, &v), BTSP_OK);
    assert_true(v == 1.0);

    /* Gates: the dendritic projections need a gate on H1.E and H2.E, so finalize succeeds only
     * if they exist; the output gate is checked through one training step below. */
    assert_int_equal(btsp_net_seed(net, 7), BTSP_OK);
    st = btsp_net_finalize(net);
    if (st)
        fail_msg("finalize: %s", btsp_net_errmsg(net));

    /* Weights follow the constraints: the clone H2E_OutputE = 3.933... * (OutputE_H2E)^T */
    const float *w, *b;
    size_t r1, c1, r2, c2;
    btsp_proj *fwd, *td;
    assert_int_equal(btsp_net_find_proj(net, "OutputE_H2E", &fwd), BTSP_OK);
    assert_int_equal(btsp_net_find_proj(net, "H2E_OutputE", &td), BTSP_OK);
    assert_int_equal(btsp_proj_weights(fwd, &w, &r1, &c1), BTSP_OK);
    assert_int_equal(btsp_proj_weights(td, &b, &r2, &c2), BTSP_OK);
    assert_int_equal(r1, 10);
    assert_int_equal(c1, 500);
    assert_int_equal(r2, 500);
    assert_int_equal(c2, 10);
    for (size_t i = 0; i < r2; i++)
        for (size_t j = 0; j < c2; j++)
            assert_float_equal(b[i * c2 + j], 3.93333441818103 * w[j * c1 + i], 1e-6);

    /* One training step: the output plateau is the relu-gated target error (target gate). */
    float x[784], y[10] = {0};
    for (size_t i = 0; i < 784; i++)
        x[i] = (float)((i * 37u) % 101u) / 100.0f;
    y[3] = 1.0f;
    assert_int_equal(btsp_net_train_sample(net, x, 784, y, 10), BTSP_OK);
    btsp_pop *out = btsp_net_output(net);
    const float *plateau, *afwd;
    size_t n;
    assert_int_equal(btsp_pop_state(out, BTSP_VAR_PLATEAU, &plateau, &n), BTSP_OK);
    assert_int_equal(n, 10);
    assert_int_equal(btsp_pop_state(out, BTSP_VAR_FORWARD_ACTIVITY, &afwd, &n), BTSP_OK);
    for (size_t i = 0; i < 10; i++) {
        double e = (double)y[i] - (double)afwd[i];
        e = e < -1.0 ? -1.0 : e > 1.0 ? 1.0 : e;
        assert_float_equal(plateau[i], afwd[i] == 0.0f ? 0.0 : e, 1e-6);
    }
    btsp_net_destroy(net);
}

/* ------------------------------------------------------------------------------------------ */
/* A small valid configuration and its malformed variants                                      */

static const char base_yaml[] =
    "layer_config:\n"                                                 /* 1 */
    "  Input:\n"                                                      /* 2 */
    "    E:\n"                                                        /* 3 */
    "      size: 4\n"                                                 /* 4 */
    "  H1:\n"                                                         /* 5 */
    "    E:\n"                                                        /* 6 */
    "      size: 3\n"                                                 /* 7 */
    "      activation: relu\n"                                        /* 8 */
    "    DendI:\n"                                                    /* 9 */
    "      size: 2\n"                                                 /* 10 */
    "      activation: relu\n"                                        /* 11 */
    "  Output:\n"                                                     /* 12 */
    "    E:\n"                                                        /* 13 */
    "      size: 2\n"                                                 /* 14 */
    "      activation: relu\n"                                        /* 15 */
    "projection_config:\n"                                            /* 16 */
    "  H1:\n"                                                         /* 17 */
    "    E:\n"                                                        /* 18 */
    "      Input:\n"                                                  /* 19 */
    "        E:\n"                                                    /* 20 */
    "          weight_init: half_kaiming\n"                           /* 21 */
    "          weight_bounds: !!python/tuple [0, 1]\n"                /* 22 */
    "          learning_rule: BTSP_19\n"                              /* 23 */
    "          learning_rule_kwargs: {learning_rate: 0.01}\n"         /* 24 */
    "      H1:\n"                                                     /* 25 */
    "        DendI:\n"                                                /* 26 */
    "          weight_bounds: [null, 0]\n"                            /* 27 */
    "          compartment: dend\n"                                   /* 28 */
    "          direction: R\n"                                        /* 29 */
    "          update_phase: B\n"                                     /* 30 */
    "          learning_rule: null\n"                                 /* 31 */
    "      Output:\n"                                                 /* 32 */
    "        E:\n"                                                    /* 33 */
    "          compartment: dend\n"                                   /* 34 */
    "          update_phase: B\n"                                     /* 35 */
    "          weight_constraint: clone_weight\n"                     /* 36 */
    "          weight_constraint_kwargs: {source: Output.E.H1.E, transpose: true, scale: 0.5}\n" /* 37 */
    "          learning_rule: null\n"                                 /* 38 */
    "    DendI:\n"                                                    /* 39 */
    "      H1:\n"                                                     /* 40 */
    "        E:\n"                                                    /* 41 */
    "          weight_bounds: [0, null]\n"                            /* 42 */
    "          direction: R\n"                                        /* 43 */
    "          learning_rule: null\n"                                 /* 44 */
    "  Output:\n"                                                     /* 45 */
    "    E:\n"                                                        /* 46 */
    "      H1:\n"                                                     /* 47 */
    "        E:\n"                                                    /* 48 */
    "          weight_init: half_kaiming\n"                           /* 49 */
    "          weight_init_args: !!python/tuple [1.5]\n"              /* 50 */
    "          weight_bounds: [0, 2]\n"                               /* 51 */
    "          learning_rule: BTSP_19\n"                              /* 52 */
    "training_kwargs:\n"                                              /* 53 */
    "  tau: 3\n"                                                      /* 54 */
    "  forward_steps: 5\n"                                            /* 55 */
    "  backward_steps: 0\n"                                           /* 56 */
    "  learning_rate: 0.5\n";                                         /* 57 */

/* base_yaml with line `line` (1-based) replaced by `text` (may hold several lines or be empty);
 * line 0 appends text. Caller frees. */
static char *variant(size_t line, const char *text)
{
    size_t bl = strlen(base_yaml), tl = strlen(text);
    char *out = malloc(bl + tl + 2);
    assert_non_null(out);
    if (line == 0) {
        memcpy(out, base_yaml, bl);
        memcpy(out + bl, text, tl);
        out[bl + tl] = '\n';
        out[bl + tl + 1] = '\0';
        return out;
    }
    const char *p = base_yaml;
    for (size_t i = 1; i < line; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
    }
    const char *e = strchr(p, '\n');
    assert_non_null(e);
    size_t head = (size_t)(p - base_yaml);
    memcpy(out, base_yaml, head);
    memcpy(out + head, text, tl);
    out[head + tl] = '\n';
    strcpy(out + head + tl + 1, e + 1);
    return out;
}

/* Load `text` and expect `status`, a NULL network and a message "cfg.yaml:<line>:" (line > 0)
 * containing `needle` (may be NULL). */
static void expect_error(const char *text, btsp_status status, size_t line, const char *needle)
{
    char err[1024];
    btsp_net *net = (btsp_net *)0x1;
    btsp_status st = btsp_config_load_string(text, strlen(text), "cfg.yaml", NULL, &net, err, sizeof err);
    if (st != status)
        fail_msg("expected %s, got %s: %s", btsp_status_name(status), btsp_status_name(st), err);
    if (status == BTSP_OK) {
        assert_non_null(net);
        assert_string_equal(err, "");
        btsp_net_destroy(net);
        return;
    }
    assert_null(net);
    assert_null(strchr(err, '\n')); /* one line, whatever the file holds */
    char prefix[64];
    if (line) {
        snprintf(prefix, sizeof prefix, "cfg.yaml:%zu:", line);
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            fail_msg("expected a message starting with '%s': %s", prefix, err);
    }
    if (needle && !strstr(err, needle))
        fail_msg("expected '%s' in: %s", needle, err);
}

static void expect_variant(size_t line, const char *text, btsp_status status, size_t err_line, const char *needle)
{
    char *y = variant(line, text);
    expect_error(y, status, err_line, needle);
    free(y);
}

/* receptive_field_mask's geometry reaches btsp_proj_set_receptive_fields(): [H, W] is 1 x H x W,
 * [C, H, W] keeps C; the norm is the scale only with apply_weight_norm. */
static void test_receptive_field_geometry(void **state)
{
    (void)state;
    static const struct {
        const char *kw;
        size_t side, ch, h, w;
        double norm;
    } cases[] = {
        {"{receptive_field_size: 1, image_dims: [2, 1, 2]}", 1, 2, 1, 2, 0.0},
        {"{receptive_field_size: 2, image_dims: [2, 2], apply_weight_norm: true, scale: 0.75}", 2, 1, 2, 2, 0.75},
        {"{receptive_field_size: 1, image_dims: [4, 1], apply_weight_norm: false}", 1, 1, 4, 1, 0.0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512], err[512];
        snprintf(text, sizeof text,
                 "          weight_bounds: [0, 1]\n          weight_constraint: receptive_field_mask\n"
                 "          weight_constraint_kwargs: %s",
                 cases[i].kw);
        char *y = variant(22, text);
        btsp_net *net = NULL;
        btsp_status st = btsp_config_load_string(y, strlen(y), "cfg.yaml", NULL, &net, err, sizeof err);
        free(y);
        if (st)
            fail_msg("%s: %s", cases[i].kw, err);
        btsp_proj *q;
        size_t side, ch, h, w;
        double norm;
        assert_int_equal(btsp_net_find_proj(net, "H1E_InputE", &q), BTSP_OK);
        assert_int_equal(btsp_proj_get_receptive_fields(q, &side, &ch, &h, &w, &norm), BTSP_OK);
        if (side != cases[i].side || ch != cases[i].ch || h != cases[i].h || w != cases[i].w || norm != cases[i].norm)
            fail_msg("%s: side %zu, %zu x %zu x %zu, norm %g", cases[i].kw, side, ch, h, w, norm);
        btsp_net_destroy(net);
    }
}

static void test_base_valid(void **state)
{
    (void)state;
    char err[512];
    btsp_net *net = NULL;
    btsp_status st = btsp_config_load_string(base_yaml, strlen(base_yaml), "cfg.yaml", NULL, &net, err, sizeof err);
    if (st)
        fail_msg("%s", err);
    assert_string_equal(err, "");
    assert_int_equal(btsp_net_pop_count(net), 4);
    assert_int_equal(btsp_net_proj_count(net), 5);
    btsp_proj *q;
    double lo, hi;
    assert_int_equal(btsp_net_find_proj(net, "H1E_OutputE", &q), BTSP_OK);
    assert_int_equal(btsp_proj_compartment(q), BTSP_DEND);
    assert_int_equal(btsp_proj_direction(q), BTSP_DIR_FORWARD); /* the default (line 32-38) */
    assert_int_equal(btsp_proj_phase(q), BTSP_PHASE_BACKWARD);  /* update_phase: B */
    assert_null(btsp_proj_rule(q));
    assert_int_equal(btsp_net_find_proj(net, "H1E_H1DendI", &q), BTSP_OK);
    assert_int_equal(btsp_proj_direction(q), BTSP_DIR_RECURRENT); /* direction: R (line 29) */
    assert_int_equal(btsp_proj_phase(q), BTSP_PHASE_BACKWARD);
    assert_int_equal(btsp_net_find_proj(net, "H1DendI_H1E", &q), BTSP_OK);
    assert_int_equal(btsp_proj_get_bounds(q, &lo, &hi), BTSP_OK);
    assert_true(lo == 0.0 && hi == INFINITY);
    assert_int_equal(btsp_proj_direction(q), BTSP_DIR_RECURRENT); /* line 43 */
    assert_int_equal(btsp_proj_phase(q), BTSP_PHASE_FORWARD);     /* the default */
    assert_int_equal(btsp_net_find_proj(net, "OutputE_H1E", &q), BTSP_OK);
    assert_int_equal(btsp_rule_get_kind(btsp_proj_rule(q)), BTSP_RULE_BTSP);
    double v;
    assert_int_equal(btsp_rule_get(btsp_proj_rule(q), BTSP_RULE_LEARNING_RATE, &v), BTSP_OK);
    /* no learning_rate kwarg: the network rate 0.5 applies */
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    assert_int_equal(btsp_rule_get(btsp_proj_rule(q), BTSP_RULE_LEARNING_RATE, &v), BTSP_OK);
    assert_true(v == 0.5);
    btsp_net_destroy(net);

    /* a NULL allocator is malloc; a counting allocator sees everything returned */
    test_alloc_state as = {0};
    btsp_allocator a = test_allocator(&as);
    st = btsp_config_load_string(base_yaml, strlen(base_yaml), NULL, &a, &net, err, sizeof err);
    assert_int_equal(st, BTSP_OK);
    assert_true(as.n_alloc > 0);
    btsp_net_destroy(net);
    assert_int_equal(as.live_bytes, 0);
}

static void test_simplified_form(void **state)
{
    (void)state;
    static const char yaml[] =
        "layer_config:\n"
        "  Input: {E: {size: 4}}\n"
        "  H1:\n"
        "    E: {size: 3, activation: relu}\n"
        "    DendI: {size: 2, activation: srelu, activation_kwargs: {max: 2}}\n"
        "  Output:\n"
        "    E: {size: 2, activation: relu, bias: 'uniform(-0.1, 0.1)'}\n"
        "projection_config:\n"
        "  H1.E:\n"
        "    Input.E: {weight_init: half_kaiming, type: E, learning_rule: BTSP_19}\n"
        "    H1.DendI: {type: I, compartment: dend, direction: R, update_phase: B, learning_rule: None}\n"
        "    Output.E: {compartment: dend, update_phase: B, weight_constraint: clone_weight,\n"
        "               weight_constraint_kwargs: {source: OutputE_H1E, transpose: true}, learning_rule: None}\n"
        "  H1.DendI:\n"
        "    H1.E: {type: excitatory, direction: recurrent, learning_rule: None}\n"
        "  Output.E:\n"
        "    H1.E: {weight_init: scaled_kaiming, weight_init_args: 2, learning_rule: BTSP_19,\n"
        "           learning_rule_kwargs: {relu_gate: false, learning_rate: .inf}}\n";
    char err[512];
    btsp_net *net = NULL;
    btsp_status st = btsp_config_load_string(yaml, strlen(yaml), "s.yaml", NULL, &net, err, sizeof err);
    /* learning_rate .inf is out of the library's bounds: reported with the library's message */
    assert_int_equal(st, BTSP_E_RANGE);
    assert_non_null(strstr(err, "s.yaml:18:"));
    assert_non_null(strstr(err, "key 'learning_rate'"));
    assert_non_null(strstr(err, "btsp_rule_set"));
    assert_null(net);

    char *fixed = malloc(sizeof yaml);
    assert_non_null(fixed);
    memcpy(fixed, yaml, sizeof yaml);
    char *p = strstr(fixed, ".inf");
    memcpy(p, "0.25", 4);
    st = btsp_config_load_string(fixed, strlen(fixed), "s.yaml", NULL, &net, err, sizeof err);
    free(fixed);
    if (st)
        fail_msg("%s", err);
    btsp_proj *q;
    double lo, hi;
    assert_int_equal(btsp_net_find_proj(net, "H1E_H1DendI", &q), BTSP_OK);
    assert_int_equal(btsp_proj_get_bounds(q, &lo, &hi), BTSP_OK);
    assert_true(lo == -INFINITY && hi == 0.0);
    assert_int_equal(btsp_proj_compartment(q), BTSP_DEND);
    assert_int_equal(btsp_proj_direction(q), BTSP_DIR_RECURRENT); /* direction: R */
    assert_int_equal(btsp_proj_phase(q), BTSP_PHASE_BACKWARD);    /* update_phase: B */
    assert_null(btsp_proj_rule(q));
    assert_int_equal(btsp_net_find_proj(net, "H1DendI_H1E", &q), BTSP_OK);
    assert_int_equal(btsp_proj_get_bounds(q, &lo, &hi), BTSP_OK);
    assert_true(lo == 0.0 && hi == INFINITY);
    assert_int_equal(btsp_proj_direction(q), BTSP_DIR_RECURRENT); /* direction: recurrent */
    assert_int_equal(btsp_proj_phase(q), BTSP_PHASE_FORWARD);     /* the default */
    assert_int_equal(btsp_net_find_proj(net, "H1E_OutputE", &q), BTSP_OK);
    assert_int_equal(btsp_proj_direction(q), BTSP_DIR_FORWARD);
    btsp_pop *pop;
    assert_int_equal(btsp_net_find_pop(net, "Output.E", &pop), BTSP_OK);
    double v;
    assert_int_equal(btsp_pop_get(pop, BTSP_POP_INCLUDE_BIAS, &v), BTSP_OK);
    assert_true(v == 1.0);
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    btsp_net_destroy(net);
}

static void test_malformed(void **state)
{
    (void)state;
    /* the list */
    expect_variant(0, "foo: 1", BTSP_E_FORMAT, 58, "key 'foo'");
    expect_variant(8, "      activaton: relu", BTSP_E_FORMAT, 8, "key 'activaton'");
    expect_variant(23, "          learning_rule: BTSP_99", BTSP_E_FORMAT, 23, "unknown learning_rule 'BTSP_99'");
    expect_variant(23, "          learning_rule: BTSP_99", BTSP_E_FORMAT, 23,
                   "projection H1.E <- Input.E: key 'learning_rule'");
    expect_variant(7, "      size: \"abc\"", BTSP_E_FORMAT, 7, "key 'size'");
    expect_variant(7, "      size: abc", BTSP_E_FORMAT, 7, "population H1.E: key 'size'");
    expect_variant(7, "      size: -3", BTSP_E_FORMAT, 7, "key 'size': must be positive");
    expect_variant(7, "      size: 0", BTSP_E_FORMAT, 7, "key 'size'");
    expect_variant(7, "      size: 2.5", BTSP_E_FORMAT, 7, "key 'size'");
    expect_variant(7, "      size: 010", BTSP_E_FORMAT, 7, "key 'size'"); /* PyYAML: octal 8 */
    expect_variant(7, "      tau: 2", BTSP_E_FORMAT, 7, "key 'size': missing");
    expect_variant(22, "          weight_bounds: !!python/tuple [0, 1, 2]", BTSP_E_FORMAT, 22,
                   "key 'weight_bounds': expected 2 elements, got 3");
    expect_variant(50, "          weight_init_args: !!python/tuple [1.5, 2]", BTSP_E_FORMAT, 50,
                   "key 'weight_init_args'");
    expect_variant(37, "          weight_constraint_kwargs: {source: Output.E.H9.E, transpose: true}", BTSP_E_FORMAT,
                   37, "clone source 'Output.E.H9.E' does not exist");
    expect_variant(28, "          compartment: dendrite", BTSP_E_FORMAT, 28, "key 'compartment': 'dendrite'");
    expect_variant(10, "      size: 2: 3", BTSP_E_FORMAT, 10, "YAML syntax error");
    expect_variant(22, "          weight_bounds: [0, 1", BTSP_E_FORMAT, 0, "YAML syntax error");

    /* more */
    expect_variant(8, "      size: 5", BTSP_E_FORMAT, 8, "key 'size': duplicate key");
    /* several duplicates: the earliest second occurrence in the file is reported (found by
     * sorting, not by a quadratic scan) */
    expect_variant(24, "          learning_rule_kwargs: {b: 1, a: 1, c: 1, a: 2, b: 2, c: 3}", BTSP_E_FORMAT, 24,
                   "key 'a': duplicate key");
    expect_variant(24, "          learning_rule_kwargs: {b: 1, a: 1, c: 1, c: 2, b: 2, a: 3}", BTSP_E_FORMAT, 24,
                   "key 'c': duplicate key");
    expect_variant(24,
                   "          learning_rule_kwargs:\n            b: 1\n            a: 1\n            c: 1\n"
                   "            a: 2\n            b: 2",
                   BTSP_E_FORMAT, 28, "key 'a': duplicate key (first at line 26)");
    /* an invalid key and a duplicate: the one earlier in the file is reported */
    expect_variant(24, "          learning_rule_kwargs: {learning_rate: 0.1, learning_rate: 0.2, \"\": 1}", BTSP_E_FORMAT,
                   24, "key 'learning_rate': duplicate key");
    expect_variant(24, "          learning_rule_kwargs: {\"\": 1, learning_rate: 0.1, learning_rate: 0.2}", BTSP_E_FORMAT,
                   24, "empty or invalid mapping key");
    expect_variant(24, "          learning_rule_kwargs: {learning_rat: 0.01}", BTSP_E_FORMAT, 24,
                   "rule 'BTSP_19' has no kwarg 'learning_rat'");
    expect_variant(24, "          learning_rule_kwargs: {stochastic: 3}", BTSP_E_FORMAT, 24, "key 'stochastic'");
    expect_variant(52, "          learning_rule: BP_like_2E", BTSP_E_FORMAT, 52, "backward mode");
    expect_variant(44, "          learning_rule: BTSP_19", BTSP_E_FORMAT, 44, "no projection targets its dendrite");
    expect_variant(44, "          learning_rule: DendriticLossBias", BTSP_E_FORMAT, 44, "bias rule");
    /* no learning_rule key: Backprop, the EIANN default */
    expect_variant(31, "", BTSP_OK, 0, NULL);
    expect_variant(31, "          learning_rule: Backprop_DendriticLoss\n          learning_rule_kwargs: {source: H1.X}",
                   BTSP_E_FORMAT, 32, "population 'H1.X' does not exist");
    expect_variant(31, "          learning_rule: Backprop_DendriticLoss\n          learning_rule_kwargs: {source: Output.E}",
                   BTSP_E_FORMAT, 32, "has no dendritic state");
    expect_variant(31, "          learning_rule: Backprop_DendriticLoss", BTSP_E_FORMAT, 31, "needs the kwarg 'source'");
    expect_variant(44, "          learning_rule: Backprop_DendriticLoss\n          learning_rule_kwargs: {source: H1.E}",
                   BTSP_OK, 0, NULL);
    expect_variant(38, "          learning_rule: DendriticLoss_6", BTSP_E_FORMAT, 38, "cannot learn");
    expect_variant(57, "  optimizer: Adam", BTSP_E_UNSUPPORTED, 57, "key 'optimizer'");
    expect_variant(57, "  momentum: 0.9", BTSP_E_FORMAT, 57, "training_kwargs: key 'momentum'");
    expect_variant(57, "  seed: 42\n  device: cpu\n  verbose: false\n  criterion: MSELoss\n  optimizer: SGD",
                   BTSP_OK, 0, NULL);
    expect_variant(11, "      population_type: Conv2D", BTSP_E_UNSUPPORTED, 11, "key 'population_type'");
    expect_variant(11, "      activation: elu", BTSP_E_UNSUPPORTED, 11, "activation 'elu'");
    expect_variant(19, "      Inputt:", BTSP_E_FORMAT, 19, "unknown layer 'Inputt'");
    expect_variant(20, "        X:", BTSP_E_FORMAT, 20, "layer 'Input' has no population 'X'");
    expect_variant(21, "          weight_init_args: [1.0]", BTSP_E_FORMAT, 21, "given without weight_init");
    expect_variant(21, "          weight_init: normal_", BTSP_E_UNSUPPORTED, 21, "'normal_'");
    expect_variant(27, "          weight_bounds: [null, 0]\n          weight_init: half_kaiming", BTSP_OK, 0, NULL);
    expect_variant(42, "          weight_bounds: [1, 0]", BTSP_E_FORMAT, 42, "lower bound");
    expect_variant(42, "          weight_bounds: 5", BTSP_E_FORMAT, 42, "expected a sequence");
    expect_variant(43, "          direction: sideways", BTSP_E_FORMAT, 43, "key 'direction'");
    expect_variant(36, "          weight_constraint: receptive_field_mask", BTSP_E_FORMAT, 37,
                   "receptive_field_mask has no kwarg 'source'");
    /* receptive_field_mask on H1.E <- Input.E (4 inputs): line 22 becomes lines 22-24 */
#define RF_LINES(kw)                                                                                               \
    "          weight_bounds: [0, 1]\n          weight_constraint: receptive_field_mask\n"                        \
    "          weight_constraint_kwargs: " kw
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2, 2]}"), BTSP_OK, 0, NULL);
    expect_variant(22, RF_LINES("{receptive_field_size: 2, image_dims: !!python/tuple [1, 2, 2], apply_weight_norm: "
                                "true, scale: 1.5}"),
                   BTSP_OK, 0, NULL);
    expect_variant(22, RF_LINES("{image_dims: [2, 2]}"), BTSP_E_FORMAT, 23, "needs a 'receptive_field_size'");
    expect_variant(22, RF_LINES("{receptive_field_size: 2}"), BTSP_E_SHAPE, 23, "1 x 28 x 28");
    expect_variant(22, RF_LINES("{receptive_field_size: 3, image_dims: [2, 2]}"), BTSP_E_RANGE, 23, "side 3");
    expect_variant(22, RF_LINES("{receptive_field_size: 0, image_dims: [2, 2]}"), BTSP_E_FORMAT, 24,
                   "key 'receptive_field_size'");
    expect_variant(22, RF_LINES("{receptive_field_size: 1.5, image_dims: [2, 2]}"), BTSP_E_FORMAT, 24,
                   "key 'receptive_field_size'");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2.5, 2]}"), BTSP_E_FORMAT, 24,
                   "positive integers");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [0, 2, 2]}"), BTSP_E_FORMAT, 24,
                   "positive integers");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [4]}"), BTSP_E_FORMAT, 24,
                   "expected 2 to 3 elements, got 1");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2, 2], scale: 1.0}"), BTSP_E_FORMAT, 24,
                   "without 'apply_weight_norm: true'");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2, 2], apply_weight_norm: true}"),
                   BTSP_E_FORMAT, 23, "apply_weight_norm needs a 'scale'");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2, 2], apply_weight_norm: true, scale: -1}"),
                   BTSP_E_FORMAT, 24, "scale must be a finite number > 0");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2, 2], apply_weight_norm: true, scale: null}"),
                   BTSP_E_FORMAT, 24, "key 'scale'");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2, 2], axis: 1}"), BTSP_E_FORMAT, 24,
                   "has no kwarg 'axis' (accepted: receptive_field_size, image_dims, apply_weight_norm, scale)");
    expect_variant(22, RF_LINES("{receptive_field_size: 1, image_dims: [2, 2], apply_weight_norm: maybe}"),
                   BTSP_E_FORMAT, 24, "key 'apply_weight_norm'");
#undef RF_LINES
    expect_variant(36, "          weight_constraint: no_autapses", BTSP_E_FORMAT, 37, "key 'source'");
    expect_variant(15, "      activation: relu\n      output_pop: true\n  Extra:\n    E: {size: 1, output_pop: true}",
                   BTSP_E_FORMAT, 18, "more than one population has output_pop");
    expect_variant(4, "      size: 4\n      activation: relu", BTSP_E_FORMAT, 5, "input population");
    expect_variant(11, "      activation: relu\n      bias_init: zero_", BTSP_E_FORMAT, 12, "has no bias");
    expect_variant(11, "      activation: relu\n      include_bias: true\n      bias_init: scaled_kaiming\n"
                       "      bias_init_args: [0.5]\n      bias_bounds: [-1, null]\n      tau: 2",
                   BTSP_OK, 0, NULL);
    expect_variant(5, "  H1.x:", BTSP_E_FORMAT, 5, "must not contain '.'");
    /* names become file names of saved weights; a quoted YAML key may hold any character */
    expect_variant(5, "  H1/x:", BTSP_E_FORMAT, 5, "'/'");
    expect_variant(5, "  \"H\\n1\":", BTSP_E_FORMAT, 5, "name 'H?1'");
    expect_error("", BTSP_E_FORMAT, 1, "empty document");
    expect_error("- 1\n- 2\n", BTSP_E_FORMAT, 1, "expected a mapping");
    expect_error("layer_config: {}\nprojection_config: {}\n", BTSP_E_FORMAT, 1, "at least two layers");
    expect_error("a: 1\n---\nb: 2\n", BTSP_E_FORMAT, 0, NULL);
}

static void test_arguments(void **state)
{
    (void)state;
    char err[512];
    btsp_net *net = (btsp_net *)0x1;
    assert_int_equal(btsp_config_load_string(base_yaml, strlen(base_yaml), "x", NULL, NULL, err, sizeof err),
                     BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_config_load_string(NULL, 5, "x", NULL, &net, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_null(net);
    btsp_allocator bad = {NULL, NULL, NULL};
    assert_int_equal(btsp_config_load_string(base_yaml, strlen(base_yaml), "x", &bad, &net, err, sizeof err),
                     BTSP_E_INVALID_ARG);
    net = (btsp_net *)0x1;
    assert_int_equal(btsp_config_load("/nonexistent/dir/cfg.yaml", NULL, &net, err, sizeof err), BTSP_E_IO);
    assert_null(net);
    assert_non_null(strstr(err, "/nonexistent/dir/cfg.yaml"));

    /* a short buffer is truncated and terminated; err may be NULL */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    char *y = variant(0, "foo: 1");
    assert_int_equal(btsp_config_load_string(y, strlen(y), "cfg.yaml", NULL, &net, tiny, sizeof tiny),
                     BTSP_E_FORMAT);
    assert_int_equal(tiny[7], '\0');
    assert_string_equal(tiny, "cfg.yam");
    assert_int_equal(btsp_config_load_string(y, strlen(y), "cfg.yaml", NULL, &net, NULL, 0), BTSP_E_FORMAT);
    assert_int_equal(btsp_config_load_string(y, strlen(y), "cfg.yaml", NULL, &net, tiny, 0), BTSP_E_FORMAT);
    free(y);

    /* the text need not be NUL-terminated: only len bytes are read */
    size_t bl = strlen(base_yaml);
    char *copy = malloc(bl + 16);
    assert_non_null(copy);
    memcpy(copy, base_yaml, bl);
    memcpy(copy + bl, "garbage: [\n", 11);
    assert_int_equal(btsp_config_load_string(copy, bl, "x", NULL, &net, err, sizeof err), BTSP_OK);
    btsp_net_destroy(net);
    free(copy);
}

/* ------------------------------------------------------------------------------------------ */
/* Allocation failures                                                                         */

static void test_alloc_failures(void **state)
{
    (void)state;
    char path[1024], err[512];
    eiann_path(path, sizeof path, FMNIST_5L);
    size_t fail_at;
    int done = 0;
    for (fail_at = 1; fail_at < 100000 && !done; fail_at++) {
        test_alloc_state as;
        memset(&as, 0, sizeof as);
        as.fail_at = fail_at;
        btsp_allocator a = test_allocator(&as);
        btsp_net *net = (btsp_net *)0x1;
        btsp_status st = btsp_config_load(path, &a, &net, err, sizeof err);
        if (st == BTSP_OK) {
            assert_true(as.n_calls < fail_at); /* the failing index was never reached */
            btsp_net_destroy(net);
            done = 1;
        } else {
            if (st != BTSP_E_NOMEM)
                fail_msg("fail_at %zu: expected BTSP_E_NOMEM, got %s: %s", fail_at, btsp_status_name(st), err);
            assert_null(net);
            assert_non_null(strstr(err, "out of memory"));
        }
        if (as.live_bytes != 0)
            fail_msg("fail_at %zu: %zu bytes leaked", fail_at, as.live_bytes);
    }
    assert_true(done);
    assert_true(fail_at > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_shipped),   cmocka_unit_test(test_5l_fmnist_detail),
        cmocka_unit_test(test_receptive_field_geometry),
        cmocka_unit_test(test_base_valid),    cmocka_unit_test(test_simplified_form),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
