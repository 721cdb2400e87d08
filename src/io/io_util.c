/* Shared helpers of libbtsp_io. */
#include "io_util.h"

#include "btsp/btsp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

char *btsp__io_tmp_name(const char *path)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (tmp) {
        memcpy(tmp, path, plen);
        memcpy(tmp + plen, ".tmp", 5);
    }
    return tmp;
}

int btsp__io_commit(FILE *f, const char *tmp, const char *path, int ok, int write_errno, const char *what,
                    char *err, size_t errlen)
{
    if (fclose(f) != 0 && ok) {
        ok = 0;
        write_errno = errno;
    }
    if (!ok) {
        btsp__io_set_err(err, errlen, "%s: cannot write '%s': %s", what, tmp, strerror(write_errno));
        remove(tmp);
        return BTSP_E_IO;
    }
#ifdef _WIN32
    remove(path);
#endif
    if (rename(tmp, path) != 0) {
        btsp__io_set_err(err, errlen, "%s: cannot rename '%s' to '%s': %s", what, tmp, path, strerror(errno));
        remove(tmp);
        return BTSP_E_IO;
    }
    return BTSP_OK;
}
