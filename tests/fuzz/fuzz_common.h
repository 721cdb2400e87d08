/* Shared pieces of the fuzz targets (tests/fuzz/README.md): a byte budget allocator, so that a
 * config asking for huge populations fails with BTSP_E_NOMEM instead of exhausting the fuzzer's
 * memory, and a scratch file for the readers that take a path. */
#ifndef BTSP_FUZZ_COMMON_H
#define BTSP_FUZZ_COMMON_H

#include <btsp/btsp.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The libFuzzer entry point each target defines (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any violated expectation is a bug; abort() makes the fuzzer (or the replay driver) report it. */
#define FUZZ_EXPECT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: expectation failed: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Every failing call must leave a one-line, NUL-terminated, non-empty message. */
static inline void fuzz_expect_message(const char *err, size_t cap)
{
    FUZZ_EXPECT(memchr(err, '\0', cap) != NULL);
    FUZZ_EXPECT(err[0] != '\0');
    FUZZ_EXPECT(strchr(err, '\n') == NULL);
}

typedef struct {
    size_t used, limit;
} fuzz_budget;

/* A 16-byte header in front of each block stores its size (keeps alignment for any type). */
static inline void *fuzz_alloc(void *user, size_t size)
{
    fuzz_budget *b = (fuzz_budget *)user;
    if (size > b->limit - b->used || size > (size_t)-1 - 16)
        return NULL;
    unsigned char *p = (unsigned char *)malloc(size + 16);
    if (!p)
        return NULL;
    memcpy(p, &size, sizeof size);
    b->used += size;
    return p + 16;
}

static inline void fuzz_free(void *user, void *ptr)
{
    if (!ptr)
        return;
    fuzz_budget *b = (fuzz_budget *)user;
    unsigned char *p = (unsigned char *)ptr - 16;
    size_t size;
    memcpy(&size, p, sizeof size);
    b->used -= size;
    free(p);
}

/* Writes the input to a per-process scratch file and returns its path (static storage). */
static inline const char *fuzz_scratch_file(const unsigned char *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/btsp-fuzz-%ld.bin", (long)getpid());
    FILE *f = fopen(path, "wb");
    FUZZ_EXPECT(f != NULL);
    FUZZ_EXPECT(size == 0 || fwrite(data, 1, size, f) == size);
    FUZZ_EXPECT(fclose(f) == 0);
    return path;
}

#endif /* BTSP_FUZZ_COMMON_H */
