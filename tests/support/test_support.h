/* Shared helpers for the CMocka tests: a counting allocator that can fail on demand, and
 * locating reference data that lives outside the repository. */
#ifndef BTSP_TEST_SUPPORT_H
#define BTSP_TEST_SUPPORT_H

#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "btsp/btsp.h"

/* Counting allocator: counts live blocks and bytes; fails the allocation whose 1-based index
 * equals fail_at (0 = never fail). Blocks carry a small header recording their size. */
typedef struct test_alloc_state {
    size_t n_alloc;     /* successful allocations */
    size_t n_free;      /* frees of non-NULL pointers */
    size_t n_calls;     /* allocation calls, failed ones included */
    size_t fail_at;     /* 1-based call index to fail, 0 = never */
    size_t live_bytes;  /* bytes currently allocated */
} test_alloc_state;

btsp_allocator test_allocator(test_alloc_state *st);

/* Directory ../shared/reference (configs, golden data) or NULL if it does not exist. */
const char *test_reference_dir(void);
/* The repository root (for configs/ shipped with the library). */
const char *test_source_dir(void);
/* 1 if a file or directory exists. */
int test_path_exists(const char *path);
/* CMocka setup/teardown fixtures: *state becomes a fresh temporary directory (under $TMPDIR or
 * /tmp), removed with everything in it (up to three levels) afterwards. */
int test_tmpdir_setup(void **state);
int test_tmpdir_teardown(void **state);
/* Remove `path` with everything up to `depth` directory levels below it. */
void test_remove_tree(const char *path, int depth);
/* The fixture's directory, and the path of `name` inside it. */
const char *test_tmpdir_path(void **state);
void test_tmpdir_file(void **state, const char *name, char *out, size_t cap);

/* The whole file as a malloc'd NUL-terminated string, or NULL. */
char *test_read_text(const char *path);

/* Maximum absolute difference of two float arrays. */
double test_max_abs_diff(const float *a, const float *b, size_t n);

#endif
