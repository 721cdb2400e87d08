/* libbtsp_io: saving and loading network weights and biases as .npy files. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include "btsp/btsp_io.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A tiny network: Input.E (3) -> Out.E (2, with bias), finalized. */
typedef struct fixture {
    char dir[256];
    btsp_net *net;
    btsp_proj *proj;
    btsp_pop *in, *out;
} fixture;

static btsp_net *build_net(int with_bias, btsp_proj **proj, btsp_pop **in, btsp_pop **out)
{
    btsp_net *net = NULL;
    btsp_layer *li = NULL, *lo = NULL;
    btsp_pop *pi = NULL, *po = NULL;
    btsp_proj *p = NULL;
    if (btsp_net_create(&net) != BTSP_OK)
        return NULL;
    if (btsp_layer_add(net, "Input", &li) != BTSP_OK || btsp_pop_add(li, "E", 3, &pi) != BTSP_OK ||
        btsp_layer_add(net, "Out", &lo) != BTSP_OK || btsp_pop_add(lo, "E", 2, &po) != BTSP_OK ||
        btsp_proj_add(pi, po, BTSP_SOMA, &p) != BTSP_OK ||
        (with_bias && btsp_pop_set(po, BTSP_POP_INCLUDE_BIAS, 1.0) != BTSP_OK) ||
        btsp_net_finalize(net) != BTSP_OK) {
        btsp_net_destroy(net);
        return NULL;
    }
    if (proj)
        *proj = p;
    if (in)
        *in = pi;
    if (out)
        *out = po;
    return net;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *base = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/btsp_w_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    f->net = build_net(1, &f->proj, &f->in, &f->out);
    if (!f->net) {
        rmdir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    btsp_net_destroy(f->net);
    test_remove_tree(f->dir, 2);
    free(f);
    return 0;
}

static void get_weights(fixture *f, float w[6], float b[2])
{
    assert_int_equal(btsp_proj_copy_weights(f->proj, w, 2, 3), BTSP_OK);
    assert_int_equal(btsp_pop_copy_state(f->out, BTSP_VAR_BIAS, b, 2), BTSP_OK);
}

static void set_weights(fixture *f, const float w[6], const float b[2])
{
    assert_int_equal(btsp_proj_set_weights(f->proj, w, 2, 3), BTSP_OK);
    assert_int_equal(btsp_pop_set_bias(f->out, b, 2), BTSP_OK);
}

static void path_in(fixture *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->dir, name);
}

/* ---------------------------------------------------------------------------------------- */

static void test_names(void **state)
{
    fixture *f = *state;
    assert_string_equal(btsp_proj_name(f->proj), "OutE_InputE");
}

