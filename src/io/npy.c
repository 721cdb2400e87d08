/* NumPy .npy arrays (read float32/float64/uint8, write float32) and network weights saved as
 * one .npy file per projection and bias. Part of libbtsp_io. Never prints. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "io_util.h"
#include "btsp/btsp_io.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#ifdef _WIN32
#include <direct.h>
#endif

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_MAX_HEADER (1u << 20) /* far larger than any real header */
#define NPY_MAX_DIMS 8            /* dimensions kept for messages */
#define NPY_CHUNK 65536           /* bytes converted per read */


static void npy_clear_err(char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
}

/* ---------------------------------------------------------------------------------------- */
/* Element conversion (independent of the host byte order, IEEE 754 floats assumed). */

/* A parsed dtype descriptor: kind 'f' (IEEE float, 4 or 8 bytes), 'i' (two's complement
 * signed) or 'u' (unsigned), 1/2/4/8 bytes, in little- or big-endian byte order. */
typedef struct npy_dtype {
    char kind;
    size_t size;
    int big_endian;
} npy_dtype;

/* Parse descr strings such as "<f4", ">i8", "|u1" or "=u2" ('=' is native order, which
 * numpy never writes for multi-byte types but accepts). Returns 0 if unsupported. */
static int npy_parse_dtype(const char *descr, npy_dtype *t)
{
    if (strlen(descr) != 3)
        return 0;
    char order = descr[0], kind = descr[1], size = descr[2];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return 0;
    if (kind != 'f' && kind != 'i' && kind != 'u')
        return 0;
    if (size != '1' && size != '2' && size != '4' && size != '8')
        return 0;
    t->kind = kind;
    t->size = (size_t)(size - '0');
    if (kind == 'f' && t->size < 4)
        return 0;
    if (order == '=') {
        const uint16_t probe = 1;
        unsigned char first;
        memcpy(&first, &probe, 1);
        t->big_endian = first == 0;
    } else {
        t->big_endian = order == '>';
    }
    return 1;
}

/* Convert `count` elements to float: floats by IEEE rounding, integers to the nearest float
 * (exact up to 2^24 in magnitude). */
