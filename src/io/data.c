/* Labelled data sets from IDX files: loading, subsets, the EIANN split, and locating the
 * standard MNIST / Fashion-MNIST files. Part of libbtsp_io. Never prints. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include "io_util.h"
#include "btsp/btsp_io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

static void data_append_err(char *err, size_t errlen, const char *fmt, ...) IO_PRINTF(3, 4);

/* Append to the message already in err (truncating at errlen). */
static void data_append_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    size_t used = strnlen(err, errlen);
    if (used + 1 >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, errlen - used, fmt, ap);
    va_end(ap);
    btsp__io_one_line(err + used, errlen - used);
}

/* ---------------------------------------------------------------------------------------- */
/* Data sets */

void btsp_dataset_free(btsp_dataset *ds)
{
    if (!ds)
        return;
    free(ds->x);
    free(ds->y);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

/* Allocate the arrays of an n-row data set (at least one element each, so never NULL). */
static btsp_status data_alloc(btsp_dataset *ds, size_t n, size_t dim, size_t n_classes)
{
    memset(ds, 0, sizeof *ds);
    if ((dim && n > SIZE_MAX / sizeof(float) / dim) ||
        (n_classes && n > SIZE_MAX / sizeof(float) / n_classes))
        return BTSP_E_NOMEM;
    size_t nx = n * dim, ny = n * n_classes;
    ds->x = malloc((nx ? nx : 1) * sizeof *ds->x);
    ds->y = malloc((ny ? ny : 1) * sizeof *ds->y);
    ds->labels = malloc(n ? n : 1);
    if (!ds->x || !ds->y || !ds->labels) {
        btsp_dataset_free(ds);
        return BTSP_E_NOMEM;
    }
    ds->n = n;
    ds->dim = dim;
    ds->n_classes = n_classes;
    return BTSP_OK;
}

btsp_status btsp_dataset_load_idx(const char *images_path, const char *labels_path,
                                  btsp_dataset *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (out)
        memset(out, 0, sizeof *out);
    if (!images_path || !labels_path || !out) {
        btsp__io_set_err(err, errlen, "data: NULL argument");
        return BTSP_E_INVALID_ARG;
    }
    btsp_idx img = { 0 }, lab = { 0 };
    btsp_status st = btsp_idx_read(images_path, &img, err, errlen);
    if (st != BTSP_OK)
        return st;
    st = btsp_idx_read(labels_path, &lab, err, errlen);
    if (st != BTSP_OK) {
        btsp_idx_free(&img);
        return st;
    }
    if (img.ndim < 2) {
        btsp__io_set_err(err, errlen, "data: '%s': images must have 2 or 3 dimensions, found %d",
                     images_path, img.ndim);
        st = BTSP_E_SHAPE;
    } else if (lab.ndim != 1) {
        btsp__io_set_err(err, errlen, "data: '%s': labels must have 1 dimension, found %d", labels_path,
                     lab.ndim);
        st = BTSP_E_SHAPE;
    } else if (img.dims[0] != lab.dims[0]) {
        btsp__io_set_err(err, errlen, "data: '%s' has %zu images but '%s' has %zu labels", images_path,
                     img.dims[0], labels_path, lab.dims[0]);
        st = BTSP_E_SHAPE;
    } else if (img.dims[1] * img.dims[2] == 0) {
        btsp__io_set_err(err, errlen, "data: '%s': images have no pixels", images_path);
        st = BTSP_E_SHAPE;
    }
    if (st == BTSP_OK) {
        size_t n = img.dims[0], dim = img.dims[1] * img.dims[2];
        unsigned max_label = 0;
        for (size_t i = 0; i < n; i++)
            if (lab.data[i] > max_label)
                max_label = lab.data[i];
        size_t n_classes = (size_t)max_label + 1;
        if (n_classes < BTSP_DATASET_MIN_CLASSES)
            n_classes = BTSP_DATASET_MIN_CLASSES;
        st = data_alloc(out, n, dim, n_classes);
        if (st != BTSP_OK) {
            btsp__io_set_err(err, errlen, "data: out of memory for %zu x %zu images", n, dim);
        } else {
            for (size_t i = 0; i < n * dim; i++)
                out->x[i] = (float)img.data[i] / 255.0f;
            memset(out->y, 0, n * n_classes * sizeof *out->y);
            for (size_t i = 0; i < n; i++) {
                out->labels[i] = lab.data[i];
                out->y[i * n_classes + lab.data[i]] = 1.0f;
            }
        }
    }
    btsp_idx_free(&img);
    btsp_idx_free(&lab);
    return st;
}

btsp_status btsp_dataset_subset(const btsp_dataset *src, size_t start, size_t count,
                                btsp_dataset *out)
{
    if (!out || out == src) /* never clobber the source */
        return BTSP_E_INVALID_ARG;
    memset(out, 0, sizeof *out);
    if (!src)
        return BTSP_E_INVALID_ARG;
    if (start > src->n || count > src->n - start)
        return BTSP_E_SHAPE;
    btsp_status st = data_alloc(out, count, src->dim, src->n_classes);
    if (st != BTSP_OK)
        return st;
    if (count > 0) {
        memcpy(out->x, src->x + start * src->dim, count * src->dim * sizeof *out->x);
        memcpy(out->y, src->y + start * src->n_classes, count * src->n_classes * sizeof *out->y);
        memcpy(out->labels, src->labels + start, count);
    }
    return BTSP_OK;
}

btsp_status btsp_dataset_split_eiann(const btsp_dataset *train_file, btsp_dataset *train,
                                     btsp_dataset *val)
{
    if (!train_file || !train || !val || train == val || train == train_file ||
        val == train_file) /* never clobber the source */
        return BTSP_E_INVALID_ARG;
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (train_file->n != (size_t)BTSP_EIANN_TRAIN_ROWS + BTSP_EIANN_VAL_ROWS)
        return BTSP_E_SHAPE;
    btsp_status st = btsp_dataset_subset(train_file, 0, BTSP_EIANN_TRAIN_ROWS, train);
    if (st != BTSP_OK)
        return st;
    st = btsp_dataset_subset(train_file, BTSP_EIANN_TRAIN_ROWS, BTSP_EIANN_VAL_ROWS, val);
    if (st != BTSP_OK)
        btsp_dataset_free(train);
    return st;
}

/* ---------------------------------------------------------------------------------------- */
/* Locating data sets */

#define DATA_FASHION_SYSTEM_DIR "/usr/share/datasets/fashion-mnist"

static const char *const data_std_names[4] = {
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
};

static int data_is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static int data_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* a + "/" + b (+ c), malloc'd. */
static char *data_join(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    int slash = la > 0 && a[la - 1] != '/';
    char *p = malloc(la + (size_t)slash + lb + lc + 1);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    if (slash)
        p[la] = '/';
    memcpy(p + la + (size_t)slash, b, lb);
    if (lc)
        memcpy(p + la + (size_t)slash + lb, c, lc);
    p[la + (size_t)slash + lb + lc] = '\0';
    return p;
}

static char *data_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Look for the four files in dir. Fills found[] (malloc'd or NULL); returns the number found,
 * or -1 if out of memory. */
static int data_scan_dir(const char *dir, char *found[4])
{
    int count = 0;
    for (int i = 0; i < 4; i++) {
        found[i] = NULL;
        char *plain = data_join(dir, data_std_names[i], NULL);
        char *gz = data_join(dir, data_std_names[i], ".gz");
        if (!plain || !gz) {
            free(plain);
            free(gz);
            for (int k = 0; k < i; k++) {
                free(found[k]);
                found[k] = NULL;
            }
            return -1;
        }
        if (data_is_file(plain)) {
            found[i] = plain;
            free(gz);
        } else if (data_is_file(gz)) {
            found[i] = gz;
            free(plain);
        } else {
            free(plain);
            free(gz);
            continue;
        }
        count++;
    }
    return count;
}

/* Adds to err a description of what dir lacks. */
static void data_describe_dir(const char *dir, char *const found[4], char *err, size_t errlen)
{
    if (!data_is_dir(dir)) {
        struct stat sb;
        data_append_err(err, errlen, "'%s' (%s)", dir,
                        stat(dir, &sb) == 0 ? "not a directory" : "no such directory");
        return;
    }
    data_append_err(err, errlen, "'%s' (missing", dir);
    int first = 1;
    for (int i = 0; i < 4; i++) {
        if (!found[i]) {
            data_append_err(err, errlen, "%s %s[.gz]", first ? "" : ",", data_std_names[i]);
            first = 0;
        }
    }
    data_append_err(err, errlen, ")");
}

btsp_status btsp_data_find(const char *name_or_dir, char *images_train, char *labels_train,
                           char *images_test, char *labels_test, size_t pathlen, char *err,
                           size_t errlen)
{
    char *outs[4] = { images_train, labels_train, images_test, labels_test };
    if (err && errlen > 0)
        err[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (outs[i] && pathlen > 0)
            outs[i][0] = '\0';
    if (!name_or_dir || !*name_or_dir) {
        btsp__io_set_err(err, errlen, "data: NULL or empty data set name");
        return BTSP_E_INVALID_ARG;
    }

    const char *env = getenv("BTSP_DATA_DIR");
    if (env && !*env)
        env = NULL;
    const char *home = getenv("HOME");
    if (home && !*home)
        home = NULL;

    enum { KIND_FASHION, KIND_MNIST, KIND_DIR } kind;
    if (strcmp(name_or_dir, "fashion-mnist") == 0)
        kind = KIND_FASHION;
    else if (strcmp(name_or_dir, "mnist") == 0)
        kind = KIND_MNIST;
    else
        kind = KIND_DIR;

    /* Candidate directories, in order. */
    char *cand[2] = { NULL, NULL };
    int n_cand = 0, oom = 0;
    if (kind == KIND_DIR) {
        cand[n_cand] = data_strdup(name_or_dir);
        oom |= !cand[n_cand++];
    } else {
        if (env) {
            cand[n_cand] = data_join(env, name_or_dir, NULL);
            oom |= !cand[n_cand++];
        }
        if (kind == KIND_FASHION) {
            cand[n_cand] = data_strdup(DATA_FASHION_SYSTEM_DIR);
            oom |= !cand[n_cand++];
        } else if (home) {
            cand[n_cand] = data_join(home, ".cache/libbtsp/mnist", NULL);
            oom |= !cand[n_cand++];
        }
    }
    if (oom) {
        for (int c = 0; c < n_cand; c++)
            free(cand[c]);
        btsp__io_set_err(err, errlen, "data: out of memory");
        return BTSP_E_NOMEM;
    }

    btsp_status st = BTSP_E_NOT_FOUND;
    char *found[2][4] = { { NULL } };
    int hit = -1;
    for (int c = 0; c < n_cand && hit < 0; c++) {
        int k = data_scan_dir(cand[c], found[c]);
        if (k < 0) {
            st = BTSP_E_NOMEM;
            break;
        }
        if (k == 4)
            hit = c;
    }

    if (hit >= 0) {
        st = BTSP_OK;
        for (int i = 0; i < 4; i++) {
            if (outs[i] && strlen(found[hit][i]) >= pathlen) {
                btsp__io_set_err(err, errlen, "data: path '%s' does not fit in a buffer of %zu bytes",
                             found[hit][i], pathlen);
                st = BTSP_E_INVALID_ARG;
                break;
            }
        }
        for (int i = 0; i < 4 && st == BTSP_OK; i++)
            if (outs[i])
                memcpy(outs[i], found[hit][i], strlen(found[hit][i]) + 1);
        if (st != BTSP_OK)
            for (int i = 0; i < 4; i++)
                if (outs[i] && pathlen > 0)
                    outs[i][0] = '\0';
    } else if (st == BTSP_E_NOMEM) {
        btsp__io_set_err(err, errlen, "data: out of memory");
    } else {
        if (kind == KIND_DIR)
            btsp__io_set_err(err, errlen, "data: no IDX data set in ");
        else
            btsp__io_set_err(err, errlen, "data: %s not found; looked in ", name_or_dir);
        for (int c = 0; c < n_cand; c++) {
            if (c > 0)
                data_append_err(err, errlen, ", ");
            data_describe_dir(cand[c], found[c], err, errlen);
        }
        if (kind == KIND_FASHION)
            data_append_err(err, errlen,
                            ". Install it with `apt-get install dataset-fashion-mnist`, or put the "
                            "four files in $BTSP_DATA_DIR/fashion-mnist/");
        else if (kind == KIND_MNIST)
            data_append_err(err, errlen,
                            "%s. Download it with `scripts/get-mnist.sh` (writes to "
                            "${BTSP_DATA_DIR:-$HOME/.cache/libbtsp}/mnist/)",
                            n_cand == 0 ? "nowhere: neither BTSP_DATA_DIR nor HOME is set" : "");
        else
            data_append_err(err, errlen,
                            ". A data set directory holds train-images-idx3-ubyte, "
                            "train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
                            "t10k-labels-idx1-ubyte, each plain or .gz (Fashion-MNIST: `apt-get "
                            "install dataset-fashion-mnist`; MNIST: `scripts/get-mnist.sh`)");
    }

    for (int c = 0; c < 2; c++) {
        for (int i = 0; i < 4; i++)
            free(found[c][i]);
        free(cand[c]);
    }
    return st;
}
