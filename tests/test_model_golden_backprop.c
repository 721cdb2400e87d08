/* Golden trajectories of the gradient rules: weights produced by the published EIANN
 * implementation (PyTorch autograd + SGD) before and after 1, 2 and 3 training samples, and
 * EIANN's gradient of the first sample's loss for every projection, reproduced by libbtsp from
 * the same initial weights.
 *
 * Data: $BTSP_GOLDEN_LOCAL, default <repo>/../eiann-ref/golden_local, one directory per config
 * stem with init/, after1/, after2/, after3/ (one .npy per projection and bias, as
 * btsp_io_save_weights writes) and grad1/ (dL/dW of sample 1 on the init weights); the samples
 * are training images 0, 1, 2 of the data set named in the config's file name, or inputs.npy /
 * targets.npy for the synthetic networks whose config.yaml lives in the directory. How the data
 * were made: scripts/make-golden-local-backprop.md. Every part skips, saying why, when its data
 * are absent.
 *
 * Criteria: max |libbtsp - EIANN| of every parameter within 1e-3 of EIANN's largest change of
 * that parameter in the step (the change floored at 4e-4 of its largest magnitude, i.e. the
 * check is never finer than 4e-7 of it, float resolution); gradients within 1e-3 of the largest
 * |gradient| of that projection. The reported ratios are diff / (floored) change. See golden()
 * for which EIANN run is the reference and why. */
#include "test_support.h"

#include "btsp/btsp_config.h"
#include "btsp/btsp_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STEMS[] = {
    "20250606_EIANN_2_hidden_fmnist_bpDale_relu_SGD_config_G_zero_bias_complete_optimized",
    "20250606_EIANN_2_hidden_fmnist_van_bp_relu_SGD_config_G_zero_bias_complete_optimized",
    "20250819_EIANN_0_hidden_fmnist_van_bp_relu_SGD_config_G_zero_bias_optimized",
    "20250819_EIANN_2_fixed_hidden_fmnist_van_bp_relu_SGD_config_G_zero_bias_optimized",
    "20240419_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_F_complete_optimized",
    "20240919_EIANN_2_hidden_mnist_bpDale_noI_relu_SGD_config_G_complete_optimized",
    "20241113_EIANN_2_hidden_mnist_BP_like_config_5M_complete_optimized",
    "tiny_bp_bias_full_window",
    "tiny_bp_bias_truncated",
};
#define N_STEMS (sizeof STEMS / sizeof STEMS[0])

static double worst_w, worst_g; /* largest checked diff / change and diff / |grad| */

static const char *golden_root(void)
{
    static char buf[1024];
    const char *env = getenv("BTSP_GOLDEN_LOCAL");
    if (env && env[0])
        return env;
    snprintf(buf, sizeof buf, "%s/../eiann-ref/golden_local", test_source_dir());
    return buf;
}

typedef struct param {
    char name[300];
    float *data; /* the library's live buffer */
    size_t n;
    float *init;
} param;

/* Every projection and bias of the network, with a copy of its current (initial) values. */
static size_t collect(btsp_net *net, param *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < btsp_net_proj_count(net) && k < cap; i++, k++) {
        btsp_proj *p = btsp_net_proj_at(net, i);
        const float *w;
        size_t r, c;
        assert_int_equal(btsp_proj_weights(p, &w, &r, &c), BTSP_OK);
        snprintf(out[k].name, sizeof out[k].name, "%s", btsp_proj_name(p));
        out[k].data = (float *)w;
        out[k].n = r * c;
    }
    for (size_t i = 0; i < btsp_net_pop_count(net) && k < cap; i++) {
        btsp_pop *p = btsp_net_pop_at(net, i);
        const float *b;
        size_t n;
        if (btsp_pop_state(p, BTSP_VAR_BIAS, &b, &n) != BTSP_OK || !b)
            continue;
        double inc = 0.0;
        btsp_pop_get(p, BTSP_POP_INCLUDE_BIAS, &inc);
        if (inc == 0.0)
            continue;
        char nm[256];
        snprintf(nm, sizeof nm, "%s", btsp_pop_full_name(p));
        char *dot = strchr(nm, '.');
        if (dot)
            memmove(dot, dot + 1, strlen(dot));
        snprintf(out[k].name, sizeof out[k].name, "%s_bias", nm);
        out[k].data = (float *)b;
        out[k].n = n;
        k++;
    }
    for (size_t i = 0; i < k; i++) {
        out[i].init = malloc(out[i].n * sizeof(float));
        assert_non_null(out[i].init);
        memcpy(out[i].init, out[i].data, out[i].n * sizeof(float));
    }
    return k;
}