static void npy_convert(const npy_dtype *t, const unsigned char *src, float *dst, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const unsigned char *b = src + t->size * i;
        uint64_t u = 0;
        for (size_t k = 0; k < t->size; k++) {
            unsigned char byte = t->big_endian ? b[k] : b[t->size - 1 - k];
            u = u << 8 | byte;
        }
        if (t->kind == 'f' && t->size == 4) {
            uint32_t u32 = (uint32_t)u;
            float f;
            memcpy(&f, &u32, sizeof f);
            dst[i] = f;
        } else if (t->kind == 'f') {
            double d;
            memcpy(&d, &u, sizeof d);
            dst[i] = (float)d;
        } else if (t->kind == 'u') {
            dst[i] = (float)u;
        } else {
            /* sign-extend from size bytes without relying on implementation-defined casts */
            unsigned bits = (unsigned)(8 * t->size);
            uint64_t sign = (uint64_t)1 << (bits - 1);
            if (u & sign) {
                uint64_t mag = bits == 64 ? (~u + 1) : (((uint64_t)1 << bits) - u);
                dst[i] = -(float)mag;
            } else {
                dst[i] = (float)u;
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Header parsing: a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }                           */

typedef struct npy_header {
    char descr[32];
    int have_descr, have_order, have_shape;
    int fortran_order;
    size_t ndim;                 /* number of dimensions found */
    size_t shape[NPY_MAX_DIMS];  /* the first NPY_MAX_DIMS of them */
} npy_header;

typedef struct npy_cursor {
    const char *p;
    const char *end;
} npy_cursor;

static void npy_skip_ws(npy_cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int npy_accept(npy_cursor *c, char ch)
{
    npy_skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes into buf; 0 on failure. */
static int npy_parse_string(npy_cursor *c, char *buf, size_t cap)
{
    npy_skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"'))
        return 0;
    char q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (*c->p == '\\' || n + 1 >= cap)
            return 0;
        buf[n++] = *c->p++;
    }
    if (c->p >= c->end)
        return 0;
    c->p++;
    buf[n] = '\0';
    return 1;
}

static int npy_parse_word(npy_cursor *c, const char *word)
{
    size_t n = strlen(word);
    npy_skip_ws(c);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0) {
        c->p += n;
        return 1;
    }
    return 0;
}

static int npy_parse_size(npy_cursor *c, size_t *out)
{
    npy_skip_ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
        return 0;
    size_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        size_t d = (size_t)(*c->p - '0');
        if (v > (SIZE_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
        c->p++;
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) /* Python 2 longs */
        c->p++;
    *out = v;
    return 1;
}

/* Returns NULL on success or a static description of the problem. */
static const char *npy_parse_header(const char *text, size_t len, npy_header *h)
{
    npy_cursor c = { text, text + len };
    memset(h, 0, sizeof *h);
    if (!npy_accept(&c, '{'))
        return "header is not a dictionary";
    for (;;) {
        char key[32];
        if (npy_accept(&c, '}'))
            break;
        if (!npy_parse_string(&c, key, sizeof key))
            return "expected a quoted key in the header";
        if (!npy_accept(&c, ':'))
            return "expected ':' after a header key";
        if (strcmp(key, "descr") == 0) {
            if (!npy_parse_string(&c, h->descr, sizeof h->descr))
                return "'descr' is not a simple dtype string (structured dtypes are not supported)";
            h->have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (npy_parse_word(&c, "True"))
                h->fortran_order = 1;
            else if (npy_parse_word(&c, "False"))
                h->fortran_order = 0;
            else
                return "'fortran_order' is neither True nor False";
            h->have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (!npy_accept(&c, '('))
                return "'shape' is not a tuple";
            while (!npy_accept(&c, ')')) {
                size_t v;
                if (!npy_parse_size(&c, &v))
                    return "'shape' holds something other than non-negative integers";
                if (h->ndim < NPY_MAX_DIMS)
                    h->shape[h->ndim] = v;
                h->ndim++;
                if (!npy_accept(&c, ',')) {
                    if (!npy_accept(&c, ')'))
                        return "malformed 'shape' tuple";
                    break;
                }
            }
            h->have_shape = 1;
        } else {
            return "unknown key in the header";
        }
        if (npy_accept(&c, ','))
            continue;
        if (npy_accept(&c, '}'))
            break;
        return "expected ',' or '}' in the header";
    }
    npy_skip_ws(&c);
    if (c.p != c.end)
        return "unexpected text after the header dictionary";
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return "header lacks 'descr', 'fortran_order' or 'shape'";
    return NULL;
}

static void npy_format_shape(char *buf, size_t cap, const size_t *shape, size_t ndim)
{
    size_t used = 0;
    int k = snprintf(buf, cap, "(");
    if (k < 0)
        return;
    used = (size_t)k;
    for (size_t i = 0; i < ndim && i < NPY_MAX_DIMS && used < cap; i++) {
        k = snprintf(buf + used, cap - used, i == 0 ? "%zu" : ", %zu", shape[i]);
        if (k < 0)
            return;
        used += (size_t)k;
    }
    if (used < cap)
        snprintf(buf + used, cap - used, ndim > NPY_MAX_DIMS ? ", ...)" : ndim == 1 ? ",)" : ")");
}

/* ---------------------------------------------------------------------------------------- */

/* Read the magic, version and header dictionary of an open .npy file (left at its data) into h;
 * *htext receives the malloc'd header text (free it in every case). */
static btsp_status npy_read_header(FILE *f, const char *path, npy_header *h, char **htext, char *err,
                                   size_t errlen)
{
    btsp_status st;
    *htext = NULL;
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (got < 8 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        if (ferror(f)) {
            btsp__io_set_err(err, errlen, "npy: cannot read '%s': %s", path, strerror(errno));
            st = BTSP_E_IO;
        } else {
            btsp__io_set_err(err, errlen, "npy: '%s' is not a NumPy .npy file (expected magic \\x93NUMPY)",
                        path);
            st = BTSP_E_FORMAT;
        }
        return st;
    }
    unsigned major = pre[6], minor = pre[7];
    if ((major != 1 && major != 2 && major != 3) || minor != 0) {
        btsp__io_set_err(err, errlen, "npy: '%s': unsupported format version %u.%u (expected 1.0, 2.0 or 3.0)",
                    path, major, minor);
        st = BTSP_E_FORMAT;
        return st;
    }
    size_t hl_bytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, hl_bytes, f) != hl_bytes) {
        btsp__io_set_err(err, errlen, "npy: '%s': truncated header", path);
        st = ferror(f) ? BTSP_E_IO : BTSP_E_FORMAT;
        return st;
    }
    size_t hlen = major == 1 ? (size_t)pre[8] | (size_t)pre[9] << 8
                             : (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 |
                                   (size_t)pre[11] << 24;
    if (hlen == 0 || hlen > NPY_MAX_HEADER) {
        btsp__io_set_err(err, errlen, "npy: '%s': implausible header length %zu", path, hlen);
        st = BTSP_E_FORMAT;
        return st;
    }
    *htext = malloc(hlen + 1);
    if (!*htext) {
        btsp__io_set_err(err, errlen, "npy: '%s': out of memory", path);
        st = BTSP_E_NOMEM;
        return st;
    }
    if (fread(*htext, 1, hlen, f) != hlen) {
        btsp__io_set_err(err, errlen, "npy: '%s': truncated header (expected %zu bytes)", path, hlen);
        st = ferror(f) ? BTSP_E_IO : BTSP_E_FORMAT;
        return st;
    }
    (*htext)[hlen] = '\0';

    const char *why = npy_parse_header(*htext, hlen, h);
    if (why) {
        btsp__io_set_err(err, errlen, "npy: '%s': malformed header: %s", path, why);
        st = BTSP_E_FORMAT;
        return st;
    }
    return BTSP_OK;
}

btsp_status btsp_npy_read_f32(const char *path, float **data, size_t *shape, size_t *ndim,
                              char *err, size_t errlen)
{
    npy_clear_err(err, errlen);
    if (data)
        *data = NULL;
    if (shape)
        shape[0] = shape[1] = 0;
    if (ndim)
        *ndim = 0;
    if (!path || !data || !shape || !ndim) {
        btsp__io_set_err(err, errlen, "npy: NULL argument");
        return BTSP_E_INVALID_ARG;
    }

    btsp_status st = BTSP_OK;
    char *htext = NULL;
    float *out = NULL;
    unsigned char *raw = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        btsp__io_set_err(err, errlen, "npy: cannot open '%s': %s", path, strerror(errno));
        return BTSP_E_IO;
    }

    npy_header h;
    if ((st = npy_read_header(f, path, &h, &htext, err, errlen)) != BTSP_OK)
        goto done;
    npy_dtype dt;
    if (!npy_parse_dtype(h.descr, &dt)) {
        btsp__io_set_err(err, errlen,
                    "npy: '%s': unsupported dtype '%s' (expected a float ('<f4', '<f8'), signed "
                    "('<i1' .. '<i8') or unsigned ('|u1' .. '<u8') type, either byte order)",
                    path, h.descr);
        st = BTSP_E_FORMAT;
        goto done;
    }
    if (h.ndim < 1 || h.ndim > 2) {
        char sbuf[128];
        npy_format_shape(sbuf, sizeof sbuf, h.shape, h.ndim);
        btsp__io_set_err(err, errlen, "npy: '%s': expected a 1-D or 2-D array, found %zu-D shape %s",
                    path, h.ndim, sbuf);
        st = BTSP_E_SHAPE;
        goto done;
    }
    size_t rows = h.shape[0], cols = h.ndim == 2 ? h.shape[1] : 1;
    size_t isz = dt.size;
    if (cols != 0 && rows > SIZE_MAX / cols / 8) {
        btsp__io_set_err(err, errlen, "npy: '%s': shape too large", path);
        st = BTSP_E_FORMAT;
        goto done;
    }
    size_t count = rows * cols;
    size_t nbytes = count * isz;

    /* For a seekable file, check the size first so a bad shape cannot ask for a huge buffer. */
    long here = ftell(f);
    if (here >= 0 && fseek(f, 0, SEEK_END) == 0) {
        long end = ftell(f);
        if (end >= here && (unsigned long)(end - here) < nbytes) {
            btsp__io_set_err(err, errlen,
                        "npy: '%s': truncated data: shape needs %zu bytes, file has %lu after the header",
                        path, nbytes, (unsigned long)(end - here));
            st = BTSP_E_FORMAT;
            goto done;
        }
        if (fseek(f, here, SEEK_SET) != 0) {
            btsp__io_set_err(err, errlen, "npy: cannot seek in '%s': %s", path, strerror(errno));
            st = BTSP_E_IO;
            goto done;
        }
    }

    out = malloc((count ? count : 1) * sizeof *out);
    raw = malloc(NPY_CHUNK);
    if (!out || !raw) {
        btsp__io_set_err(err, errlen, "npy: '%s': out of memory for %zu elements", path, count);
        st = BTSP_E_NOMEM;
        goto done;
    }
    size_t per_chunk = NPY_CHUNK / isz, done_items = 0;
    while (done_items < count) {
        size_t want = count - done_items < per_chunk ? count - done_items : per_chunk;
        size_t r = fread(raw, isz, want, f);
        if (r < want) {
            if (ferror(f)) {
                btsp__io_set_err(err, errlen, "npy: cannot read '%s': %s", path, strerror(errno));
                st = BTSP_E_IO;
            } else {
                btsp__io_set_err(err, errlen,
                            "npy: '%s': truncated data: expected %zu elements, found %zu", path,
                            count, done_items + r);
                st = BTSP_E_FORMAT;
            }
            goto done;
        }
        npy_convert(&dt, raw, out + done_items, want);
        done_items += want;
    }
    if (h.fortran_order && h.ndim == 2 && rows > 1 && cols > 1) {
        /* Column-major data (numpy saves a transposed view this way, e.g. a top-down clone
         * B = W.T): bring it to row-major in place via a scratch copy. */
        float *cm = malloc(count * sizeof *cm);
        if (!cm) {
            btsp__io_set_err(err, errlen, "npy: '%s': out of memory for %zu elements", path, count);
            st = BTSP_E_NOMEM;
            goto done;
        }
        memcpy(cm, out, count * sizeof *cm);
        for (size_t i = 0; i < rows; i++)
            for (size_t j = 0; j < cols; j++)
                out[i * cols + j] = cm[j * rows + i];
        free(cm);
    }
    *data = out;
    out = NULL;
    shape[0] = rows;
    shape[1] = cols;
    *ndim = h.ndim;

done:
    free(raw);
    free(out);
    free(htext);
    fclose(f);
    return st;
}

void btsp_npy_free(float *data)
{
    free(data);
}

size_t btsp__npy_f32_header(size_t ndim, size_t rows, size_t cols, unsigned char head[256])
{
    char dict[160];
    int dl = ndim == 1
        ? snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu,), }", rows)
        : snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }",
                   rows, cols);
    if (dl < 0 || (size_t)dl >= sizeof dict)
        return 0;
    /* magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64. */
    size_t total = 10 + (size_t)dl + 1;
    total = (total + 63) / 64 * 64;
    size_t hlen = total - 10;
    memcpy(head, NPY_MAGIC, NPY_MAGIC_LEN);
    head[6] = 1;
    head[7] = 0;
    head[8] = (unsigned char)(hlen & 0xff);
    head[9] = (unsigned char)(hlen >> 8);
    memcpy(head + 10, dict, (size_t)dl);
    memset(head + 10 + dl, ' ', hlen - (size_t)dl - 1);
    head[total - 1] = '\n';
    return total;
}

