/* State files: one image of btsp_net_save_state() per file (btsp_io_save_state /
 * btsp_io_load_state). The image format and its checks live in the core (src/state.c); this
 * file only moves bytes, writing atomically so that a checkpoint is either the old or the new
 * one, never a mix. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* fileno */
#endif
#include "io_util.h"
#include "btsp/btsp_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* bytes beyond this network's image size up to which a file is read whole, so that the core's
 * message names the exact sizes; a larger file is refused without reading it */
#define SLACK ((size_t)1 << 20)

/* The arguments both calls share; *n receives the network's image size. */
static btsp_status check_args(btsp_net *net, const char *path, size_t *n, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0'; /* the empty string on success (btsp_io.h) */
    if (!net || !path) {
        btsp__io_set_err(err, errlen, "state: NULL %s", net ? "path" : "network");
        return BTSP_E_INVALID_ARG;
    }
    if ((*n = btsp_net_state_size(net)) == 0) {
        btsp__io_set_err(err, errlen, "state: '%s': finalize the network first", path);
        return BTSP_E_STATE;
    }
    return BTSP_OK;
}

btsp_status btsp_io_save_state(btsp_net *net, const char *path, char *err, size_t errlen)
{
    size_t n;
    btsp_status st = check_args(net, path, &n, err, errlen);
    if (st)
        return st;
    unsigned char *buf = malloc(n);
    char *tmp = btsp__io_tmp_name(path);
    if (!buf || !tmp) {
        free(buf);
        free(tmp);
        btsp__io_set_err(err, errlen, "state: '%s': out of memory (%zu bytes)", path, n);
        return BTSP_E_NOMEM;
    }
    st = btsp_net_save_state(net, buf, n, NULL);
    if (st) {
        btsp__io_set_err(err, errlen, "state: '%s': %s", path, btsp_net_errmsg(net));
    } else {
        FILE *f = fopen(tmp, "wb");
        if (!f) {
            btsp__io_set_err(err, errlen, "state: cannot create '%s': %s", tmp, strerror(errno));
            st = BTSP_E_IO;
        } else {
            int ok = fwrite(buf, 1, n, f) == n;
            st = btsp__io_commit(f, tmp, path, ok, errno, 1, "state", err, errlen);
        }
    }
    free(tmp);
    free(buf);
    return st;
}

btsp_status btsp_io_load_state(btsp_net *net, const char *path, char *err, size_t errlen)
{
    size_t n;
    btsp_status st = check_args(net, path, &n, err, errlen);
    if (st)
        return st;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        btsp__io_set_err(err, errlen, "state: cannot open '%s': %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? BTSP_E_NOT_FOUND : BTSP_E_IO;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        btsp__io_set_err(err, errlen, "state: '%s' is not a regular file", path);
        return BTSP_E_IO;
    }
    if ((unsigned long long)sb.st_size > (unsigned long long)n + SLACK) {
        fclose(f);
        btsp__io_set_err(err, errlen,
                         "state: '%s' has %lld bytes; an image of this network has %zu (an image of another "
                         "network, or not an image)",
                         path, (long long)sb.st_size, n);
        return BTSP_E_FORMAT;
    }
    size_t size = (size_t)sb.st_size;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf) {
        fclose(f);
        btsp__io_set_err(err, errlen, "state: '%s': out of memory (%zu bytes)", path, size);
        return BTSP_E_NOMEM;
    }
    size_t got = fread(buf, 1, size, f);
    int e = errno, read_failed = ferror(f) || got != size;
    fclose(f);
    if (read_failed) {
        btsp__io_set_err(err, errlen, "state: cannot read '%s': %s", path,
                         got != size ? "the file changed while it was read" : strerror(e));
        st = BTSP_E_IO;
    } else if ((st = btsp_net_load_state(net, buf, got)) != BTSP_OK) {
        btsp__io_set_err(err, errlen, "state: '%s': %s", path, btsp_net_errmsg(net));
    }
    free(buf);
    return st;
}
