/* Shared helpers of the `btsp` program: networks, data sets, evaluation, files, JSON/CSV. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */

#include "cli.h"

#include "btsp/btsp_analysis.h"
#include "btsp/btsp_config.h"
#include "btsp/btsp_kernels.h"

#include "demo_data.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Sizes of the synthetic demo task (rows of train / validation / test). */
#define DEMO_TRAIN_ROWS 2000
#define DEMO_VAL_ROWS 500
#define DEMO_TEST_ROWS 1000

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

const char *cli_demo_yaml(void)
{
    return btsp_demo_config;
}

btsp_net *cli_load_net(const char *config, unsigned long long seed, btsp_status *status, char *msg, size_t msglen)
{
    char err[1024];
    btsp_net *net = NULL;
    btsp_status st;
    if (strcmp(config, CLI_DEMO_CONFIG) == 0)
        st = btsp_config_load_string(btsp_demo_config, strlen(btsp_demo_config), "tiny_btsp.yaml (embedded)", NULL,
                                     &net, err, sizeof err);
    else
        st = btsp_config_load(config, NULL, &net, err, sizeof err);
    if (status)
        *status = st;
    if (st) {
        if (msg && msglen)
            snprintf(msg, msglen, "%s", err);
        else
            fprintf(stderr, "btsp: %s\n", err);
        return NULL;
    }
    btsp_net_seed(net, seed);
    return net;
}

/* Weights loaded from files for a projection with receptive fields must already be zero outside
 * the fields this network drew: the next constraint pass would otherwise mask away most of them
 * without a word (weights made by EIANN with another seed, or by a run with the other --rng).
 * Each row is masked in a scratch copy by the constraint's own kernel (btsp_k_rf_mask) and must
 * come out unchanged. Returns 0 and a message naming the first weight the mask would erase. */
int cli_weights_fit_fields(const btsp_net *net, const char *what, char *msg, size_t cap)
{
    int ok = 1;
    float *row = NULL;
    for (size_t i = 0; ok && i < btsp_net_proj_count(net); i++) {
        const btsp_proj *q = btsp_net_proj_at(net, i);
        size_t side, ch, h, w, rows, cols;
        const float *W;
        if (btsp_proj_get_receptive_fields(q, &side, &ch, &h, &w, NULL) || btsp_proj_weights(q, &W, &rows, &cols))
            continue;
        float *grown = realloc(row, cols * sizeof *row);
        if (!grown) {
            snprintf(msg, cap, "%s: out of memory", what);
            ok = 0;
            break;
        }
        row = grown;
        for (size_t u = 0; ok && u < rows; u++) {
            size_t r0, c0;
            btsp_proj_receptive_field(q, u, &r0, &c0);
            const uint32_t corner[2] = {(uint32_t)r0, (uint32_t)c0};
            memcpy(row, W + u * cols, cols * sizeof *row);
            btsp_k_rf_mask(1, row, cols, corner, side, ch, h, w);
            for (size_t j = 0; j < cols; j++)
                if (row[j] != W[u * cols + j]) {
                    snprintf(msg, cap,
                             "%s: %s unit %zu has a non-zero weight at input %zu (row %zu, column %zu), outside "
                             "the %zu x %zu receptive field this network drew at (%zu, %zu); were the weights made "
                             "with another seed, or by EIANN without --rng torch?",
                             what, btsp_proj_name(q), u, j, j / w % h, j % w, side, side, r0, c0);
                    ok = 0;
                    break;
                }
        }
    }
    free(row);
    return ok;
}

void cli_split_free(data_split *d)
{
    btsp_dataset_free(&d->train);
    btsp_dataset_free(&d->val);
    btsp_dataset_free(&d->test);
}