btsp_status btsp__npy_open_f32le(const char *path, FILE **out, size_t shape[2], size_t *ndim, char *err,
                                 size_t errlen)
{
    *out = NULL;
    shape[0] = shape[1] = 0;
    *ndim = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        btsp__io_set_err(err, errlen, "npy: cannot open '%s': %s", path, strerror(errno));
        return BTSP_E_IO;
    }
    npy_header h;
    char *htext = NULL;
    btsp_status st = npy_read_header(f, path, &h, &htext, err, errlen);
    free(htext);
    if (st == BTSP_OK) {
        size_t rows = h.ndim >= 1 ? h.shape[0] : 0, cols = h.ndim == 2 ? h.shape[1] : 1;
        long here = ftell(f), end = -1;
        if (here >= 0 && fseek(f, 0, SEEK_END) == 0) {
            end = ftell(f);
            if (fseek(f, here, SEEK_SET) != 0)
                end = -1;
        }
        if (strcmp(h.descr, "<f4") != 0 || (h.ndim != 1 && h.ndim != 2) ||
            (h.fortran_order && rows > 1 && cols > 1)) {
            btsp__io_set_err(err, errlen,
                             "npy: '%s': expected a C-order 1-D or 2-D '<f4' array (as btsp writes it), found "
                             "'%s', %zu-D, %s order",
                             path, h.descr, h.ndim, h.fortran_order ? "Fortran" : "C");
            st = BTSP_E_FORMAT;
        } else if (cols != 0 && rows > SIZE_MAX / cols / 4) {
            btsp__io_set_err(err, errlen, "npy: '%s': shape too large", path);
            st = BTSP_E_FORMAT;
        } else if (end < here || (unsigned long)(end - here) < rows * cols * 4) {
            btsp__io_set_err(err, errlen, "npy: '%s': truncated data: shape needs %zu bytes, file has %ld after the header",
                             path, rows * cols * 4, end >= here ? end - here : 0L);
            st = BTSP_E_FORMAT;
        } else {
            shape[0] = rows;
            shape[1] = cols;
            *ndim = h.ndim;
            *out = f;
            return BTSP_OK;
        }
    }
    fclose(f);
    return st;
}

