#include "test_support.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <sys/stat.h>

/* Header in front of each block: keeps the size for live_bytes, aligned like max_align_t. */
typedef union block_header {
    size_t size;
    max_align_t align;
} block_header;

static void *ts_alloc(void *user, size_t size)
{
    test_alloc_state *st = user;
    st->n_calls++;
    if (st->fail_at != 0 && st->n_calls == st->fail_at)
        return NULL;
    block_header *h = malloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    st->n_alloc++;
    st->live_bytes += size;
    return h + 1;
}

static void ts_free(void *user, void *ptr)
{
    test_alloc_state *st = user;
    if (!ptr)
        return;
    block_header *h = (block_header *)ptr - 1;
    st->n_free++;
    st->live_bytes -= h->size;
    free(h);
}

btsp_allocator test_allocator(test_alloc_state *st)
{
    btsp_allocator a;
    a.alloc = ts_alloc;
    a.free = ts_free;
    a.user = st;
    return a;
}

int test_path_exists(const char *path)
{
    struct stat sb;
    return path && stat(path, &sb) == 0;
}

const char *test_reference_dir(void)
{
    const char *env = getenv("BTSP_SHARED_REFERENCE");
    if (env && test_path_exists(env))
        return env;
    return test_path_exists(BTSP_SHARED_REFERENCE) ? BTSP_SHARED_REFERENCE : NULL;
}

const char *test_source_dir(void)
{
    return BTSP_SOURCE_DIR;
}

double test_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d)
            m = d;
    }
    return m;
}
