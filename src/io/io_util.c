/* Shared helpers of libbtsp_io. */
#include "io_util.h"

#include <stdarg.h>
#include <stdio.h>

void btsp__io_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    btsp__io_one_line(err, errlen);
}

void btsp__io_one_line(char *s, size_t len)
{
    for (size_t i = 0; s && i < len && s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = '?';
}