static float *read_npy(const char *path, size_t expect)
{
    float *d = NULL;
    size_t shape[4] = {0}, ndim = 0;
    char err[512];
    if (btsp_npy_read_f32(path, &d, shape, &ndim, err, sizeof err) != BTSP_OK)
        fail_msg("%s", err);
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++)
        n *= shape[i];
    assert_int_equal(n, expect);
    return d;
}

/* Compare the parameters with <dir>/<what><step> (what: "after" or "step"); fail only if
 * `check`. The change is measured from `from` (the values the step or trajectory started
 * with). Returns the largest diff / change. */
static double compare_step(const char *dir, const char *what, int step, param *ps, size_t np, float *const *from,
                           int check)
{
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        /* Sized to fit: dir can be long (it comes from the environment). */
        size_t len = strlen(dir) + strlen(what) + strlen(ps[i].name) + 32;
        char *path = malloc(len);
        assert_non_null(path);
        snprintf(path, len, "%s/%s%d/%s.npy", dir, what, step, ps[i].name);
        float *ref = read_npy(path, ps[i].n);
        free(path);
        double change = test_max_abs_diff(ref, from[i], ps[i].n), mag = 0.0;
        for (size_t k = 0; k < ps[i].n; k++)
            mag = fmax(mag, fabs(ref[k]));
        double diff = test_max_abs_diff(ref, ps[i].data, ps[i].n);
        double tol = fmax(change > 0.0 ? 1e-3 * change : 0.0, 4e-7 * mag);
        if (tol > 0.0 && 1e-3 * diff / tol > worst) /* diff / change, change floored at float resolution */
            worst = 1e-3 * diff / tol;
        if (check && !(diff <= tol))
            fail_msg("%s/%s%d, %s: max |libbtsp - EIANN| = %.3g exceeds %.3g (largest EIANN change %.3g)", dir,
                     what, step, ps[i].name, diff, tol, change);
        btsp_npy_free(ref);
    }
    return worst;
}

/* EIANN's dL/dW of sample 1 (<dir>/grad1, all projections) against btsp_net_loss_gradient;
 * fail only if `check`. Returns the largest diff / max |gradient|. */
static double compare_gradients(btsp_net *net, const char *dir, const float *x, size_t nx, const float *y, size_t ny,
                                int check)
{
    char path[2048];
    double worst = 0.0;
    double bs = 0.0;
    assert_int_equal(btsp_net_get(net, BTSP_NET_BACKWARD_STEPS, &bs), BTSP_OK);
    for (size_t i = 0; i < btsp_net_proj_count(net); i++) {
        btsp_proj *p = btsp_net_proj_at(net, i);
        const float *w;
        size_t r, c;
        btsp_proj_weights(p, &w, &r, &c);
        snprintf(path, sizeof path, "%s/grad1/%s.npy", dir, btsp_proj_name(p));
        if (!test_path_exists(path))
            continue;
        float *ref = read_npy(path, r * c);
        float *g = malloc(r * c * sizeof *g);
        assert_non_null(g);
        assert_int_equal(btsp_net_loss_gradient(net, x, nx, y, ny, (unsigned)bs, p, g, r, c), BTSP_OK);
        double mag = 0.0;
        for (size_t k = 0; k < r * c; k++)
            mag = fmax(mag, fabs(ref[k]));
        double diff = test_max_abs_diff(ref, g, r * c);
        if (mag > 0.0 && diff / mag > worst)
            worst = diff / mag;
        if (check && !(diff <= 1e-3 * mag) && !(mag == 0.0 && diff == 0.0))
            fail_msg("%s: gradient of %s: max |libbtsp - EIANN| = %.3g, largest |EIANN gradient| %.3g", dir,
                     btsp_proj_name(p), diff, mag);
        free(g);
        btsp_npy_free(ref);
    }
    return worst;
}

