/* Shared helpers of libbtsp_io (not installed). */
#ifndef BTSP_IO_UTIL_H
#define BTSP_IO_UTIL_H

#include <stddef.h>

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

#endif