btsp_status btsp_npy_write_f32(const char *path, const float *data, size_t ndim,
                               const size_t *shape, char *err, size_t errlen)
{
    npy_clear_err(err, errlen);
    if (!path || !shape) {
        btsp__io_set_err(err, errlen, "npy: NULL argument");
        return BTSP_E_INVALID_ARG;
    }
    if (ndim != 1 && ndim != 2) {
        btsp__io_set_err(err, errlen, "npy: '%s': can only write 1-D or 2-D arrays, got ndim %zu", path,
                    ndim);
        return BTSP_E_INVALID_ARG;
    }
    size_t rows = shape[0], cols = ndim == 2 ? shape[1] : 1;
    if (cols != 0 && rows > SIZE_MAX / cols / 4) {
        btsp__io_set_err(err, errlen, "npy: '%s': shape too large", path);
        return BTSP_E_INVALID_ARG;
    }
    size_t count = rows * cols;
    if (count > 0 && !data) {
        btsp__io_set_err(err, errlen, "npy: '%s': NULL data for %zu elements", path, count);
        return BTSP_E_INVALID_ARG;
    }

    unsigned char head[256];
    size_t total = btsp__npy_f32_header(ndim, rows, cols, head);
    if (total == 0)
        return BTSP_E_INTERNAL;

    char *tmp = btsp__io_tmp_name(path);
    if (!tmp) {
        btsp__io_set_err(err, errlen, "npy: '%s': out of memory", path);
        return BTSP_E_NOMEM;
    }
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        btsp__io_set_err(err, errlen, "npy: cannot create '%s': %s", tmp, strerror(errno));
        free(tmp);
        return BTSP_E_IO;
    }
    int ok = fwrite(head, 1, total, f) == total;
    unsigned char buf[4096];
    size_t i = 0;
    while (ok && i < count) {
        size_t m = count - i < sizeof buf / 4 ? count - i : sizeof buf / 4;
        for (size_t k = 0; k < m; k++) {
            uint32_t u;
            memcpy(&u, &data[i + k], sizeof u);
            buf[4 * k] = (unsigned char)(u & 0xff);
            buf[4 * k + 1] = (unsigned char)(u >> 8 & 0xff);
            buf[4 * k + 2] = (unsigned char)(u >> 16 & 0xff);
            buf[4 * k + 3] = (unsigned char)(u >> 24 & 0xff);
        }
        ok = fwrite(buf, 4, m, f) == m;
        i += m;
    }
    btsp_status st = btsp__io_commit(f, tmp, path, ok, errno, 0, "npy", err, errlen);
    free(tmp);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Network weights */

