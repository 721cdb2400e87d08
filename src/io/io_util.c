/* Shared helpers of libbtsp_io. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* fileno, fsync */
#endif
#include "io_util.h"

#include "btsp/btsp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

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

/* fsync the directory holding `path`, so that a rename into it survives a power loss. */
static void sync_dir(const char *path)
{
#ifndef _WIN32
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir)
        return;
    if (slash && n == 0)
        n = 1; /* the root */
    memcpy(dir, slash ? path : ".", slash ? n : 1);
    dir[slash ? n : 1] = '\0';
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
#else
    (void)path;
#endif
}

btsp_status btsp__io_commit(FILE *f, const char *tmp, const char *path, int ok, int write_errno, int durable,
                            const char *what, char *err, size_t errlen)
{
#ifndef _WIN32
    if (ok && durable && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        ok = 0;
        write_errno = errno;
    }
#endif
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
    if (durable)
        sync_dir(path);
    return BTSP_OK;
}
