/* Golden trajectory: the published EIANN implementation's weights before and after 1, 2 and 3
 * training steps on Fashion-MNIST training image 0 (config BTSP 5L zero bias, symmetric
 * top-down), reproduced by libbtsp from the same initial weights to float rounding.
 *
 * Data: ../shared/reference/golden/fmnist-btsp5L-img0/{init,after1,after2,after3}/<proj>.npy
 * and the Fashion-MNIST training file (Debian package dataset-fashion-mnist). The test skips,
 * saying why, when either is absent. */
#include "test_support.h"

#include "btsp/btsp_config.h"
#include "btsp/btsp_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG "configs/eiann/fmnist/20250619_EIANN_2_hidden_fmnist_BTSP_config_5L_zero_bias_complete_optimized.yaml"

/* Criterion of the golden data's README: the difference must stay well below 1e-3 of the
 * largest weight change of that projection (since the initial weights: rounding differences
 * carry over from step to step). Projections that do not change at all must match to float
 * rounding of their magnitude. `init` holds the initial weights of every projection. */
static double worst_ratio; /* largest diff / change seen, reported at the end */

static void compare_step(btsp_net *net, const char *golden, int step, float **init)
{
    char dir[1100], path[1400], err[512];
    snprintf(dir, sizeof dir, "%s/after%d", golden, step);
    size_t n_proj = btsp_net_proj_count(net);
    for (size_t i = 0; i < n_proj; i++) {
        btsp_proj *p = btsp_net_proj_at(net, i);
        snprintf(path, sizeof path, "%s/%s.npy", dir, btsp_proj_name(p));
        float *ref = NULL;
        size_t shape[2] = {0, 0}, ndim = 0;
        btsp_status st = btsp_npy_read_f32(path, &ref, shape, &ndim, err, sizeof err);
        if (st)
            fail_msg("%s", err);
        const float *w;
        size_t rows, cols;
        assert_int_equal(btsp_proj_weights(p, &w, &rows, &cols), BTSP_OK);
        assert_int_equal(shape[0], rows);
        assert_int_equal(shape[1], cols);
        double change = test_max_abs_diff(ref, init[i], rows * cols);
        double mag = 0.0;
        for (size_t k = 0; k < rows * cols; k++)
            mag = fmax(mag, fabs(ref[k]));
        double diff = test_max_abs_diff(ref, w, rows * cols);
        double tol = change > 0.0 ? 1e-3 * change : 0.0;
        tol = fmax(tol, 4e-7 * mag);
        if (change > 0.0 && diff / change > worst_ratio)
            worst_ratio = diff / change;
        if (!(diff <= tol))
            fail_msg("step %d, %s: max |libbtsp - EIANN| = %.3g exceeds %.3g (largest EIANN change %.3g)", step,
                     btsp_proj_name(p), diff, tol, change);
        btsp_npy_free(ref);
    }
}