static int load_samples(const char *dir, const char *stem, float *X, size_t nx, float *Y, size_t ny)
{
    char path[2048], err[512];
    snprintf(path, sizeof path, "%s/inputs.npy", dir);
    if (test_path_exists(path)) {
        float *a = read_npy(path, 3 * nx);
        memcpy(X, a, 3 * nx * sizeof *X);
        btsp_npy_free(a);
        snprintf(path, sizeof path, "%s/targets.npy", dir);
        a = read_npy(path, 3 * ny);
        memcpy(Y, a, 3 * ny * sizeof *Y);
        btsp_npy_free(a);
        return 1;
    }
    const char *set = strstr(stem, "_fmnist_") ? "fashion-mnist" : "mnist";
    char img[1024], lab[1024], timg[1024], tlab[1024];
    if (btsp_data_find(set, img, lab, timg, tlab, sizeof img, err, sizeof err) != BTSP_OK) {
        print_message("SKIP %s: %s not available: %s\n", stem, set, err);
        return 0;
    }
    btsp_idx images, labels;
    assert_int_equal(btsp_idx_read(img, &images, err, sizeof err), BTSP_OK);
    assert_int_equal(btsp_idx_read(lab, &labels, err, sizeof err), BTSP_OK);
    assert_int_equal(nx, 784);
    assert_int_equal(ny, 10);
    memset(Y, 0, 3 * ny * sizeof *Y);
    for (size_t s = 0; s < 3; s++) {
        for (size_t i = 0; i < 784; i++)
            X[s * nx + i] = (float)images.data[s * 784 + i] / 255.0f;
        Y[s * ny + labels.data[s]] = 1.0f;
    }
    btsp_idx_free(&images);
    btsp_idx_free(&labels);
    return 1;
}