/* dir + "/" + a + b + ".npy", malloc'd. */
static char *npy_join(const char *dir, const char *a, const char *b)
{
    size_t ld = strlen(dir), la = strlen(a), lb = strlen(b);
    int slash = ld > 0 && dir[ld - 1] != '/';
    char *p = malloc(ld + (size_t)slash + la + lb + 5);
    if (!p)
        return NULL;
    char *q = p;
    memcpy(q, dir, ld);
    q += ld;
    if (slash)
        *q++ = '/';
    memcpy(q, a, la);
    q += la;
    memcpy(q, b, lb);
    q += lb;
    memcpy(q, ".npy", 5);
    return p;
}

static int npy_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int npy_mkdir1(const char *path)
{
#ifdef _WIN32
    return _mkdir(path);
#else
    return mkdir(path, 0777);
#endif
}

/* mkdir -p */
static btsp_status npy_make_dirs(const char *dir, char *err, size_t errlen)
{
    if (npy_is_dir(dir))
        return BTSP_OK;
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (!p)
        return BTSP_E_NOMEM;
    memcpy(p, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (!npy_is_dir(p) && npy_mkdir1(p) != 0 && errno != EEXIST) {
            btsp__io_set_err(err, errlen, "weights: cannot create directory '%s': %s", p, strerror(errno));
            free(p);
            return BTSP_E_IO;
        }
        p[i] = saved;
    }
    free(p);
    if (!npy_is_dir(dir)) {
        btsp__io_set_err(err, errlen, "weights: '%s' is not a directory", dir);
        return BTSP_E_IO;
    }
    return BTSP_OK;
}