static void golden_trajectory(void **state)
{
    (void)state;
    const char *refdir = test_reference_dir();
    char golden[1024], cfg[1024], err[512];
    if (!refdir) {
        print_message("SKIP: ../shared/reference not found (set BTSP_SHARED_REFERENCE)\n");
        skip();
    }
    snprintf(golden, sizeof golden, "%s/golden/fmnist-btsp5L-img0", refdir);
    if (!test_path_exists(golden)) {
        print_message("SKIP: golden data %s not found\n", golden);
        skip();
    }
    char img[1024], lab[1024], timg[1024], tlab[1024];
    if (btsp_data_find("fashion-mnist", img, lab, timg, tlab, sizeof img, err, sizeof err) != BTSP_OK) {
        print_message("SKIP: Fashion-MNIST not available: %s\n", err);
        skip();
    }
    btsp_idx images, labels;
    assert_int_equal(btsp_idx_read(img, &images, err, sizeof err), BTSP_OK);
    assert_int_equal(btsp_idx_read(lab, &labels, err, sizeof err), BTSP_OK);
    float x[784], y[10] = {0};
    for (int i = 0; i < 784; i++)
        x[i] = (float)images.data[i] / 255.0f;
    y[labels.data[0]] = 1.0f;
    btsp_idx_free(&images);
    btsp_idx_free(&labels);

    snprintf(cfg, sizeof cfg, "%s/%s", test_source_dir(), CONFIG);
    btsp_net *net = NULL;
    if (btsp_config_load(cfg, NULL, &net, err, sizeof err) != BTSP_OK)
        fail_msg("%s", err);
    btsp_net_seed(net, 66049);
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    char init[1100];
    snprintf(init, sizeof init, "%s/init", golden);
    if (btsp_io_load_weights(net, init, 1, err, sizeof err) != BTSP_OK)
        fail_msg("%s", err);

    size_t n_proj = btsp_net_proj_count(net);
    float **before = calloc(n_proj, sizeof *before); /* initial weights */
    assert_non_null(before);
    for (size_t i = 0; i < n_proj; i++) {
        const float *w;
        size_t rows, cols;
        btsp_proj_weights(btsp_net_proj_at(net, i), &w, &rows, &cols);
        before[i] = malloc(rows * cols * sizeof(float));
        assert_non_null(before[i]);
        memcpy(before[i], w, rows * cols * sizeof(float));
    }
    for (int step = 1; step <= 3; step++) {
        assert_int_equal(btsp_net_train_sample(net, x, 784, y, 10), BTSP_OK);
        compare_step(net, golden, step, before);
    }
    print_message("golden: largest |libbtsp - EIANN| / (largest EIANN change) over 3 steps: %.2e\n", worst_ratio);
    for (size_t i = 0; i < n_proj; i++)
        free(before[i]);
    free(before);
    btsp_net_destroy(net);
}

/* BTSP_INIT_RNG_TORCH: built from the same configuration with EIANN's network seed, libbtsp
 * draws EIANN's initial weights (golden/init, written by EIANN with torch.manual_seed(66049))
 * bit for bit. Needs only the golden data (no data set). */
static void golden_init_torch_rng(void **state)
{
    (void)state;
    const char *refdir = test_reference_dir();
    char init[1100], cfg[1024], path[1400], err[512];
    if (!refdir) {
        print_message("SKIP: ../shared/reference not found (set BTSP_SHARED_REFERENCE)\n");
        skip();
    }
    snprintf(init, sizeof init, "%s/golden/fmnist-btsp5L-img0/init", refdir);
    if (!test_path_exists(init)) {
        print_message("SKIP: golden data %s not found\n", init);
        skip();
    }
    snprintf(cfg, sizeof cfg, "%s/%s", test_source_dir(), CONFIG);
    for (int mode = 0; mode < 2; mode++) {
        btsp_net *net = NULL;
        if (btsp_config_load(cfg, NULL, &net, err, sizeof err) != BTSP_OK)
            fail_msg("%s", err);
        btsp_net_seed(net, 66049);
        assert_int_equal(btsp_net_set(net, BTSP_NET_INIT_RNG, mode ? BTSP_INIT_RNG_TORCH : BTSP_INIT_RNG_COUNTER),
                         BTSP_OK);
        assert_int_equal(btsp_net_finalize(net), BTSP_OK);
        size_t equal_projs = 0, n_proj = btsp_net_proj_count(net);
        for (size_t i = 0; i < n_proj; i++) {
            btsp_proj *p = btsp_net_proj_at(net, i);
            snprintf(path, sizeof path, "%s/%s.npy", init, btsp_proj_name(p));
            float *ref = NULL;
            size_t shape[2] = {0, 0}, ndim = 0;
            if (btsp_npy_read_f32(path, &ref, shape, &ndim, err, sizeof err) != BTSP_OK)
                fail_msg("%s", err);
            const float *w;
            size_t rows, cols;
            assert_int_equal(btsp_proj_weights(p, &w, &rows, &cols), BTSP_OK);
            assert_int_equal(shape[0] * shape[1], rows * cols);
            int same = memcmp(ref, w, rows * cols * sizeof *w) == 0;
            if (mode && !same)
                fail_msg("torch-compatible init: %s differs from EIANN's (max |diff| %.3g)", btsp_proj_name(p),
                         test_max_abs_diff(ref, w, rows * cols));
            equal_projs += same;
            btsp_npy_free(ref);
        }
        /* the counter-based stream draws other weights (only constant projections agree) */
        if (!mode)
            assert_true(equal_projs < n_proj / 2);
        btsp_net_destroy(net);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_init_torch_rng),
        cmocka_unit_test(golden_trajectory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
