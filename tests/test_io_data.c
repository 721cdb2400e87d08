/* libbtsp_io: data sets from IDX files, subsets, the EIANN split and btsp_data_find(). */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include "btsp/btsp_io.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>


static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Write an IDX ubyte file (gzip if gz) with the given dims and data. */
static void write_idx(const char *path, int gz, int ndim, const uint32_t *dims,
                      const unsigned char *data)
{
    unsigned char head[16] = { 0, 0, 0x08, (unsigned char)ndim };
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        put_be32(head + 4 + 4 * i, dims[i]);
        n *= dims[i];
    }
    size_t hl = 4 + 4 * (size_t)ndim;
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, head, (unsigned)hl), (int)hl);
        if (n)
            assert_int_equal(gzwrite(g, data, (unsigned)n), (int)n);
        assert_int_equal(gzclose(g), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(head, 1, hl, f), hl);
        if (n)
            assert_int_equal(fwrite(data, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
    }
}

/* n images of 2 x 3 pixels (pixel value i*6+j scaled) and labels i % n_lab. */
static void write_small_set(const char *dir, const char *prefix, uint32_t n, int gz, unsigned n_lab)
{
    char p[512];
    unsigned char *img = malloc(n * 6 + 1), *lab = malloc(n + 1);
    assert_non_null(img);
    assert_non_null(lab);
    for (uint32_t i = 0; i < n * 6; i++)
        img[i] = (unsigned char)(i * 13 % 256);
    for (uint32_t i = 0; i < n; i++)
        lab[i] = (unsigned char)(i % n_lab);
    const uint32_t di[3] = { n, 2, 3 }, dl[1] = { n };
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_idx(p, gz, 3, di, img);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    write_idx(p, gz, 1, dl, lab);
    free(img);
    free(lab);
}

/* ---------------------------------------------------------------------------------------- */