static int load_demo_data(unsigned long long data_seed, data_split *d)
{
    btsp_net *net = cli_load_net(CLI_DEMO_CONFIG, 0, NULL, NULL, 0);
    if (!net)
        return 0;
    size_t dim = btsp_pop_size(btsp_net_input(net)), n_out = btsp_pop_size(btsp_net_output(net));
    btsp_net_destroy(net);
    /* The seeds of train and test are those `btsp demo` has always used. */
    if (!btsp_demo_make_data(data_seed, dim, n_out, DEMO_TRAIN_ROWS, &d->train) ||
        !btsp_demo_make_data(data_seed + 1000003u, dim, n_out, DEMO_TEST_ROWS, &d->test) ||
        !btsp_demo_make_data(data_seed + 2000003u, dim, n_out, DEMO_VAL_ROWS, &d->val)) {
        fprintf(stderr, "btsp: out of memory\n");
        cli_split_free(d);
        return 0;
    }
    return 1;
}

int cli_load_data(const char *name, unsigned long long data_seed, data_split *d)
{
    char it[1024], lt[1024], ie[1024], le[1024], err[1024];
    memset(d, 0, sizeof *d);
    if (strcmp(name, CLI_DEMO_DATA) == 0)
        return load_demo_data(data_seed, d);
    if (btsp_data_find(name, it, lt, ie, le, sizeof it, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        return 0;
    }
    if (btsp_dataset_load_idx(ie, le, &d->test, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        return 0;
    }
    btsp_dataset file;
    if (btsp_dataset_load_idx(it, lt, &file, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        cli_split_free(d);
        return 0;
    }
    btsp_status st;
    if (file.n == BTSP_EIANN_TRAIN_ROWS + BTSP_EIANN_VAL_ROWS)
        st = btsp_dataset_split_eiann(&file, &d->train, &d->val);
    else
        st = btsp_dataset_subset(&file, 0, file.n, &d->train);
    btsp_dataset_free(&file);
    if (st) {
        fprintf(stderr, "btsp: splitting the training file failed: %s\n", btsp_status_string(st));
        cli_split_free(d);
        return 0;
    }
    return 1;
}

/* The training split must fit the network exactly: its one-hot targets are rows of n_classes
 * values, which training reads as rows of the output's size, so a training label beyond the
 * outputs (or an output unit no class has) would misalign every target after it. Validation
 * and test rows are scored by label, so they only need labels below the output's size. */
int cli_check_dims(btsp_net *net, const data_split *d)
{
    size_t nin = btsp_pop_size(btsp_net_input(net)), nout = btsp_pop_size(btsp_net_output(net));
    const btsp_dataset *part[3] = {&d->train, &d->val, &d->test};
    static const char *const name[3] = {"training", "validation", "test"};
    for (int k = 0; k < 3; k++) {
        if (part[k]->n == 0)
            continue; /* no validation rows in a directory of another size */
        if (part[k]->dim != nin) {
            fprintf(stderr, "btsp: the network has %zu inputs; the %s images have %zu values each\n", nin, name[k],
                    part[k]->dim);
            return 0;
        }
        if (k == 0 ? part[k]->n_classes != nout : part[k]->n_classes > nout) {
            fprintf(stderr,
                    "btsp: the network has %zu output units, one per class; the %s set has %zu classes (its "
                    "largest label + 1, at least %d)\n",
                    nout, name[k], part[k]->n_classes, BTSP_DATASET_MIN_CLASSES);
            return 0;
        }
    }
    return 1;
}

typedef struct eval_part {
    btsp_net *net;
    const float *x;
    size_t n, dim;
    float *out;
    size_t n_out;
    btsp_status st;
} eval_part;

static void *eval_part_run(void *arg)
{
    eval_part *e = arg;
    e->st = e->n ? btsp_net_evaluate(e->net, e->x, e->n, e->dim, e->out, e->n_out) : BTSP_OK;
    return NULL;
}

void cli_parallel(void *(*fn)(void *), void *args, size_t size, size_t m)
{
    pthread_t th[CLI_MAX_EVAL_THREADS];
    int started[CLI_MAX_EVAL_THREADS] = {0};
    char *base = args;
    for (size_t q = 1; q < m; q++)
        started[q] = pthread_create(&th[q], NULL, fn, base + q * size) == 0;
    if (m)
        fn(base);
    for (size_t q = 1; q < m; q++) {
        if (started[q])
            pthread_join(th[q], NULL);
        else
            fn(base + q * size);
    }
}

double cli_accuracy_par(btsp_net *const *nets, size_t n_nets, const btsp_dataset *ds, float *out, double *seconds,
                        double *mse)
{
    if (n_nets > CLI_MAX_EVAL_THREADS)
        n_nets = CLI_MAX_EVAL_THREADS;
    if (n_nets > 1 && ds->n < 2 * n_nets) /* too few rows to be worth threads */
        n_nets = 1;
    size_t n_out = btsp_pop_size(btsp_net_output(nets[0]));
    double t0 = cli_now();
    if (mse)
        *mse = NAN;
    eval_part parts[CLI_MAX_EVAL_THREADS];
    size_t per = (ds->n + n_nets - 1) / n_nets;
    for (size_t k = 0; k < n_nets; k++) {
        size_t a = k * per < ds->n ? k * per : ds->n, b = a + per < ds->n ? a + per : ds->n;
        const float *x = ds->x ? ds->x + a * ds->dim : NULL; /* an empty set may have no rows at all */
        parts[k] = (eval_part){nets[k], x, b - a, ds->dim, out + a * n_out, n_out, BTSP_OK};
    }
    cli_parallel(eval_part_run, parts, sizeof parts[0], n_nets);
    for (size_t k = 0; k < n_nets; k++)
        if (parts[k].st) {
            fprintf(stderr, "btsp: evaluation failed: %s\n", btsp_net_errmsg(parts[k].net));
            return NAN;
        }
    if (seconds)
        *seconds += cli_now() - t0;
    return cli_score(out, ds, n_out, mse);
}

double cli_score(const float *out, const btsp_dataset *ds, size_t n_out, double *mse)
{
    if (mse)
        *mse = n_out == ds->n_classes ? btsp_an_mse(out, ds->y, ds->n, n_out) : NAN;
    return btsp_an_accuracy(out, ds->n, n_out, ds->labels);
}

btsp_net *cli_sync_copies(btsp_net *const *copies, size_t n, const btsp_net *src)
{
    for (size_t k = 0; k < n; k++)
        if (cli_copy_params(copies[k], src))
            return copies[k];
    return NULL;
}

void cli_csv_free(cli_csv_table *t)
{
    for (size_t i = 0; i < t->n_cols; i++)
        free(t->names[i]);
    free(t->names);
    free(t->v);
    memset(t, 0, sizeof *t);
}

int cli_csv_read(const char *path, cli_csv_table *t)
{
    memset(t, 0, sizeof *t);
    char *text = cli_read_file(path, NULL);
    if (!text)
        return 0;
    char *line = text, *nl = strchr(line, '\n');
    if (!nl) {
        free(text);
        return 0;
    }
    *nl = '\0';
    size_t cols = 1;
    for (char *c = line; *c; c++)
        cols += *c == ',';
    t->names = calloc(cols, sizeof *t->names);
    size_t rows_cap = 1;
    for (char *c = nl + 1; *c; c++)
        rows_cap += *c == '\n';
    t->v = malloc(rows_cap * cols * sizeof *t->v);
    if (!t->names || !t->v) {
        free(text);
        cli_csv_free(t);
        return 0;
    }
    t->n_cols = cols;
    char *f = line;
    for (size_t i = 0; i < cols; i++) {
        char *comma = strchr(f, ',');
        if (comma)
            *comma = '\0';
        size_t n = strlen(f);
        t->names[i] = malloc(n + 1);
        if (t->names[i])
            memcpy(t->names[i], f, n + 1);
        f = comma ? comma + 1 : f + n;
    }
    for (char *r = nl + 1; *r;) {
        char *end = strchr(r, '\n');
        if (end)
            *end = '\0';
        if (*r) {
            float *row = t->v + t->n_rows * cols;
            char *p = r;
            for (size_t i = 0; i < cols; i++) {
                char *q;
                double x = strtod(p, &q);
                row[i] = q == p ? NAN : (float)x;
                p = strchr(q, ',');
                if (!p) {
                    for (size_t j = i + 1; j < cols; j++)
                        row[j] = NAN;
                    break;
                }
                p++;
            }
            t->n_rows++;
        }
        if (!end)
            break;
        r = end + 1;
    }
    free(text);
    return 1;
}


double cli_accuracy(btsp_net *net, const btsp_dataset *ds, float *out, double *seconds, double *mse)
{
    return cli_accuracy_par(&net, 1, ds, out, seconds, mse);
}

int cli_make_dir(const char *dir)
{
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf) {
        fprintf(stderr, "btsp: bad directory name '%s'\n", dir);
        return 0;
    }
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "btsp: cannot create '%s': %s\n", buf, strerror(errno));
            return 0;
        }
        buf[i] = c;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "btsp: '%s' is not a directory\n", dir);
        return 0;
    }
    return 1;
}

