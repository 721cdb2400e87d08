/* libbtsp_io: NumPy .npy reading and writing. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include "btsp/btsp_io.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------- */
/* Helpers (each test gets a temporary directory: test_tmpdir_setup in test_support) */

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Build a .npy file by hand: version major.0, header dict padded to a multiple of 64, then
 * `payload`. */
static size_t make_npy(unsigned char *buf, size_t cap, int major, const char *dict,
                       const void *payload, size_t payload_len)
{
    size_t lenbytes = major == 1 ? 2 : 4;
    size_t pre = 8 + lenbytes;
    size_t dl = strlen(dict);
    size_t total = (pre + dl + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;
    assert_true(total + payload_len <= cap);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < lenbytes; i++)
        buf[8 + i] = (unsigned char)(hlen >> (8 * i) & 0xff);
    memcpy(buf + pre, dict, dl);
    memset(buf + pre + dl, ' ', hlen - dl - 1);
    buf[total - 1] = '\n';
    if (payload_len)
        memcpy(buf + total, payload, payload_len);
    return total + payload_len;
}

static void put_f64_le(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(u >> (8 * i) & 0xff);
}

static void put_f32_be(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * (3 - i)) & 0xff);
}

static void put_f32_le(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(u >> (8 * i) & 0xff);
}

/* Expect a read failure with the given status and a message containing `needle`. */
static void expect_read_error(const char *path, btsp_status want, const char *needle)
{
    float *data = (float *)(uintptr_t)1;
    size_t shape[2] = { 7, 7 }, ndim = 7;
    char err[512];
    btsp_status st = btsp_npy_read_f32(path, &data, shape, &ndim, err, sizeof err);
    if (st != want || !strstr(err, needle))
        print_error("status %d, message \"%s\", wanted %d and \"%s\"\n", (int)st, err,
                    (int)want, needle);
    assert_int_equal(st, want);
    assert_non_null(strstr(err, needle));
    assert_non_null(strstr(err, path));
    assert_null(strchr(err, '\n')); /* one line, whatever the file holds */
    assert_null(data);
    assert_int_equal(shape[0], 0);
    assert_int_equal(shape[1], 0);
    assert_int_equal(ndim, 0);
    /* NULL message buffer is fine too. */
    assert_int_equal(btsp_npy_read_f32(path, &data, shape, &ndim, NULL, 0), want);
    assert_null(data);
}

/* ---------------------------------------------------------------------------------------- */

static void test_round_trip_2d(void **state)
{
    char path[512];
    test_tmpdir_file(state, "w.npy", path, sizeof path);
    float w[12];
    for (int i = 0; i < 12; i++)
        w[i] = (float)i * 0.25f - 1.0f;
    w[5] = -0.0f;
    w[7] = 1e-38f;
    size_t shape[2] = { 3, 4 };
    char err[256] = "x";
    assert_int_equal(btsp_npy_write_f32(path, w, 2, shape, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");

    float *r = NULL;
    size_t rs[2], nd;
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, err, sizeof err), BTSP_OK);
    assert_int_equal(nd, 2);
    assert_int_equal(rs[0], 3);
    assert_int_equal(rs[1], 4);
    assert_memory_equal(r, w, sizeof w);
    btsp_npy_free(r);

    /* The header is what numpy writes: version 1.0, 64-byte aligned, '<f4', C order. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char head[128];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    assert_memory_equal(head, "\x93NUMPY\x01\x00", 8);
    size_t hlen = head[8] | (size_t)head[9] << 8;
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(head[10 + hlen - 1], '\n');
    const char *want = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }";
    assert_memory_equal(head + 10, want, strlen(want));
}

static void test_round_trip_1d_and_empty(void **state)
{
    char path[512];
    test_tmpdir_file(state, "b.npy", path, sizeof path);
    float b[5] = { 1.5f, -2.0f, 3.25f, 0.0f, 1e30f };
    size_t shape[1] = { 5 };
    assert_int_equal(btsp_npy_write_f32(path, b, 1, shape, NULL, 0), BTSP_OK);
    float *r = NULL;
    size_t rs[2], nd;
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, NULL, 0), BTSP_OK);
    assert_int_equal(nd, 1);
    assert_int_equal(rs[0], 5);
    assert_int_equal(rs[1], 1);
    assert_memory_equal(r, b, sizeof b);
    btsp_npy_free(r);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char head[81];
    assert_int_equal(fread(head, 1, 80, f), 80);
    fclose(f);
    head[80] = '\0';
    assert_non_null(strstr(head + 10, "'shape': (5,)"));

    /* Zero elements: data may be NULL when writing, never NULL when reading. */
    size_t zshape[2] = { 0, 4 };
    assert_int_equal(btsp_npy_write_f32(path, NULL, 2, zshape, NULL, 0), BTSP_OK);
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, NULL, 0), BTSP_OK);
    assert_non_null(r);
    assert_int_equal(nd, 2);
    assert_int_equal(rs[0], 0);
    assert_int_equal(rs[1], 4);
    btsp_npy_free(r);
    btsp_npy_free(NULL);

    /* Overwriting keeps no temporary file behind. */
    test_tmpdir_file(state, "b.npy.tmp", path, sizeof path);
    assert_false(test_path_exists(path));
}

