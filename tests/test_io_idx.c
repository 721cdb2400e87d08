/* libbtsp_io: IDX files, plain and gzip-compressed. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include "btsp/btsp_io.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* IDX header for unsigned bytes with the given dimensions; returns its length. */
static size_t idx_header(unsigned char *buf, unsigned type, int ndim, const uint32_t *dims)
{
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = (unsigned char)type;
    buf[3] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++) {
        buf[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        buf[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        buf[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        buf[7 + 4 * i] = (unsigned char)dims[i];
    }
    return 4 + 4 * (size_t)ndim;
}

static void write_plain(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(a, 1, na, f), na);
    if (nb)
        assert_int_equal(fwrite(b, 1, nb, f), nb);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, a, (unsigned)na), (int)na);
    if (nb)
        assert_int_equal(gzwrite(gz, b, (unsigned)nb), (int)nb);
    assert_int_equal(gzclose(gz), Z_OK);
}

static void expect_error(const char *path, btsp_status want, const char *needle)
{
    btsp_idx idx;
    memset(&idx, 0x5a, sizeof idx);
    char err[512];
    btsp_status st = btsp_idx_read(path, &idx, err, sizeof err);
    if (st != want || !strstr(err, needle))
        print_error("status %d, message \"%s\", wanted %d and \"%s\"\n", (int)st, err, (int)want,
                    needle);
    assert_int_equal(st, want);
    assert_non_null(strstr(err, needle));
    assert_non_null(strstr(err, path));
    assert_null(idx.data);
    assert_int_equal(idx.n, 0);
    assert_int_equal(idx.ndim, 0);
    assert_int_equal(btsp_idx_read(path, &idx, NULL, 0), want);
}

