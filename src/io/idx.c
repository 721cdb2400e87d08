/* IDX files (the MNIST distribution format), plain or gzip-compressed, read through zlib.
 * Part of libbtsp_io. Never prints. */
#include "io_util.h"
#include "btsp/btsp_io.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define IDX_CHUNK (1u << 20)        /* bytes per gzread call */
#define IDX_FIRST_ALLOC (1u << 22)  /* initial buffer; grows as data actually arrives */


static const char *idx_type_name(unsigned t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "short";
    case 0x0C: return "int";
    case 0x0D: return "float";
    case 0x0E: return "double";
    default: return NULL;
    }
}

/* zlib prefixes its messages with the file name; drop it (ours names the file already). */
static const char *idx_zmsg(const char *msg, const char *path)
{
    if (!msg)
        return "unknown error";
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg;
}

/* Read up to `want` bytes; returns bytes read, or -1 on a read/decompression error (message
 * written). A short count means end of file. */
static long long idx_read_bytes(gzFile gz, const char *path, int compressed, void *buf,
                                size_t want, btsp_status *st, char *err, size_t errlen)
{
    size_t got = 0;
    unsigned char *p = buf;
    while (got < want) {
        size_t ask = want - got < IDX_CHUNK ? want - got : IDX_CHUNK;
        int r = gzread(gz, p + got, (unsigned)ask);
        if (r < 0) {
            int zerr = 0;
            const char *msg = gzerror(gz, &zerr);
            if (zerr == Z_ERRNO) {
                btsp__io_set_err(err, errlen, "idx: cannot read '%s': %s", path, strerror(errno));
                *st = BTSP_E_IO;
            } else {
                btsp__io_set_err(err, errlen, "idx: '%s': corrupt gzip data: %s", path,
                            idx_zmsg(msg, path));
                *st = BTSP_E_FORMAT;
            }
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got < want && compressed) {
        /* A gzip stream that ends early is reported by gzerror as Z_BUF_ERROR. */
        int zerr = 0;
        const char *msg = gzerror(gz, &zerr);
        if (zerr != Z_OK && zerr != Z_STREAM_END) {
            btsp__io_set_err(err, errlen, "idx: '%s': corrupt or truncated gzip data: %s", path,
                        idx_zmsg(msg, path));
            *st = zerr == Z_ERRNO ? BTSP_E_IO : BTSP_E_FORMAT;
            return -1;
        }
    }
    return (long long)got;
}

void btsp_idx_free(btsp_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

btsp_status btsp_idx_read(const char *path, btsp_idx *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (out)
        memset(out, 0, sizeof *out);
    if (!path || !out) {
        btsp__io_set_err(err, errlen, "idx: NULL argument");
        return BTSP_E_INVALID_ARG;
    }

    /* Detect gzip from the content (zlib would read both transparently, but knowing helps
     * to tell a truncated stream from a short plain file in messages). */
    int compressed = 0;
    {
        FILE *f = fopen(path, "rb");
        if (!f) {
            btsp__io_set_err(err, errlen, "idx: cannot open '%s': %s", path, strerror(errno));
            return BTSP_E_IO;
        }
        unsigned char m[2];
        if (fread(m, 1, 2, f) == 2 && m[0] == 0x1f && m[1] == 0x8b)
            compressed = 1;
        fclose(f);
    }

    errno = 0;
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        btsp__io_set_err(err, errlen, "idx: cannot open '%s': %s", path,
                    errno ? strerror(errno) : "out of memory");
        return errno ? BTSP_E_IO : BTSP_E_NOMEM;
    }
    btsp_status st = BTSP_OK;
    uint8_t *data = NULL;
    unsigned char head[4 + 4 * 3];
    long long r = idx_read_bytes(gz, path, compressed, head, 4, &st, err, errlen);
    if (r < 0)
        goto fail;
    if (r < 4) {
        btsp__io_set_err(err, errlen, "idx: '%s': file too short for an IDX header (%lld bytes%s)", path,
                    r, compressed ? " after decompression" : "");
        st = BTSP_E_FORMAT;
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0) {
        btsp__io_set_err(err, errlen,
                    "idx: '%s': bad magic %02x %02x %02x %02x (expected 00 00 <type> <ndim>)%s",
                    path, head[0], head[1], head[2], head[3],
                    compressed ? " after decompression" : "");
        st = BTSP_E_FORMAT;
        goto fail;
    }
    unsigned type = head[2], ndim = head[3];
    if (type != 0x08) {
        const char *tn = idx_type_name(type);
        if (tn) {
            btsp__io_set_err(err, errlen,
                        "idx: '%s': element type 0x%02X (%s) is not supported (expected 0x08, unsigned byte)",
                        path, type, tn);
            st = BTSP_E_UNSUPPORTED;
        } else {
            btsp__io_set_err(err, errlen, "idx: '%s': invalid element type 0x%02X in the magic number",
                        path, type);
            st = BTSP_E_FORMAT;
        }
        goto fail;
    }
    if (ndim < 1 || ndim > 3) {
        btsp__io_set_err(err, errlen, "idx: '%s': %u dimensions (expected 1 to 3)", path, ndim);
        st = BTSP_E_FORMAT;
        goto fail;
    }
    r = idx_read_bytes(gz, path, compressed, head + 4, 4 * (size_t)ndim, &st, err, errlen);
    if (r < 0)
        goto fail;
    if (r < 4 * (long long)ndim) {
        btsp__io_set_err(err, errlen, "idx: '%s': truncated header (expected %u dimensions)", path, ndim);
        st = BTSP_E_FORMAT;
        goto fail;
    }
    size_t dims[3] = { 1, 1, 1 };
    size_t n = 1;
    for (unsigned i = 0; i < ndim; i++) {
        const unsigned char *b = head + 4 + 4 * i;
        uint32_t d = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        dims[i] = d;
        if (d != 0 && n > SIZE_MAX / d) {
            btsp__io_set_err(err, errlen, "idx: '%s': dimensions too large", path);
            st = BTSP_E_FORMAT;
            goto fail;
        }
        n *= d;
    }

    /* Grow the buffer as data arrives, so absurd dimensions in a short file fail cleanly. */
    size_t cap = n < IDX_FIRST_ALLOC ? (n ? n : 1) : IDX_FIRST_ALLOC;
    data = malloc(cap);
    if (!data) {
        btsp__io_set_err(err, errlen, "idx: '%s': out of memory", path);
        st = BTSP_E_NOMEM;
        goto fail;
    }
    size_t have = 0;
    while (have < n) {
        if (have == cap) {
            size_t ncap = cap > n / 2 ? n : cap * 2;
            uint8_t *nd = realloc(data, ncap);
            if (!nd) {
                btsp__io_set_err(err, errlen, "idx: '%s': out of memory for %zu bytes", path, n);
                st = BTSP_E_NOMEM;
                goto fail;
            }
            data = nd;
            cap = ncap;
        }
        r = idx_read_bytes(gz, path, compressed, data + have, cap - have, &st, err, errlen);
        if (r < 0)
            goto fail;
        have += (size_t)r;
        if (have < cap)
            break; /* end of data */
    }
    if (have < n) {
        char shape[80];
        if (ndim == 1)
            snprintf(shape, sizeof shape, "%zu", dims[0]);
        else if (ndim == 2)
            snprintf(shape, sizeof shape, "%zu x %zu", dims[0], dims[1]);
        else
            snprintf(shape, sizeof shape, "%zu x %zu x %zu", dims[0], dims[1], dims[2]);
        btsp__io_set_err(err, errlen,
                    "idx: '%s': truncated data: dimensions %s need %zu bytes, found %zu", path,
                    shape, n, have);
        st = BTSP_E_FORMAT;
        goto fail;
    }
    unsigned char extra;
    r = idx_read_bytes(gz, path, compressed, &extra, 1, &st, err, errlen);
    if (r < 0)
        goto fail;
    if (r > 0) {
        btsp__io_set_err(err, errlen, "idx: '%s': trailing data after the %zu bytes the dimensions describe",
                    path, n);
        st = BTSP_E_FORMAT;
        goto fail;
    }
    gzclose(gz);
    out->data = data;
    out->n = n;
    out->ndim = (int)ndim;
    memcpy(out->dims, dims, sizeof dims);
    return BTSP_OK;

fail:
    free(data);
    gzclose(gz);
    return st;
}