static int npy_pop_has_bias(const btsp_pop *pop)
{
    double v = 0.0;
    return btsp_pop_get(pop, BTSP_POP_INCLUDE_BIAS, &v) == BTSP_OK && v != 0.0;
}

/* "<Layer><Pop>" into buf. */
static void npy_pop_stem(const btsp_pop *pop, char *buf, size_t cap)
{
    const btsp_layer *layer = btsp_pop_layer(pop);
    const char *ln = layer ? btsp_layer_name(layer) : NULL;
    const char *pn = btsp_pop_name(pop);
    snprintf(buf, cap, "%s%s", ln ? ln : "", pn ? pn : "");
}

btsp_status btsp_io_save_weights(const btsp_net *net, const char *dir, char *err, size_t errlen)
{
    npy_clear_err(err, errlen);
    if (!net || !dir || !*dir) {
        btsp__io_set_err(err, errlen, "weights: NULL network or empty directory name");
        return BTSP_E_INVALID_ARG;
    }
    if (!btsp_net_is_finalized(net)) {
        btsp__io_set_err(err, errlen, "weights: the network must be finalized before saving");
        return BTSP_E_STATE;
    }
    btsp_status st = npy_make_dirs(dir, err, errlen);
    if (st != BTSP_OK)
        return st;

    size_t np = btsp_net_proj_count(net);
    for (size_t i = 0; i < np; i++) {
        const btsp_proj *proj = btsp_net_proj_at(net, i);
        const float *w = NULL;
        size_t shape[2];
        st = btsp_proj_weights(proj, &w, &shape[0], &shape[1]);
        if (st != BTSP_OK) {
            btsp__io_set_err(err, errlen, "weights: cannot read projection %s: %s", btsp_proj_name(proj),
                        btsp_net_errmsg(net));
            return st;
        }
        char *path = npy_join(dir, btsp_proj_name(proj), "");
        if (!path)
            return BTSP_E_NOMEM;
        st = btsp_npy_write_f32(path, w, 2, shape, err, errlen);
        free(path);
        if (st != BTSP_OK)
            return st;
    }
    size_t npop = btsp_net_pop_count(net);
    for (size_t i = 0; i < npop; i++) {
        const btsp_pop *pop = btsp_net_pop_at(net, i);
        if (!npy_pop_has_bias(pop))
            continue;
        const float *b = NULL;
        size_t n = 0;
        st = btsp_pop_state(pop, BTSP_VAR_BIAS, &b, &n);
        if (st != BTSP_OK) {
            btsp__io_set_err(err, errlen, "weights: cannot read the bias of %s: %s",
                        btsp_pop_full_name(pop), btsp_net_errmsg(net));
            return st;
        }
        char stem[160];
        npy_pop_stem(pop, stem, sizeof stem);
        char *path = npy_join(dir, stem, "_bias");
        if (!path)
            return BTSP_E_NOMEM;
        size_t shape[1] = { n };
        st = btsp_npy_write_f32(path, b, 1, shape, err, errlen);
        free(path);
        if (st != BTSP_OK)
            return st;
    }
    return BTSP_OK;
}