int cli_out_usable(const char *dir, int overwrite, char *msg, size_t len)
{
    struct stat sb;
    if (stat(dir, &sb) != 0)
        return 1; /* made when the run starts (ENOENT), or an error cli_make_dir reports */
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(msg, len, "--out %s exists and is not a directory", dir);
        return 0;
    }
    if (overwrite)
        return 1;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(msg, len, "cannot read --out %s: %s", dir, strerror(errno));
        return 0;
    }
    const struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        snprintf(msg, len,
                 "--out %s already holds files (an earlier run?): give a new or empty directory, or --overwrite "
                 "to write this run into it",
                 dir);
    return empty;
}

btsp_status cli_copy_params(btsp_net *dst, const btsp_net *src)
{
    btsp_status st = BTSP_OK;
    for (size_t i = 0; i < btsp_net_proj_count(src) && !st; i++) {
        const btsp_proj *a = btsp_net_proj_at(src, i);
        btsp_proj *b = btsp_net_proj_at(dst, i);
        const float *w;
        size_t r, c;
        if (!b || (st = btsp_proj_weights(a, &w, &r, &c)) != BTSP_OK)
            return st ? st : BTSP_E_SHAPE;
        st = btsp_proj_set_weights(b, w, r, c);
    }
    for (size_t i = 0; i < btsp_net_pop_count(src) && !st; i++) {
        const btsp_pop *a = btsp_net_pop_at(src, i);
        btsp_pop *b = btsp_net_pop_at(dst, i);
        double has = 0.0;
        if (!b)
            return BTSP_E_SHAPE;
        if (btsp_pop_get(a, BTSP_POP_INCLUDE_BIAS, &has) || has == 0.0)
            continue;
        const float *bias;
        size_t n;
        if ((st = btsp_pop_state(a, BTSP_VAR_BIAS, &bias, &n)) == BTSP_OK)
            st = btsp_pop_set_bias(b, bias, n);
    }
    return st;
}