static void test_write_errors(void **state)
{
    char path[512], err[512];
    test_tmpdir_file(state, "no/such/dir/w.npy", path, sizeof path);
    float w[2] = { 1, 2 };
    size_t shape[2] = { 1, 2 };
    assert_int_equal(btsp_npy_write_f32(path, w, 2, shape, err, sizeof err), BTSP_E_IO);
    assert_non_null(strstr(err, "no/such/dir/w.npy"));
    test_tmpdir_file(state, "w.npy", path, sizeof path);
    assert_int_equal(btsp_npy_write_f32(path, w, 3, shape, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_npy_write_f32(path, w, 0, shape, NULL, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_npy_write_f32(NULL, w, 2, shape, NULL, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_npy_write_f32(path, w, 2, NULL, NULL, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_npy_write_f32(path, NULL, 2, shape, NULL, 0), BTSP_E_INVALID_ARG);
    size_t huge[2] = { SIZE_MAX / 2, 4 };
    assert_int_equal(btsp_npy_write_f32(path, w, 2, huge, NULL, 0), BTSP_E_INVALID_ARG);
    assert_false(test_path_exists(path));
}

static void test_read_f8_v1_handmade(void **state)
{
    char path[512];
    test_tmpdir_file(state, "f8.npy", path, sizeof path);
    unsigned char payload[6 * 8];
    const double vals[6] = { 0.5, -1.25, 3.0, 1e-3, -0.0, 123456.789 };
    for (int i = 0; i < 6; i++)
        put_f64_le(payload + 8 * i, vals[i]);
    unsigned char buf[512];
    /* Dict written with double quotes, no trailing comma and odd spacing: still valid. */
    size_t n = make_npy(buf, sizeof buf, 1, "{\"descr\":\"<f8\",  'shape': (2,3) , 'fortran_order':False}",
                        payload, sizeof payload);
    write_bytes(path, buf, n);
    float *r = NULL;
    size_t rs[2], nd;
    char err[256];
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, err, sizeof err), BTSP_OK);
    assert_int_equal(nd, 2);
    assert_int_equal(rs[0], 2);
    assert_int_equal(rs[1], 3);
    for (int i = 0; i < 6; i++)
        assert_true(r[i] == (float)vals[i]);
    btsp_npy_free(r);
}

static void test_read_other_versions_and_dtypes(void **state)
{
    char path[512];
    unsigned char buf[512], payload[64];
    float *r = NULL;
    size_t rs[2], nd;

    /* v2.0, big-endian float32, 1-D. */
    test_tmpdir_file(state, "be.npy", path, sizeof path);
    const float fv[3] = { 1.0f, -2.5f, 0.125f };
    for (int i = 0; i < 3; i++)
        put_f32_be(payload + 4 * i, fv[i]);
    size_t n = make_npy(buf, sizeof buf, 2, "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
                        payload, 12);
    write_bytes(path, buf, n);
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, NULL, 0), BTSP_OK);
    assert_int_equal(nd, 1);
    assert_int_equal(rs[0], 3);
    assert_memory_equal(r, fv, sizeof fv);
    btsp_npy_free(r);

    /* v3.0, little-endian float32, trailing bytes ignored. */
    for (int i = 0; i < 3; i++)
        put_f32_le(payload + 4 * i, fv[i]);
    memcpy(payload + 12, "junk", 4);
    n = make_npy(buf, sizeof buf, 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }",
                 payload, 16);
    write_bytes(path, buf, n);
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, NULL, 0), BTSP_OK);
    assert_int_equal(nd, 2);
    assert_int_equal(rs[0], 1);
    assert_int_equal(rs[1], 3);
    assert_memory_equal(r, fv, sizeof fv);
    btsp_npy_free(r);

    /* uint8: values converted as they are. */
    const unsigned char u8[4] = { 0, 1, 128, 255 };
    n = make_npy(buf, sizeof buf, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }",
                 u8, 4);
    write_bytes(path, buf, n);
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, NULL, 0), BTSP_OK);
    assert_int_equal(rs[0] * rs[1], 4);
    assert_true(r[0] == 0.0f && r[1] == 1.0f && r[2] == 128.0f && r[3] == 255.0f);
    btsp_npy_free(r);

    /* Integers of every size and both byte orders, e.g. an int64 sample order from
     * numpy.save(np.arange(n)): values converted to float (not rescaled), negatives
     * sign-extended. */
    {
        const struct { const char *descr; size_t size; int big; } ints[] = {
            { "|i1", 1, 0 }, { "<i2", 2, 0 }, { ">i2", 2, 1 }, { "<i4", 4, 0 }, { ">i4", 4, 1 },
            { "<i8", 8, 0 }, { ">i8", 8, 1 }, { "<u2", 2, 0 }, { ">u4", 4, 1 }, { "<u8", 8, 0 },
        };
        for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
            const int is_signed = ints[k].descr[1] == 'i';
            const int64_t vals[3] = { 0, 117, is_signed ? -5 : 77 };
            for (int v = 0; v < 3; v++) {
                uint64_t u = (uint64_t)vals[v];
                for (size_t b = 0; b < ints[k].size; b++) {
                    unsigned char byte = (unsigned char)(u >> (8 * b) & 0xff);
                    payload[v * ints[k].size + (ints[k].big ? ints[k].size - 1 - b : b)] = byte;
                }
            }
            char dict[128];
            snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (3,), }",
                     ints[k].descr);
            n = make_npy(buf, sizeof buf, 1, dict, payload, 3 * ints[k].size);
            write_bytes(path, buf, n);
            assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, NULL, 0), BTSP_OK);
            assert_int_equal(rs[0], 3);
            for (int v = 0; v < 3; v++)
                assert_true(r[v] == (float)vals[v]);
            btsp_npy_free(r);
        }
    }

    /* big-endian float64 */
    for (int i = 0; i < 8; i++)
        payload[i] = 0;
    payload[0] = 0x40; /* 2.0 = 0x4000000000000000 */
    n = make_npy(buf, sizeof buf, 1, "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                 payload, 8);
    write_bytes(path, buf, n);
    assert_int_equal(btsp_npy_read_f32(path, &r, rs, &nd, NULL, 0), BTSP_OK);
    assert_true(r[0] == 2.0f);
    btsp_npy_free(r);
}