static void test_load_small(void **state)
{
    const char *dir = test_tmpdir_path(state);
    write_small_set(dir, "train", 12, 1, 10);
    char ip[512], lp[512], err[512] = "x";
    snprintf(ip, sizeof ip, "%s/train-images-idx3-ubyte.gz", dir);
    snprintf(lp, sizeof lp, "%s/train-labels-idx1-ubyte.gz", dir);
    btsp_dataset ds;
    assert_int_equal(btsp_dataset_load_idx(ip, lp, &ds, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");
    assert_int_equal(ds.n, 12);
    assert_int_equal(ds.dim, 6);
    assert_int_equal(ds.n_classes, 10);
    for (size_t i = 0; i < 12 * 6; i++)
        assert_true(ds.x[i] == (float)(i * 13 % 256) / 255.0f);
    for (size_t i = 0; i < 12; i++) {
        assert_int_equal(ds.labels[i], i % 10);
        for (size_t c = 0; c < 10; c++)
            assert_true(ds.y[i * 10 + c] == (c == i % 10 ? 1.0f : 0.0f));
    }

    /* Subsets are copies. */
    btsp_dataset sub;
    assert_int_equal(btsp_dataset_subset(&ds, 3, 5, &sub), BTSP_OK);
    assert_int_equal(sub.n, 5);
    assert_int_equal(sub.dim, 6);
    assert_int_equal(sub.n_classes, 10);
    assert_memory_equal(sub.x, ds.x + 3 * 6, 5 * 6 * sizeof(float));
    assert_memory_equal(sub.y, ds.y + 3 * 10, 5 * 10 * sizeof(float));
    assert_memory_equal(sub.labels, ds.labels + 3, 5);
    assert_true(sub.x != ds.x + 18);
    btsp_dataset_free(&sub);
    assert_null(sub.x);
    assert_int_equal(sub.n, 0);

    assert_int_equal(btsp_dataset_subset(&ds, 12, 0, &sub), BTSP_OK);
    assert_int_equal(sub.n, 0);
    btsp_dataset_free(&sub);
    assert_int_equal(btsp_dataset_subset(&ds, 10, 3, &sub), BTSP_E_SHAPE);
    assert_null(sub.x);
    assert_int_equal(btsp_dataset_subset(&ds, 13, 0, &sub), BTSP_E_SHAPE);
    assert_int_equal(btsp_dataset_subset(&ds, 1, SIZE_MAX, &sub), BTSP_E_SHAPE);
    assert_int_equal(btsp_dataset_subset(&ds, 0, 1, &ds), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_dataset_subset(NULL, 0, 1, &sub), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_dataset_subset(&ds, 0, 1, NULL), BTSP_E_INVALID_ARG);

    /* Not 60,000 rows: no EIANN split. */
    btsp_dataset tr, va;
    assert_int_equal(btsp_dataset_split_eiann(&ds, &tr, &va), BTSP_E_SHAPE);
    assert_null(tr.x);
    assert_null(va.x);
    btsp_dataset_free(&ds);
    btsp_dataset_free(NULL);

    /* More classes than 10: n_classes follows the largest label. Plain files this time. */
    write_small_set(dir, "t10k", 15, 0, 15);
    snprintf(ip, sizeof ip, "%s/t10k-images-idx3-ubyte", dir);
    snprintf(lp, sizeof lp, "%s/t10k-labels-idx1-ubyte", dir);
    assert_int_equal(btsp_dataset_load_idx(ip, lp, &ds, NULL, 0), BTSP_OK);
    assert_int_equal(ds.n_classes, 15);
    assert_true(ds.y[14 * 15 + 14] == 1.0f);
    btsp_dataset_free(&ds);
}

static void test_load_errors(void **state)
{
    const char *dir = test_tmpdir_path(state);
    char ip[512], lp[512], err[512];
    btsp_dataset ds;
    write_small_set(dir, "train", 12, 0, 10);
    write_small_set(dir, "t10k", 11, 0, 10);
    snprintf(ip, sizeof ip, "%s/train-images-idx3-ubyte", dir);
    snprintf(lp, sizeof lp, "%s/t10k-labels-idx1-ubyte", dir);

    /* Row counts differ. */
    assert_int_equal(btsp_dataset_load_idx(ip, lp, &ds, err, sizeof err), BTSP_E_SHAPE);
    assert_non_null(strstr(err, "12 images"));
    assert_non_null(strstr(err, "11 labels"));
    assert_null(ds.x);
    assert_int_equal(ds.n, 0);

    /* Swapped files: labels given as images. */
    assert_int_equal(btsp_dataset_load_idx(lp, ip, &ds, err, sizeof err), BTSP_E_SHAPE);
    assert_non_null(strstr(err, "2 or 3 dimensions"));

    /* Images given as labels. */
    assert_int_equal(btsp_dataset_load_idx(ip, ip, &ds, err, sizeof err), BTSP_E_SHAPE);
    assert_non_null(strstr(err, "labels must have 1 dimension"));

    /* Missing file: the IDX reader's error. */
    snprintf(lp, sizeof lp, "%s/nope", dir);
    assert_int_equal(btsp_dataset_load_idx(ip, lp, &ds, err, sizeof err), BTSP_E_IO);
    assert_non_null(strstr(err, "nope"));
    assert_null(ds.x);

    /* 2-D images (n x dim) are fine. */
    const uint32_t d2[2] = { 2, 5 }, d1[1] = { 2 };
    const unsigned char px[10] = { 0, 255, 51, 102, 0, 1, 2, 3, 4, 5 }, lab[2] = { 3, 0 };
    snprintf(ip, sizeof ip, "%s/img2d", dir);
    snprintf(lp, sizeof lp, "%s/lab2d", dir);
    write_idx(ip, 0, 2, d2, px);
    write_idx(lp, 1, 1, d1, lab);
    assert_int_equal(btsp_dataset_load_idx(ip, lp, &ds, err, sizeof err), BTSP_OK);
    assert_int_equal(ds.dim, 5);
    assert_true(ds.x[1] == 1.0f && ds.x[2] == 0.2f);
    assert_true(ds.y[3] == 1.0f && ds.y[10] == 1.0f);
    btsp_dataset_free(&ds);

    assert_int_equal(btsp_dataset_load_idx(NULL, lp, &ds, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_dataset_load_idx(ip, lp, NULL, err, sizeof err), BTSP_E_INVALID_ARG);
}

static void test_split_eiann(void **state)
{
    (void)state;
    /* A synthetic 60,000-row set with dim 1: x = row / 60000, label = row % 10. */
    btsp_dataset full = { 0 };
    full.n = 60000;
    full.dim = 1;
    full.n_classes = 10;
    full.x = malloc(full.n * sizeof *full.x);
    full.y = calloc(full.n * 10, sizeof *full.y);
    full.labels = malloc(full.n);
    assert_non_null(full.x);
    assert_non_null(full.y);
    assert_non_null(full.labels);
    for (size_t i = 0; i < full.n; i++) {
        full.x[i] = (float)i;
        full.labels[i] = (uint8_t)(i % 10);
        full.y[i * 10 + i % 10] = 1.0f;
    }
    btsp_dataset tr, va;
    assert_int_equal(btsp_dataset_split_eiann(&full, &tr, &va), BTSP_OK);
    assert_int_equal(tr.n, BTSP_EIANN_TRAIN_ROWS);
    assert_int_equal(va.n, BTSP_EIANN_VAL_ROWS);
    assert_true(tr.x[0] == 0.0f && tr.x[49999] == 49999.0f);
    assert_true(va.x[0] == 50000.0f && va.x[9999] == 59999.0f);
    assert_int_equal(va.labels[3], 3);
    assert_true(va.y[3 * 10 + 3] == 1.0f);
    btsp_dataset_free(&tr);
    btsp_dataset_free(&va);
    assert_int_equal(btsp_dataset_split_eiann(&full, &tr, &tr), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_dataset_split_eiann(NULL, &tr, &va), BTSP_E_INVALID_ARG);
    btsp_dataset_free(&full);
}

/* ---------------------------------------------------------------------------------------- */
/* btsp_data_find */

static void test_find_directory(void **state)
{
    const char *dir = test_tmpdir_path(state);
    char it[512], lt[512], ie[512], le[512], err[1024];
    write_small_set(dir, "train", 4, 1, 10);
    /* Test files: plain images, and labels present both plain and gzip (plain wins). */
    write_small_set(dir, "t10k", 3, 0, 10);
    write_small_set(dir, "t10k", 3, 1, 10);
    char p[512];
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte.gz", dir);
    assert_int_equal(remove(p), 0);

    assert_int_equal(btsp_data_find(dir, it, lt, ie, le, sizeof it, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", dir);
    assert_string_equal(it, p);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    assert_string_equal(lt, p);
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", dir);
    assert_string_equal(ie, p);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", dir);
    assert_string_equal(le, p);

    /* Output buffers are optional. */
    assert_int_equal(btsp_data_find(dir, NULL, NULL, ie, NULL, sizeof ie, NULL, 0), BTSP_OK);

    /* What was found loads. */
    btsp_dataset ds;
    assert_int_equal(btsp_dataset_load_idx(ie, le, &ds, err, sizeof err), BTSP_OK);
    assert_int_equal(ds.n, 3);
    btsp_dataset_free(&ds);

    /* A path buffer too small. */
    assert_int_equal(btsp_data_find(dir, it, lt, ie, le, 10, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_non_null(strstr(err, "does not fit"));
    assert_string_equal(it, "");

    /* A missing file is named. */
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", dir);
    assert_int_equal(remove(p), 0);
    assert_int_equal(btsp_data_find(dir, it, lt, ie, le, sizeof it, err, sizeof err),
                     BTSP_E_NOT_FOUND);
    assert_non_null(strstr(err, dir));
    assert_non_null(strstr(err, "missing train-labels-idx1-ubyte[.gz]"));
    assert_null(strstr(err, "missing train-images"));
    assert_non_null(strstr(err, "apt-get install dataset-fashion-mnist"));
    assert_non_null(strstr(err, "get-mnist.sh"));
    assert_string_equal(it, "");
    assert_string_equal(le, "");
}

static void test_find_missing(void **state)
{
    char it[512], lt[512], ie[512], le[512], err[1024];
    char p[512];
    snprintf(p, sizeof p, "%s/does-not-exist", test_tmpdir_path(state));
    assert_int_equal(btsp_data_find(p, it, lt, ie, le, sizeof it, err, sizeof err), BTSP_E_NOT_FOUND);
    assert_non_null(strstr(err, p));
    assert_non_null(strstr(err, "no such directory"));
    assert_int_equal(btsp_data_find(p, it, lt, ie, le, sizeof it, NULL, 0), BTSP_E_NOT_FOUND);
    assert_int_equal(btsp_data_find("", it, lt, ie, le, sizeof it, err, sizeof err),
                     BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_data_find(NULL, it, lt, ie, le, sizeof it, err, sizeof err),
                     BTSP_E_INVALID_ARG);
}

/* Save and restore an environment variable around a test. */
typedef struct saved_env {
    char *value;
    int set;
} saved_env;

static saved_env env_save(const char *name)
{
    saved_env s = { NULL, 0 };
    const char *v = getenv(name);
    if (v) {
        s.set = 1;
        s.value = malloc(strlen(v) + 1);
        assert_non_null(s.value);
        strcpy(s.value, v);
    }
    return s;
}

static void env_restore(const char *name, saved_env *s)
{
    if (s->set)
        setenv(name, s->value, 1);
    else
        unsetenv(name);
    free(s->value);
    s->value = NULL;
}

static void test_find_named(void **state)
{
    const char *dir = test_tmpdir_path(state);
    char it[512], lt[512], ie[512], le[512], err[2048], p[512];
    saved_env data_dir = env_save("BTSP_DATA_DIR"), home = env_save("HOME");

    /* mnist under $BTSP_DATA_DIR/mnist. */
    snprintf(p, sizeof p, "%s/mnist", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    write_small_set(p, "train", 8, 1, 10);
    write_small_set(p, "t10k", 2, 1, 10);
    setenv("BTSP_DATA_DIR", dir, 1);
    setenv("HOME", "/nonexistent-home-for-btsp-test", 1);
    assert_int_equal(btsp_data_find("mnist", it, lt, ie, le, sizeof it, err, sizeof err), BTSP_OK);
    snprintf(p, sizeof p, "%s/mnist/t10k-labels-idx1-ubyte.gz", dir);
    assert_string_equal(le, p);

    /* mnist under $HOME/.cache/libbtsp/mnist when BTSP_DATA_DIR is unset. */
    unsetenv("BTSP_DATA_DIR");
    assert_int_equal(btsp_data_find("mnist", it, lt, ie, le, sizeof it, err, sizeof err),
                     BTSP_E_NOT_FOUND);
    assert_non_null(strstr(err, "mnist not found"));
    assert_non_null(strstr(err, "/nonexistent-home-for-btsp-test/.cache/libbtsp/mnist"));
    assert_non_null(strstr(err, "scripts/get-mnist.sh"));
    snprintf(p, sizeof p, "%s/.cache", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    snprintf(p, sizeof p, "%s/.cache/libbtsp", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    snprintf(p, sizeof p, "%s/.cache/libbtsp/mnist", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    write_small_set(p, "train", 8, 0, 10);
    write_small_set(p, "t10k", 2, 0, 10);
    setenv("HOME", dir, 1);
    assert_int_equal(btsp_data_find("mnist", it, lt, ie, le, sizeof it, err, sizeof err), BTSP_OK);
    snprintf(p, sizeof p, "%s/.cache/libbtsp/mnist/train-images-idx3-ubyte", dir);
    assert_string_equal(it, p);

    /* fashion-mnist: $BTSP_DATA_DIR/fashion-mnist wins over the system directory. */
    snprintf(p, sizeof p, "%s/fashion-mnist", dir);
    assert_int_equal(mkdir(p, 0777), 0);
    setenv("BTSP_DATA_DIR", dir, 1);
    int have_system = test_path_exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
    btsp_status st = btsp_data_find("fashion-mnist", it, lt, ie, le, sizeof it, err, sizeof err);
    if (have_system) {
        assert_int_equal(st, BTSP_OK);
        assert_string_equal(it, "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz");
    } else {
        assert_int_equal(st, BTSP_E_NOT_FOUND);
        assert_non_null(strstr(err, "fashion-mnist not found"));
        assert_non_null(strstr(err, "apt-get install dataset-fashion-mnist"));
        assert_non_null(strstr(err, "/usr/share/datasets/fashion-mnist"));
    }
    write_small_set(p, "train", 5, 1, 10);
    write_small_set(p, "t10k", 5, 1, 10);
    assert_int_equal(btsp_data_find("fashion-mnist", it, lt, ie, le, sizeof it, err, sizeof err),
                     BTSP_OK);
    snprintf(p, sizeof p, "%s/fashion-mnist/train-images-idx3-ubyte.gz", dir);
    assert_string_equal(it, p);

    env_restore("BTSP_DATA_DIR", &data_dir);
    env_restore("HOME", &home);
}

/* The real Fashion-MNIST from the Debian package dataset-fashion-mnist, if installed. */
static void test_fashion_mnist_real(void **state)
{
    (void)state;
    const char *sys = "/usr/share/datasets/fashion-mnist";
    char it[512], lt[512], ie[512], le[512], err[1024];
    if (!test_path_exists(sys)) {
        print_message("skipping: %s not found (apt-get install dataset-fashion-mnist)\n", sys);
        skip();
    }
    saved_env data_dir = env_save("BTSP_DATA_DIR");
    unsetenv("BTSP_DATA_DIR");
    btsp_status st = btsp_data_find("fashion-mnist", it, lt, ie, le, sizeof it, err, sizeof err);
    env_restore("BTSP_DATA_DIR", &data_dir);
    if (st != BTSP_OK)
        print_error("%s\n", err);
    assert_int_equal(st, BTSP_OK);

    btsp_dataset train, test;
    assert_int_equal(btsp_dataset_load_idx(it, lt, &train, err, sizeof err), BTSP_OK);
    assert_int_equal(btsp_dataset_load_idx(ie, le, &test, err, sizeof err), BTSP_OK);
    assert_int_equal(train.n, 60000);
    assert_int_equal(test.n, 10000);
    assert_int_equal(train.dim, 784);
    assert_int_equal(test.dim, 784);
    assert_int_equal(train.n_classes, 10);
    size_t count[10] = { 0 }, count_test[10] = { 0 };
    for (size_t i = 0; i < train.n; i++)
        count[train.labels[i]]++;
    for (size_t i = 0; i < test.n; i++)
        count_test[test.labels[i]]++;
    for (int c = 0; c < 10; c++) {
        assert_int_equal(count[c], 6000);
        assert_int_equal(count_test[c], 1000);
    }
    float lo = 1.0f, hi = 0.0f;
    for (size_t i = 0; i < train.n * train.dim; i++) {
        lo = train.x[i] < lo ? train.x[i] : lo;
        hi = train.x[i] > hi ? train.x[i] : hi;
    }
    assert_true(lo == 0.0f);
    assert_true(hi == 1.0f);

    btsp_dataset tr, va;
    assert_int_equal(btsp_dataset_split_eiann(&train, &tr, &va), BTSP_OK);
    assert_int_equal(tr.n, 50000);
    assert_int_equal(va.n, 10000);
    assert_memory_equal(va.x, train.x + (size_t)50000 * 784, 784 * sizeof(float));
    btsp_dataset_free(&tr);
    btsp_dataset_free(&va);
    btsp_dataset_free(&train);
    btsp_dataset_free(&test);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_small, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test(test_split_eiann),
        cmocka_unit_test_setup_teardown(test_find_directory, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_find_missing, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_find_named, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test(test_fashion_mnist_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