static void test_save_load_round_trip(void **state)
{
    fixture *f = *state;
    const float w[6] = { 0.5f, -1.0f, 0.25f, 2.0f, -0.125f, 3.0f }, b[2] = { 0.75f, -0.5f };
    set_weights(f, w, b);
    char sub[512], err[512] = "x";
    path_in(f, "run/weights", sub, sizeof sub); /* nested, created on demand */
    assert_int_equal(btsp_io_save_weights(f->net, sub, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");

    /* Files as numpy would see them. */
    char p[768];
    float *data = NULL;
    size_t shape[2], nd;
    snprintf(p, sizeof p, "%s/OutE_InputE.npy", sub);
    assert_int_equal(btsp_npy_read_f32(p, &data, shape, &nd, err, sizeof err), BTSP_OK);
    assert_int_equal(nd, 2);
    assert_int_equal(shape[0], 2);
    assert_int_equal(shape[1], 3);
    assert_memory_equal(data, w, sizeof w);
    btsp_npy_free(data);
    snprintf(p, sizeof p, "%s/OutE_bias.npy", sub);
    assert_int_equal(btsp_npy_read_f32(p, &data, shape, &nd, err, sizeof err), BTSP_OK);
    assert_int_equal(nd, 1);
    assert_int_equal(shape[0], 2);
    assert_memory_equal(data, b, sizeof b);
    btsp_npy_free(data);
    /* The input population has no bias, so no file. */
    snprintf(p, sizeof p, "%s/InputE_bias.npy", sub);
    assert_false(test_path_exists(p));

    /* Change the net, load, get the saved values back. */
    const float z[6] = { 0 }, zb[2] = { 0 };
    set_weights(f, z, zb);
    assert_int_equal(btsp_io_load_weights(f->net, sub, 1, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");
    float rw[6], rb[2];
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w, sizeof w);
    assert_memory_equal(rb, b, sizeof b);

    /* Into a second network built the same way. */
    btsp_proj *proj2 = NULL;
    btsp_net *net2 = build_net(1, &proj2, NULL, NULL);
    assert_non_null(net2);
    assert_int_equal(btsp_io_load_weights(net2, sub, 1, NULL, 0), BTSP_OK);
    assert_int_equal(btsp_proj_copy_weights(proj2, rw, 2, 3), BTSP_OK);
    assert_memory_equal(rw, w, sizeof w);
    btsp_net_destroy(net2);
}

static void test_optional_files(void **state)
{
    fixture *f = *state;
    const float w[6] = { 1, 2, 3, 4, 5, 6 }, b[2] = { 7, 8 };
    set_weights(f, w, b);
    assert_int_equal(btsp_io_save_weights(f->net, f->dir, NULL, 0), BTSP_OK);
    char p[512], err[512];
    path_in(f, "OutE_bias.npy", p, sizeof p);
    assert_int_equal(remove(p), 0);

    const float w2[6] = { 0 }, b2[2] = { -1, -2 };
    set_weights(f, w2, b2);
    /* require_all: the missing bias is an error naming the file; nothing changes. */
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 1, err, sizeof err), BTSP_E_NOT_FOUND);
    assert_non_null(strstr(err, "OutE_bias.npy"));
    float rw[6], rb[2];
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w2, sizeof w2);
    assert_memory_equal(rb, b2, sizeof b2);

    /* Without require_all, the weights load and the bias stays. */
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 0, err, sizeof err), BTSP_OK);
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w, sizeof w);
    assert_memory_equal(rb, b2, sizeof b2);

    /* Bias accepted as (1, n) too. */
    size_t bs[2] = { 1, 2 };
    assert_int_equal(btsp_npy_write_f32(p, b, 2, bs, NULL, 0), BTSP_OK);
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 1, err, sizeof err), BTSP_OK);
    get_weights(f, rw, rb);
    assert_memory_equal(rb, b, sizeof b);

    /* No file at all: an error even without require_all. */
    char empty[512];
    path_in(f, "empty", empty, sizeof empty);
    assert_int_equal(mkdir(empty, 0777), 0);
    assert_int_equal(btsp_io_load_weights(f->net, empty, 0, err, sizeof err), BTSP_E_NOT_FOUND);
    assert_non_null(strstr(err, "OutE_InputE"));
    path_in(f, "nope", empty, sizeof empty);
    assert_int_equal(btsp_io_load_weights(f->net, empty, 0, err, sizeof err), BTSP_E_NOT_FOUND);
    assert_non_null(strstr(err, "nope"));
}