void cli_pop_file_name(const btsp_pop *pop, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s", btsp_layer_name(btsp_pop_layer(pop)), btsp_pop_name(pop));
}

void cli_json_escape(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if ((unsigned char)*s < 0x20) { /* a tab or newline in a path must survive the round trip */
            fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
            continue;
        }
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

void cli_json_number(FILE *f, const char *key, double v, int last)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.6g%s", key, v, last ? "" : ", ");
    else
        fprintf(f, "\"%s\": null%s", key, last ? "" : ", ");
}

void cli_json_string(FILE *f, const char *key, const char *s, int last)
{
    fprintf(f, "\"%s\": ", key);
    if (s)
        cli_json_escape(f, s);
    else
        fputs("null", f);
    fputs(last ? "" : ", ", f);
}

void cli_csv_number(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.9g", v);
}

int cli_path(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "btsp: path too long: %s/%s\n", dir, name);
        return 0;
    }
    return 1;
}

char *cli_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int cli_write_npy(const char *path, const float *data, size_t rows, size_t cols)
{
    char err[1024];
    size_t shape[2] = {rows, cols};
    if (btsp_npy_write_f32(path, data, cols == 0 ? 1 : 2, shape, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        return 0;
    }
    return 1;
}

int cli_plot_lines(const char *path, const btsp_an_plot_labels *labels, const float *x, const float *y,
                   size_t n_series, size_t n_points, double y_lo, double y_hi)
{
    if (n_points == 0 || n_series == 0)
        return 0;
    char err[4400], svg[4096];
    int files = 0;
    size_t n = strlen(path);
    if (n < 4 || strcmp(path + n - 4, ".png") != 0 || n >= sizeof svg) {
        fprintf(stderr, "btsp: plot file '%s' must end in .png\n", path);
        return -1;
    }
    memcpy(svg, path, n - 4);
    memcpy(svg + n - 4, ".svg", 5);
    if (btsp_an_write_lines_svg(svg, labels, x, y, n_series, n_points, y_lo, y_hi, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        return -1;
    }
    files++;
    if (!btsp_png_available())
        return files;
    const size_t w = 640, h = 400;
    uint8_t *rgb = malloc(w * h * 3);
    if (!rgb) {
        fprintf(stderr, "btsp: out of memory\n");
        return -1;
    }
    btsp_status st = btsp_an_render_lines(x, y, n_series, n_points, y_lo, y_hi, rgb, w, h);
    if (!st)
        st = btsp_png_write(path, rgb, w, h, 3, err, sizeof err);
    else
        snprintf(err, sizeof err, "%s: cannot render: %s", path, btsp_status_string(st));
    free(rgb);
    if (st) {
        fprintf(stderr, "btsp: %s\n", err);
        return -1;
    }
    return files + 1;
}

const char *cli_net_rule_name(const btsp_net *net)
{
    const btsp_pop *out = btsp_net_output(net);
    for (size_t i = 0; i < btsp_net_proj_count(net); i++) {
        const btsp_proj *q = btsp_net_proj_at(net, i);
        const btsp_rule *r = btsp_proj_rule(q);
        if (r && btsp_proj_post(q) == out && btsp_proj_compartment(q) == BTSP_SOMA) {
            const char *name = btsp_rule_kind_name(btsp_rule_get_kind(r));
            return name ? name : "?";
        }
    }
    return "-";
}

btsp_status cli_order_open(cli_order *o, const char *file, size_t n_rows, unsigned long long data_seed, int torch,
                           char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->n_rows = n_rows;
    o->data_seed = data_seed;
    o->epoch = UINT64_MAX;
    o->torch = torch;
    if (n_rows == 0) {
        snprintf(err, errlen, "no training rows");
        return BTSP_E_SHAPE;
    }
    if (file) {
        if (n_rows > ((size_t)1 << 24)) { /* indices travel as float32 (btsp_npy_read_f32) */
            snprintf(err, errlen, "%s: --order needs a training set of at most 2^24 rows, have %zu", file, n_rows);
            return BTSP_E_RANGE;
        }
        float *ord = NULL;
        size_t shape[2], nd;
        btsp_status st = btsp_npy_read_f32(file, &ord, shape, &nd, err, errlen);
        if (st)
            return st;
        size_t n = shape[0] * shape[1];
        /* any length: an order of several epochs (another implementation's) is replayed as is */
        if (nd != 1 || n == 0) {
            btsp_npy_free(ord);
            if (nd != 1)
                snprintf(err, errlen, "%s: need a 1-D array of training-row indices, found a %zu x %zu array", file,
                         shape[0], shape[1]);
            else
                snprintf(err, errlen, "%s: need at least one training-row index, found none", file);
            return BTSP_E_SHAPE;
        }
        o->fixed = malloc(n * sizeof *o->fixed);
        for (size_t i = 0; o->fixed && i < n; i++) {
            if (!(ord[i] >= 0.0f && ord[i] < (float)n_rows && ord[i] == floorf(ord[i]))) {
                snprintf(err, errlen, "%s: entry %zu (%g) is not a training-row index below %zu", file, i,
                         (double)ord[i], n_rows);
                btsp_npy_free(ord);
                cli_order_close(o);
                return BTSP_E_RANGE;
            }
            o->fixed[i] = (uint32_t)ord[i];
        }
        btsp_npy_free(ord);
        o->n_fixed = n;
    } else {
        o->perm = malloc(n_rows * sizeof *o->perm);
    }
    if (!o->fixed && !o->perm) {
        snprintf(err, errlen, "out of memory");
        return BTSP_E_NOMEM;
    }
    return BTSP_OK;
}

const uint32_t *cli_order_epoch(cli_order *o, uint64_t epoch)
{
    if (epoch == o->epoch)
        return o->perm;
    if (!o->torch) {
        btsp_k_permutation(o->data_seed, epoch, o->perm, o->n_rows);
    } else {
        /* one generator for all epochs, as the DataLoader's: replay from the seed when going back */
        if (o->epoch == UINT64_MAX || epoch < o->epoch) {
            btsp_k_mt19937_seed(&o->gen, o->data_seed);
            o->epoch = UINT64_MAX;
        }
        for (uint64_t e = o->epoch == UINT64_MAX ? 0 : o->epoch + 1; e <= epoch; e++) {
            if (e > 0) /* the previous epoch ran to exhaustion: the sampler's trailing randperm */
                btsp_k_torch_randperm(&o->gen, o->perm, o->n_rows);
            btsp_k_torch_shuffle_epoch(&o->gen, o->perm, o->n_rows);
        }
    }
    o->epoch = epoch;
    return o->perm;
}

size_t cli_order_row(cli_order *o, uint64_t t)
{
    if (o->fixed)
        return o->fixed[t % o->n_fixed];
    return cli_order_epoch(o, t / o->n_rows)[t % o->n_rows];
}

void cli_order_close(cli_order *o)
{
    free(o->fixed);
    free(o->perm);
    o->fixed = o->perm = NULL;
}

/* ---- reading the flat JSON objects this program writes (run.json, state sidecars) ---- */

static const char *json_find(const char *text, const char *key)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

const char *cli_json_get_raw(const char *text, const char *key, size_t *len)
{
    const char *p = json_find(text, key), *q = p;
    int depth = 0, in_str = 0;
    for (; q && *q; q++) {
        if (in_str) {
            if (*q == '\\' && q[1]) {
                q++;
            } else if (*q == '"') {
                in_str = 0;
                if (depth == 0) {
                    q++; /* a string value ends with its quote */
                    break;
                }
            }
        } else if (*q == '"') {
            in_str = 1;
        } else if (*q == '[') {
            depth++;
        } else if (*q == ']') {
            if (--depth == 0) {
                q++; /* an array ends with its bracket */
                break;
            }
        } else if (depth == 0 && (*q == ',' || *q == '}' || *q == '\n' || *q == ' ')) {
            break; /* a number or literal */
        }
    }
    if (p)
        *len = (size_t)(q - p);
    return p;
}

int cli_json_get_string(const char *text, const char *key, char *buf, size_t len)
{
    const char *p = json_find(text, key);
    if (!p || *p != '"')
        return 0;
    size_t n = 0;
    for (p++; *p && *p != '"'; p++) {
        char ch = *p;
        unsigned code = 0;
        int hex = *p == '\\' && p[1] == 'u';
        for (int k = 2; hex && k < 6; k++) {
            char h = p[k];
            hex = (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F');
            code = code * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        }
        if (hex && code > 0 && code < 0x80) {
            ch = (char)code; /* \u00XX, as cli_json_escape writes control characters */
            p += 5;
        } else if (*p == '\\' && p[1]) {
            ch = *++p;
        }
        if (n + 1 < len)
            buf[n++] = ch;
    }
    buf[n] = '\0';
    return *p == '"';
}

int cli_json_get_number(const char *text, const char *key, double *v)
{
    const char *p = json_find(text, key);
    char *end;
    if (!p)
        return 0;
    *v = strtod(p, &end);
    return end != p;
}

int cli_json_get_u64(const char *text, const char *key, unsigned long long *v)
{
    const char *p = json_find(text, key);
    char *end;
    if (!p || *p < '0' || *p > '9')
        return 0;
    errno = 0;
    unsigned long long x = strtoull(p, &end, 10);
    if (end == p || errno != 0)
        return 0;
    *v = x;
    return 1;
}

int cli_json_get_bool(const char *text, const char *key, int *v)
{
    const char *p = json_find(text, key);
    if (p && strncmp(p, "true", 4) == 0)
        *v = 1;
    else if (p && strncmp(p, "false", 5) == 0)
        *v = 0;
    else
        return 0;
    return 1;
}

/* ---- run directories ---- */

static int cmp_ull(const void *x, const void *y)
{
    unsigned long long a = *(const unsigned long long *)x, b = *(const unsigned long long *)y;
    return (a > b) - (a < b);
}

/* The sample counts run.json's "snapshots" lists, sorted (malloc'd), or NULL when the run
 * directory's run.json has no such list (an older directory: every snapshot directory counts). */
static unsigned long long *listed_snapshots(const char *run, size_t *n)
{
    char path[4096];
    size_t len = 0;
    *n = 0;
    char *json = cli_path(path, sizeof path, run, "run.json") ? cli_read_file(path, NULL) : NULL;
    const char *raw = json ? cli_json_get_raw(json, "snapshots", &len) : NULL;
    unsigned long long *v = raw ? malloc((len / 2 + 1) * sizeof *v) : NULL; /* a count per 2 chars at most */
    for (const char *p = raw; v && p < raw + len;) {
        char *end;
        unsigned long long x = strtoull(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        v[(*n)++] = x;
        p = end;
    }
    free(json);
    if (v && *n)
        qsort(v, *n, sizeof *v, cmp_ull);
    return v;
}

size_t cli_missing_snapshots(const char *run, unsigned long long last, unsigned long long *first)
{
    size_t n_listed = 0, n_found = 0, missing = 0;
    unsigned long long *listed = listed_snapshots(run, &n_listed);
    unsigned long long *found = listed ? cli_list_snapshots(run, last, &n_found) : NULL;
    for (size_t i = 0; listed && i < n_listed; i++) {
        if (listed[i] > last || (found && bsearch(&listed[i], found, n_found, sizeof *found, cmp_ull)))
            continue;
        if (missing++ == 0)
            *first = listed[i];
    }
    free(listed);
    free(found);
    return missing;
}

unsigned long long *cli_list_snapshots(const char *run, unsigned long long last, size_t *n)
{
    char path[4096];
    *n = 0;
    if (!cli_path(path, sizeof path, run, "snapshots"))
        return NULL;
    /* only the snapshots run.json lists: a directory left in the same --out by an earlier run is
     * not this run's (btsp merge and btsp analyze alike) */
    size_t n_listed = 0;
    unsigned long long *listed = listed_snapshots(run, &n_listed);
    DIR *dir = opendir(path);
    if (!dir) {
        free(listed);
        return NULL;
    }
    size_t cap = 64;
    unsigned long long *v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(dir)) != NULL) {
        char *end;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        unsigned long long s = strtoull(e->d_name, &end, 10);
        if (*end || s > last) /* beyond the last complete snapshot of an interrupted run */
            continue;
        if (listed && !bsearch(&s, listed, n_listed, sizeof *listed, cmp_ull))
            continue;
        if (*n == cap) {
            unsigned long long *nv = realloc(v, 2 * cap * sizeof *v);
            if (!nv) {
                free(v);
                v = NULL;
                break;
            }
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = s;
    }
    closedir(dir);
    free(listed);
    if (v)
        qsort(v, *n, sizeof *v, cmp_ull);
    else
        *n = 0;
    return v;
}