static void golden(void **state)
{
    const char *stem = *state;
    const char *root = golden_root();
    char dir[1100], cfg[2048], err[1024], init[1200];
    if (!test_path_exists(root)) {
        print_message("SKIP: %s not found (set BTSP_GOLDEN_LOCAL; scripts/make-golden-local-backprop.md)\n", root);
        skip();
    }
    snprintf(dir, sizeof dir, "%s/%s", root, stem);
    snprintf(init, sizeof init, "%s/init", dir);
    if (!test_path_exists(init)) {
        print_message("SKIP %s: no golden data in %s\n", stem, dir);
        skip();
    }
    snprintf(cfg, sizeof cfg, "%s/config.yaml", dir);
    if (!test_path_exists(cfg))
        snprintf(cfg, sizeof cfg, "%s/configs/eiann/%s/%s.yaml", test_source_dir(),
                 strstr(stem, "_fmnist_") ? "fmnist" : "mnist", stem);
    btsp_net *net = NULL;
    btsp_status st = btsp_config_load(cfg, NULL, &net, err, sizeof err);
    if (st == BTSP_E_UNSUPPORTED) {
        print_message("SKIP %s: %s\n", stem, err);
        skip();
    }
    if (st)
        fail_msg("%s", err);
    btsp_net_seed(net, 66049);
    assert_int_equal(btsp_net_finalize(net), BTSP_OK);
    if (btsp_io_load_weights(net, init, 1, err, sizeof err) != BTSP_OK)
        fail_msg("%s", err);
    size_t nx = btsp_pop_size(btsp_net_input(net)), ny = btsp_pop_size(btsp_net_output(net));
    float *X = malloc(3 * nx * sizeof *X), *Y = malloc(3 * ny * sizeof *Y);
    assert_non_null(X);
    assert_non_null(Y);
    if (!load_samples(dir, stem, X, nx, Y, ny)) {
        free(X);
        free(Y);
        btsp_net_destroy(net);
        skip();
    }
    /* References: EIANN run in float64 (f64/, when present) and as published, in float32. In
     * these E/I networks excitation and inhibition cancel to ~1e-5 of their size at some relu
     * units, so float32 rounding decides on which side of zero such a unit lies; EIANN's float32
     * run and libbtsp then disagree about that unit's gate (one row of a gradient). The float64
     * run is therefore the reference that is checked (and float32 when there is no f64/); each
     * step is checked from EIANN's own weights before that step ("teacher forcing"), so that a
     * gate flipped by rounding in an earlier step does not carry over. The free-running 3-step
     * trajectory and the float32 comparison are reported. */
    char f64[1200];
    snprintf(f64, sizeof f64, "%s/f64", dir);
    int have64 = test_path_exists(f64);
    const char *ref = have64 ? f64 : dir;
    param ps[64];
    size_t np = collect(net, ps, 64);
    float *from[64];
    for (size_t i = 0; i < np; i++) {
        from[i] = malloc(ps[i].n * sizeof(float));
        assert_non_null(from[i]);
    }
    double g64 = compare_gradients(net, ref, X, nx, Y, ny, 1);
    double g32 = have64 ? compare_gradients(net, dir, X, nx, Y, ny, 0) : g64;
    double forced = 0.0, forced32 = 0.0, free_run = 0.0, free32 = 0.0;
    for (int pass = 0; pass < 3; pass++) {
        /* pass 0: teacher-forced vs the reference (checked); 1: free-running vs the reference;
         * 2: teacher-forced vs float32 (only with f64/) */
        if (pass == 2 && !have64)
            break;
        const char *rdir = pass == 2 ? dir : ref;
        if (btsp_io_load_weights(net, init, 1, err, sizeof err) != BTSP_OK)
            fail_msg("%s", err);
        btsp_net_reset(net, BTSP_RESET_STATE);
        for (int step = 1; step <= 3; step++) {
            if (pass != 1 && step > 1) {
                char prev[1300];
                snprintf(prev, sizeof prev, "%s/after%d", rdir, step - 1);
                if (btsp_io_load_weights(net, prev, 1, err, sizeof err) != BTSP_OK)
                    fail_msg("%s", err);
            }
            if (pass != 1 || step == 1)
                for (size_t i = 0; i < np; i++)
                    memcpy(from[i], ps[i].data, ps[i].n * sizeof(float));
            assert_int_equal(btsp_net_train_sample(net, X + (size_t)(step - 1) * nx, nx,
                                                   Y + (size_t)(step - 1) * ny, ny),
                             BTSP_OK);
            /* with f64/, pass 0 compares with the float64 step from the same (rounded) weights */
            double r = compare_step(rdir, pass == 0 && have64 ? "step" : "after", step, ps, np, from, pass == 0);
            if (pass == 0)
                forced = fmax(forced, r);
            else if (pass == 1)
                free_run = fmax(free_run, r);
            else
                forced32 = fmax(forced32, r);
            if (pass == 1 && have64)
                free32 = fmax(free32, compare_step(dir, "after", step, ps, np, from, 0));
        }
    }
    if (!have64) {
        forced32 = forced;
        free32 = free_run;
    }
    print_message("%s (max diff / max change)\n"
                  "  vs EIANN %s: gradient %.2e, each step from EIANN's weights %.2e, free 3-step run %.2e\n"
                  "  vs EIANN float32: gradient %.2e, each step %.2e, free run %.2e\n",
                  stem, have64 ? "float64" : "float32", g64, forced, free_run, g32, forced32, free32);
    worst_g = fmax(worst_g, g64);
    worst_w = fmax(worst_w, forced);
    for (size_t i = 0; i < np; i++)
        free(from[i]);
    for (size_t i = 0; i < np; i++)
        free(ps[i].init);
    free(X);
    free(Y);
    btsp_net_destroy(net);
}

int main(void)
{
    struct CMUnitTest tests[N_STEMS];
    for (size_t i = 0; i < N_STEMS; i++) {
        struct CMUnitTest t = {STEMS[i], golden, NULL, NULL, (void *)STEMS[i]};
        tests[i] = t;
    }
    int rc = _cmocka_run_group_tests("golden_backprop", tests, N_STEMS, NULL, NULL);
    print_message("golden_backprop: worst over the checked references: gradient %.2e, weights %.2e\n", worst_g,
                  worst_w);
    return rc;
}
