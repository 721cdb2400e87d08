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

#endif