/* One validated file waiting to be applied. */
typedef struct npy_item {
    btsp_proj *proj; /* NULL for a bias */
    btsp_pop *pop;   /* bias target */
    float *data;     /* from the file */
    float *backup;   /* previous values */
    size_t rows, cols;
} npy_item;

static void npy_items_free(npy_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        btsp_npy_free(items[i].data);
        free(items[i].backup);
    }
    free(items);
}

/* 1 if the file exists (or exists but stat fails otherwise: let the reader report it). */
static int npy_file_present(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return 1;
    return errno != ENOENT && errno != ENOTDIR;
}

static btsp_status npy_check_finite(const char *path, const float *v, size_t n, char *err,
                                    size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            btsp__io_set_err(err, errlen, "weights: '%s': element %zu is not finite (%g)", path, i,
                        (double)v[i]);
            return BTSP_E_RANGE;
        }
    }
    return BTSP_OK;
}

btsp_status btsp_io_load_weights(btsp_net *net, const char *dir, int require_all, char *err,
                                 size_t errlen)
{
    return btsp__io_load_weights_skipped(net, dir, require_all, NULL, err, errlen);
}

btsp_status btsp__io_load_weights_skipped(btsp_net *net, const char *dir, int require_all, btsp__io_skipped *skipped,
                                          char *err, size_t errlen)
{
    npy_clear_err(err, errlen);
    if (skipped) {
        skipped->n = skipped->of = 0;
        skipped->names[0] = '\0';
    }
    if (!net || !dir || !*dir) {
        btsp__io_set_err(err, errlen, "weights: NULL network or empty directory name");
        return BTSP_E_INVALID_ARG;
    }
    if (!btsp_net_is_finalized(net)) {
        btsp__io_set_err(err, errlen, "weights: the network must be finalized before loading");
        return BTSP_E_STATE;
    }
    if (!npy_is_dir(dir)) {
        struct stat sb;
        if (stat(dir, &sb) == 0)
            btsp__io_set_err(err, errlen,
                             "weights: '%s' is not a directory (give the directory that holds the .npy files)", dir);
        else
            btsp__io_set_err(err, errlen, "weights: directory '%s' does not exist", dir);
        return BTSP_E_NOT_FOUND;
    }

    size_t np = btsp_net_proj_count(net), npop = btsp_net_pop_count(net);
    size_t cap = np + npop, n_items = 0, n_expected = 0;
    npy_item *items = calloc(cap ? cap : 1, sizeof *items);
    if (!items) {
        btsp__io_set_err(err, errlen, "weights: out of memory");
        return BTSP_E_NOMEM;
    }
    btsp_status st = BTSP_OK;
    char *path = NULL;

    /* Phase 1: read and validate every file. */
    for (size_t i = 0; i < np + npop && st == BTSP_OK; i++) {
        btsp_proj *proj = NULL;
        btsp_pop *pop = NULL;
        size_t rows, cols;
        char what[200];
        if (i < np) {
            proj = btsp_net_proj_at(net, i);
            const float *w;
            st = btsp_proj_weights(proj, &w, &rows, &cols);
            if (st != BTSP_OK) {
                btsp__io_set_err(err, errlen, "weights: cannot read projection %s: %s",
                            btsp_proj_name(proj), btsp_net_errmsg(net));
                break;
            }
            path = npy_join(dir, btsp_proj_name(proj), "");
            snprintf(what, sizeof what, "post %s x pre %s",
                     btsp_pop_full_name(btsp_proj_post(proj)),
                     btsp_pop_full_name(btsp_proj_pre(proj)));
        } else {
            pop = btsp_net_pop_at(net, i - np);
            if (!npy_pop_has_bias(pop))
                continue;
            rows = btsp_pop_size(pop);
            cols = 1;
            char stem[160];
            npy_pop_stem(pop, stem, sizeof stem);
            path = npy_join(dir, stem, "_bias");
            snprintf(what, sizeof what, "bias of %s", btsp_pop_full_name(pop));
        }
        if (!path) {
            btsp__io_set_err(err, errlen, "weights: out of memory");
            st = BTSP_E_NOMEM;
            break;
        }
        n_expected++;
        if (!npy_file_present(path)) {
            if (require_all) {
                btsp__io_set_err(err, errlen, "weights: missing file '%s' (%s)", path, what);
                st = BTSP_E_NOT_FOUND;
            } else if (skipped) {
                size_t used = strlen(skipped->names);
                const char *base = strrchr(path, '/');
                snprintf(skipped->names + used, sizeof skipped->names - used, "%s%s", skipped->n ? ", " : "",
                         base ? base + 1 : path);
                skipped->n++;
            }
            free(path);
            path = NULL;
            continue;
        }
        npy_item *it = &items[n_items];
        size_t shape[2], nd;
        st = btsp_npy_read_f32(path, &it->data, shape, &nd, err, errlen);
        if (st != BTSP_OK)
            break;
        n_items++; /* owns it->data from here on */
        int shape_ok;
        if (proj)
            shape_ok = nd == 2 && shape[0] == rows && shape[1] == cols;
        else
            shape_ok = (nd == 1 && shape[0] == rows) ||
                       (nd == 2 && shape[0] * shape[1] == rows && (shape[0] == 1 || shape[1] == 1));
        if (!shape_ok) {
            char found[64];
            size_t fs[2] = { shape[0], shape[1] };
            npy_format_shape(found, sizeof found, fs, nd);
            if (proj)
                btsp__io_set_err(err, errlen,
                            "weights: '%s': expected shape (%zu, %zu) (%s), found %s", path, rows,
                            cols, what, found);
            else
                btsp__io_set_err(err, errlen, "weights: '%s': expected shape (%zu,) (%s), found %s",
                            path, rows, what, found);
            st = BTSP_E_SHAPE;
            break;
        }
        st = npy_check_finite(path, it->data, rows * cols, err, errlen);
        if (st != BTSP_OK)
            break;
        it->proj = proj;
        it->pop = pop;
        it->rows = rows;
        it->cols = cols;
        free(path);
        path = NULL;
    }
    free(path);
    path = NULL;
    if (skipped)
        skipped->of = n_expected;
    if (st == BTSP_OK && n_items == 0 && n_expected > 0) {
        btsp__io_set_err(err, errlen,
                    "weights: no weight file for this network in '%s' (expected e.g. '%s.npy')", dir,
                    np > 0 ? btsp_proj_name(btsp_net_proj_at(net, 0)) : "<Layer><Pop>_bias");
        st = BTSP_E_NOT_FOUND;
    }

    /* Phase 2: back up the current values. */
    for (size_t i = 0; i < n_items && st == BTSP_OK; i++) {
        npy_item *it = &items[i];
        size_t n = it->rows * it->cols;
        it->backup = malloc((n ? n : 1) * sizeof *it->backup);
        if (!it->backup) {
            btsp__io_set_err(err, errlen, "weights: out of memory");
            st = BTSP_E_NOMEM;
            break;
        }
        st = it->proj ? btsp_proj_copy_weights(it->proj, it->backup, it->rows, it->cols)
                      : btsp_pop_copy_state(it->pop, BTSP_VAR_BIAS, it->backup, it->rows);
        if (st != BTSP_OK)
            btsp__io_set_err(err, errlen, "weights: cannot copy current values: %s", btsp_net_errmsg(net));
    }

    /* Phase 3: apply; on failure restore what was applied. */
    for (size_t i = 0; i < n_items && st == BTSP_OK; i++) {
        npy_item *it = &items[i];
        st = it->proj ? btsp_proj_set_weights(it->proj, it->data, it->rows, it->cols)
                      : btsp_pop_set_bias(it->pop, it->data, it->rows);
        if (st != BTSP_OK) {
            btsp__io_set_err(err, errlen, "weights: cannot set %s: %s",
                        it->proj ? btsp_proj_name(it->proj) : btsp_pop_full_name(it->pop),
                        btsp_net_errmsg(net));
            for (size_t k = i; k-- > 0;) {
                npy_item *r = &items[k];
                if (r->proj)
                    (void)btsp_proj_set_weights(r->proj, r->backup, r->rows, r->cols);
                else
                    (void)btsp_pop_set_bias(r->pop, r->backup, r->rows);
            }
        }
    }
    npy_items_free(items, n_items);
    if (st == BTSP_OK)
        npy_clear_err(err, errlen);
    return st;
}