static void test_read_errors(void **state)
{
    char path[512];
    unsigned char buf[512], payload[64] = { 0 };
    size_t n;

    test_tmpdir_file(state, "missing.npy", path, sizeof path);
    expect_read_error(path, BTSP_E_IO, "cannot open");

    test_tmpdir_file(state, "bad.npy", path, sizeof path);
    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                 payload, 8);
    buf[1] = 'X';
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "not a NumPy");

    write_bytes(path, "", 0);
    expect_read_error(path, BTSP_E_FORMAT, "not a NumPy");

    /* A dtype holding a newline (found by tests/fuzz): quoted in the message as '?'. */
    n = make_npy(buf, sizeof buf, 1, "{'descr': '\n<f4', 'fortran_order': False, 'shape': (2,), }",
                 payload, 8);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "?<f4");

    /* Truncated data: 3 of 4 floats. */
    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }",
                 payload, 12);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "truncated");

    /* Huge shape in a short file: fails cleanly without allocating. */
    n = make_npy(buf, sizeof buf, 1,
                 "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 100000), }", payload, 8);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "truncated");

    /* Truncated header. */
    write_bytes(path, buf, 40);
    expect_read_error(path, BTSP_E_FORMAT, "header");

    /* Fortran (column-major) order, as numpy saves a transposed view: read back row-major. */
    {
        const float cm[6] = {1, 2, 3, 4, 5, 6}; /* columns of [[1, 3, 5], [2, 4, 6]] */
        n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", cm,
                     sizeof cm);
        write_bytes(path, buf, n);
        float *d = NULL;
        size_t shp[2], nd;
        char e[256];
        assert_int_equal(btsp_npy_read_f32(path, &d, shp, &nd, e, sizeof e), BTSP_OK);
        assert_int_equal(shp[0], 2);
        assert_int_equal(shp[1], 3);
        const float want[6] = {1, 3, 5, 2, 4, 6};
        for (int i = 0; i < 6; i++)
            assert_float_equal(d[i], want[i], 0.0);
        btsp_npy_free(d);
    }

    /* Unsupported element types: complex, bool, float16, wrong size, strings. */
    const char *bad[] = { "<c8", "|b1", "<f2", "<i3", "<U8" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char dict[128];
        snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }",
                 bad[k]);
        n = make_npy(buf, sizeof buf, 1, dict, payload, 32);
        write_bytes(path, buf, n);
        char want[16];
        snprintf(want, sizeof want, "'%s'", bad[k]);
        expect_read_error(path, BTSP_E_FORMAT, want);
    }

    n = make_npy(buf, sizeof buf, 1,
                 "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", payload, 8);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "structured");

    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }",
                 payload, 32);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_SHAPE, "(2, 2, 2)");

    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                 payload, 4);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_SHAPE, "0-D");

    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False}", payload, 4);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "lacks");

    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
                 payload, 4);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "shape");

    n = make_npy(buf, sizeof buf, 1, "not a dict", payload, 4);
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "malformed header");

    n = make_npy(buf, sizeof buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
                 payload, 4);
    buf[6] = 4; /* version 4.0 */
    write_bytes(path, buf, n);
    expect_read_error(path, BTSP_E_FORMAT, "version 4.0");
}

static void test_null_arguments(void **state)
{
    (void)state;
    float *r = NULL;
    size_t rs[2], nd;
    char err[64];
    assert_int_equal(btsp_npy_read_f32(NULL, &r, rs, &nd, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_npy_read_f32("x.npy", NULL, rs, &nd, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_npy_read_f32("x.npy", &r, NULL, &nd, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_npy_read_f32("x.npy", &r, rs, NULL, err, sizeof err), BTSP_E_INVALID_ARG);
    /* A one-byte message buffer only receives the terminator. */
    assert_int_equal(btsp_npy_read_f32(NULL, &r, rs, &nd, err, 1), BTSP_E_INVALID_ARG);
    assert_int_equal(err[0], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_2d, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_1d_and_empty, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_write_errors, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_read_f8_v1_handmade, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_read_other_versions_and_dtypes, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_read_errors, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
