/* Shared helpers of libbtsp_io (not installed; the btsp program uses them too). */
#ifndef BTSP_IO_UTIL_H
#define BTSP_IO_UTIL_H

#include "btsp/btsp.h"

#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define IO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define IO_PRINTF(a, b)
#endif

/* Write a formatted message into the caller's error buffer (err may be NULL, errlen 0). */
void btsp__io_set_err(char *err, size_t errlen, const char *fmt, ...) IO_PRINTF(3, 4);

/* Replace control characters (newlines, tabs, escape sequences from file contents or names)
 * with '?' in s[0..len) up to its NUL, so that every message stays one printable line. */
void btsp__io_one_line(char *s, size_t len);

/* Atomic replacement of a file: "<path>.tmp" as a malloc'ed string (NULL when out of memory). */
char *btsp__io_tmp_name(const char *path);
/* Finish writing `tmp` (opened as f): close it and, if everything was written (ok non-zero),
 * rename it over `path`; otherwise, or if closing or renaming fails, remove it and write a
 * message "<what>: cannot ..." naming the file and the system's reason. write_errno: errno of
 * the failed write when ok is 0. durable (POSIX): fsync the file before the rename and its
 * directory after, so that the replacement also survives a power loss, not only a crash of
 * the program. Returns BTSP_OK or BTSP_E_IO. */
btsp_status btsp__io_commit(FILE *f, const char *tmp, const char *path, int ok, int write_errno, int durable,
                            const char *what, char *err, size_t errlen);

/* The weight arrays btsp_io_load_weights() found no file for (without require_all): `n` of
 * `of`, their file names comma-separated in `names` (cut at its size). */
typedef struct btsp__io_skipped {
    size_t n, of;
    char names[512];
} btsp__io_skipped;
/* btsp_io_load_weights(), also reporting what it skipped (skipped may be NULL). */
btsp_status btsp__io_load_weights_skipped(btsp_net *net, const char *dir, int require_all, btsp__io_skipped *skipped,
                                          char *err, size_t errlen);

/* .npy pieces for streaming (btsp merge): the header btsp_npy_write_f32() writes for a '<f4'
 * array of `rows` (ndim 1) or rows x cols (ndim 2), into head; returns its length (a multiple
 * of 64), 0 if it does not fit. */
size_t btsp__npy_f32_header(size_t ndim, size_t rows, size_t cols, unsigned char head[256]);
/* Open a C-order 1-D or 2-D '<f4' .npy file (such as btsp_npy_write_f32() writes) and leave *out
 * at its data, which is checked to be all there; shape[1] is 1 for 1-D. Other dtypes or orders
 * are BTSP_E_FORMAT (read those with btsp_npy_read_f32()). */
btsp_status btsp__npy_open_f32le(const char *path, FILE **out, size_t shape[2], size_t *ndim, char *err,
                                 size_t errlen);

#endif