static void test_bad_files_change_nothing(void **state)
{
    fixture *f = *state;
    const float w[6] = { 1, 2, 3, 4, 5, 6 }, b[2] = { 7, 8 };
    set_weights(f, w, b);
    assert_int_equal(btsp_io_save_weights(f->net, f->dir, NULL, 0), BTSP_OK);
    const float w0[6] = { -1, -1, -1, -1, -1, -1 }, b0[2] = { -3, -3 };
    set_weights(f, w0, b0);
    char wp[512], bp[512], err[512];
    path_in(f, "OutE_InputE.npy", wp, sizeof wp);
    path_in(f, "OutE_bias.npy", bp, sizeof bp);
    float rw[6], rb[2];

    /* Transposed weights: shape error with expected and found shapes. */
    size_t ts[2] = { 3, 2 };
    assert_int_equal(btsp_npy_write_f32(wp, w, 2, ts, NULL, 0), BTSP_OK);
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 1, err, sizeof err), BTSP_E_SHAPE);
    assert_non_null(strstr(err, "OutE_InputE.npy"));
    assert_non_null(strstr(err, "expected shape (2, 3)"));
    assert_non_null(strstr(err, "found (3, 2)"));
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w0, sizeof w0);
    assert_memory_equal(rb, b0, sizeof b0);

    /* Good weights, bad bias: all or nothing, the weights are not applied either. */
    size_t ws[2] = { 2, 3 }, bs[1] = { 3 };
    assert_int_equal(btsp_npy_write_f32(wp, w, 2, ws, NULL, 0), BTSP_OK);
    const float b3[3] = { 1, 2, 3 };
    assert_int_equal(btsp_npy_write_f32(bp, b3, 1, bs, NULL, 0), BTSP_OK);
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 1, err, sizeof err), BTSP_E_SHAPE);
    assert_non_null(strstr(err, "OutE_bias.npy"));
    assert_non_null(strstr(err, "expected shape (2,)"));
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w0, sizeof w0);
    assert_memory_equal(rb, b0, sizeof b0);

    /* Corrupt bias file. */
    FILE *fp = fopen(bp, "wb");
    assert_non_null(fp);
    fputs("garbage", fp);
    fclose(fp);
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 0, err, sizeof err), BTSP_E_FORMAT);
    assert_non_null(strstr(err, "OutE_bias.npy"));
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w0, sizeof w0);

    /* Non-finite value. */
    const float bnan[2] = { 1.0f, NAN };
    size_t b2s[1] = { 2 };
    assert_int_equal(btsp_npy_write_f32(bp, bnan, 1, b2s, NULL, 0), BTSP_OK);
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 0, err, sizeof err), BTSP_E_RANGE);
    assert_non_null(strstr(err, "not finite"));
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w0, sizeof w0);
    assert_memory_equal(rb, b0, sizeof b0);

    /* Fixed: loads. */
    assert_int_equal(btsp_npy_write_f32(bp, b, 1, b2s, NULL, 0), BTSP_OK);
    assert_int_equal(btsp_io_load_weights(f->net, f->dir, 1, err, sizeof err), BTSP_OK);
    get_weights(f, rw, rb);
    assert_memory_equal(rw, w, sizeof w);
    assert_memory_equal(rb, b, sizeof b);
}

static void test_state_and_arguments(void **state)
{
    fixture *f = *state;
    char err[256];
    btsp_net *net = NULL;
    btsp_layer *l = NULL;
    btsp_pop *p = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    assert_int_equal(btsp_layer_add(net, "Input", &l), BTSP_OK);
    assert_int_equal(btsp_pop_add(l, "E", 3, &p), BTSP_OK);
    assert_int_equal(btsp_io_save_weights(net, f->dir, err, sizeof err), BTSP_E_STATE);
    assert_non_null(strstr(err, "finalized"));
    assert_int_equal(btsp_io_load_weights(net, f->dir, 0, err, sizeof err), BTSP_E_STATE);
    btsp_net_destroy(net);

    assert_int_equal(btsp_io_save_weights(NULL, f->dir, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_io_save_weights(f->net, NULL, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_io_save_weights(f->net, "", err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_io_load_weights(NULL, f->dir, 0, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_io_load_weights(f->net, NULL, 0, err, sizeof err), BTSP_E_INVALID_ARG);

    /* A file where the directory should be. */
    char file[512];
    path_in(f, "plain-file", file, sizeof file);
    FILE *fp = fopen(file, "wb");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(btsp_io_save_weights(f->net, file, err, sizeof err), BTSP_E_IO);
    assert_non_null(strstr(err, "plain-file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_optional_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_and_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