static void check_round_trip(void **state, int gz, int ndim, const uint32_t *dims)
{
    char path[512];
    /* The name does not matter: compression is detected from the content. */
    test_tmpdir_file(state, gz ? "a-idx-ubyte" : "a-idx-ubyte.gz", path, sizeof path);
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    unsigned char head[16], *data = malloc(n ? n : 1);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 37 + 11);
    size_t hl = idx_header(head, 0x08, ndim, dims);
    if (gz)
        write_gz(path, head, hl, data, n);
    else
        write_plain(path, head, hl, data, n);

    btsp_idx idx;
    char err[256] = "x";
    assert_int_equal(btsp_idx_read(path, &idx, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");
    assert_int_equal(idx.ndim, ndim);
    assert_int_equal(idx.n, n);
    for (int i = 0; i < 3; i++)
        assert_int_equal(idx.dims[i], i < ndim ? dims[i] : 1);
    assert_non_null(idx.data);
    if (n)
        assert_memory_equal(idx.data, data, n);
    btsp_idx_free(&idx);
    assert_null(idx.data);
    assert_int_equal(idx.n, 0);
    btsp_idx_free(&idx); /* twice is harmless */
    btsp_idx_free(NULL);
    free(data);
}

static void test_round_trip_plain(void **state)
{
    const uint32_t d1[1] = { 10 }, d2[2] = { 4, 6 }, d3[3] = { 3, 28, 28 }, d0[1] = { 0 };
    check_round_trip(state, 0, 1, d1);
    check_round_trip(state, 0, 2, d2);
    check_round_trip(state, 0, 3, d3);
    check_round_trip(state, 0, 1, d0);
}

static void test_round_trip_gzip(void **state)
{
    const uint32_t d1[1] = { 10 }, d2[2] = { 4, 6 }, d3[3] = { 3, 28, 28 };
    check_round_trip(state, 1, 1, d1);
    check_round_trip(state, 1, 2, d2);
    check_round_trip(state, 1, 3, d3);
    /* Larger than the reader's first buffer, so it has to grow. */
    const uint32_t big[3] = { 6000, 28, 28 };
    check_round_trip(state, 1, 3, big);
}

static void test_errors(void **state)
{
    char path[512];
    unsigned char head[16], data[128] = { 0 };
    const uint32_t dims[3] = { 2, 3, 4 };
    size_t hl;

    test_tmpdir_file(state, "missing-idx", path, sizeof path);
    expect_error(path, BTSP_E_IO, "cannot open");

    test_tmpdir_file(state, "bad-idx", path, sizeof path);
    hl = idx_header(head, 0x08, 3, dims);
    head[0] = 1;
    write_plain(path, head, hl, data, 24);
    expect_error(path, BTSP_E_FORMAT, "bad magic");
    write_gz(path, head, hl, data, 24);
    expect_error(path, BTSP_E_FORMAT, "bad magic");

    /* A .npy file is not IDX. */
    write_plain(path, "\x93NUMPY\x01\x00", 8, NULL, 0);
    expect_error(path, BTSP_E_FORMAT, "bad magic");

    write_plain(path, head, 2, NULL, 0);
    expect_error(path, BTSP_E_FORMAT, "too short");

    hl = idx_header(head, 0x0D, 3, dims);
    write_plain(path, head, hl, data, 24 * 4);
    expect_error(path, BTSP_E_UNSUPPORTED, "0x0D (float)");

    hl = idx_header(head, 0x42, 3, dims);
    write_plain(path, head, hl, data, 24);
    expect_error(path, BTSP_E_FORMAT, "invalid element type");

    hl = idx_header(head, 0x08, 0, dims);
    write_plain(path, head, hl, NULL, 0);
    expect_error(path, BTSP_E_FORMAT, "0 dimensions");
    head[3] = 4;
    write_plain(path, head, 4, data, 40);
    expect_error(path, BTSP_E_FORMAT, "4 dimensions");

    hl = idx_header(head, 0x08, 3, dims);
    write_plain(path, head, 10, NULL, 0);
    expect_error(path, BTSP_E_FORMAT, "truncated header");

    /* Truncated data, plain and gzip. */
    write_plain(path, head, hl, data, 23);
    expect_error(path, BTSP_E_FORMAT, "2 x 3 x 4 need 24 bytes, found 23");
    write_gz(path, head, hl, data, 20);
    expect_error(path, BTSP_E_FORMAT, "need 24 bytes, found 20");

    /* Trailing data. */
    write_plain(path, head, hl, data, 25);
    expect_error(path, BTSP_E_FORMAT, "trailing data");
    write_gz(path, head, hl, data, 30);
    expect_error(path, BTSP_E_FORMAT, "trailing data");

    /* Absurd dimensions in a short file fail as truncated, without a huge allocation. */
    const uint32_t huge[3] = { 0xffffffffu, 0xffffffffu, 0xffffffffu };
    hl = idx_header(head, 0x08, 3, huge);
    write_plain(path, head, hl, data, 10);
    expect_error(path, BTSP_E_FORMAT, "too large");
    const uint32_t big[2] = { 0x7fffffffu, 8 };
    hl = idx_header(head, 0x08, 2, big);
    write_plain(path, head, hl, data, 10);
    expect_error(path, BTSP_E_FORMAT, "truncated");
}

static void test_corrupt_gzip(void **state)
{
    char path[512];
    test_tmpdir_file(state, "c-idx.gz", path, sizeof path);
    const uint32_t dims[2] = { 50, 40 };
    unsigned char head[16], data[2000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7919 % 251);
    size_t hl = idx_header(head, 0x08, 2, dims);
    write_gz(path, head, hl, data, sizeof data);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char gz[8192];
    size_t len = fread(gz, 1, sizeof gz, f);
    fclose(f);
    assert_true(len > 40 && len < sizeof gz);

    /* Stream cut in the middle. */
    write_plain(path, gz, len / 2, NULL, 0);
    expect_error(path, BTSP_E_FORMAT, "gzip");

    /* Flipped bytes inside the deflate data (CRC or stream error). */
    for (size_t i = 20; i < len - 10; i += 3)
        gz[i] ^= 0xa5;
    write_plain(path, gz, len, NULL, 0);
    btsp_idx idx;
    char err[256];
    btsp_status st = btsp_idx_read(path, &idx, err, sizeof err);
    assert_int_equal(st, BTSP_E_FORMAT);
    assert_null(idx.data);
}

static void test_null_arguments(void **state)
{
    (void)state;
    btsp_idx idx;
    char err[64];
    assert_int_equal(btsp_idx_read(NULL, &idx, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_null(idx.data);
    assert_int_equal(btsp_idx_read("x", NULL, err, sizeof err), BTSP_E_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_plain, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_gzip, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_errors, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_gzip, test_tmpdir_setup, test_tmpdir_teardown),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
