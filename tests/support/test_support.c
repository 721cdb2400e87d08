#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include "test_support.h"

#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

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

typedef struct tmpdir {
    char path[256];
} tmpdir;

void test_remove_tree(const char *path, int depth)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[768];
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            struct stat sb;
            if (depth > 0 && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
                test_remove_tree(p, depth - 1);
            else
                remove(p);
        }
        closedir(d);
    }
    rmdir(path);
}

int test_tmpdir_setup(void **state)
{
    tmpdir *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    const char *base = getenv("TMPDIR");
    snprintf(t->path, sizeof t->path, "%s/btsp_test_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t->path)) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

int test_tmpdir_teardown(void **state)
{
    tmpdir *t = *state;
    test_remove_tree(t->path, 3);
    free(t);
    return 0;
}

const char *test_tmpdir_path(void **state)
{
    return ((tmpdir *)*state)->path;
}

void test_tmpdir_file(void **state, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", test_tmpdir_path(state), name);
}

char *test_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (len + 2 > cap) {
            cap = cap ? 2 * cap : 4096;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        buf[len++] = (char)c;
    }
    fclose(f);
    if (!buf && !(buf = malloc(1)))
        return NULL;
    buf[len] = '\0';
    return buf;
}
