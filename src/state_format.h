/* Pieces of the state-image format shared beyond src/state.c (not installed): the FNV-1a 64
 * hash that checksums images (and that `btsp --resume` uses for config and order texts), and
 * where the header keeps the checksum (tests/fuzz/fuzz_state.c rewrites it to reach payloads). */
#ifndef BTSP_STATE_FORMAT_H
#define BTSP_STATE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define BTSP__FNV_OFFSET 0xcbf29ce484222325ull
#define BTSP__FNV_PRIME 0x100000001b3ull

/* FNV-1a 64 of n bytes, continuing from h (start with BTSP__FNV_OFFSET). Every step is a
 * bijection of the running hash, so any one changed byte changes the result. */
static inline uint64_t btsp__fnv1a64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * BTSP__FNV_PRIME;
    return h;
}

#define BTSP__STATE_HEADER_BYTES 56u /* the payload starts here */
#define BTSP__STATE_CHECKSUM_AT 48u  /* 8 bytes: FNV-1a of header bytes 0-47, then the payload */

#endif
