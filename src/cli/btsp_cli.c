/* The `btsp` program: train and evaluate EIANN-format networks on IDX image data sets, and a
 * self-contained demo.
 *
 *   btsp train CONFIG --data fashion-mnist|mnist|DIR [--samples N] [--seed S] [--data-seed D]
 *                     [--out DIR] [--init-weights DIR] [--order FILE.npy] [--quiet]
 *   btsp eval CONFIG WEIGHTS_DIR --data fashion-mnist|mnist|DIR
 *   btsp info CONFIG
 *   btsp demo [--samples N] [--seed S]
 *
 * Protocol (eiann-model.md section 5): a 60,000-row training file is split into train = first
 * 50,000 and validation = last 10,000; the test set is the t10k file. Smaller training files
 * (the 10,000-digit MNIST subset) are used whole for training and have no validation set.
 * Online learning, batch 1, a fresh seeded shuffle of the training rows for every epoch
 * (btsp_k_permutation(data_seed, epoch)), or the fixed order of training-row indices given with
 * --order (a 1-D .npy, e.g. the order another implementation used; repeated if too short).
 * Accuracies are percentages; argmax ties go to the
 * lowest index, so an all-silent output predicts class 0.
 *
 * The last line printed on stdout is a JSON object with the results. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, mkdir */

#include "btsp/btsp.h"
#include "btsp/btsp_config.h"
#include "btsp/btsp_io.h"
#include "btsp/btsp_kernels.h"

#include "demo_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct options {
    const char *config;
    const char *weights; /* eval: weights directory */
    const char *data;
    const char *out;
    const char *init_weights;
    const char *order; /* .npy of training-row indices (replaces the seeded shuffle) */
    unsigned long long samples;
    unsigned long long seed;
    unsigned long long data_seed;
    int quiet;
} options;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int usage(FILE *f)
{
    fprintf(f, "usage:\n"
               "  btsp train CONFIG --data fashion-mnist|mnist|DIR [--samples N] [--seed S] [--data-seed D]\n"
               "                    [--out DIR] [--init-weights DIR] [--order FILE.npy] [--quiet]\n"
               "  btsp eval CONFIG WEIGHTS_DIR --data fashion-mnist|mnist|DIR\n"
               "  btsp info CONFIG\n"
               "  btsp demo [--samples N] [--seed S] [--quiet]\n"
               "defaults: --samples 20000 (demo 3000), --seed 66049, --data-seed 257\n");
    return 2;
}

static int parse_u64(const char *s, unsigned long long *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return errno == 0 && *s && *end == '\0' && s[0] != '-';
}

static int parse_options(int argc, char **argv, int first, options *o)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--data") == 0 && val)
            o->data = val;
        else if (strcmp(a, "--out") == 0 && val)
            o->out = val;
        else if (strcmp(a, "--init-weights") == 0 && val)
            o->init_weights = val;
        else if (strcmp(a, "--order") == 0 && val)
            o->order = val;
        else if (strcmp(a, "--samples") == 0 && val) {
            if (!parse_u64(val, &o->samples) || o->samples == 0) {
                fprintf(stderr, "btsp: --samples needs a positive integer, got '%s'\n", val);
                return 0;
            }
        } else if (strcmp(a, "--seed") == 0 && val) {
            if (!parse_u64(val, &o->seed)) {
                fprintf(stderr, "btsp: --seed needs a non-negative integer, got '%s'\n", val);
                return 0;
            }
        } else if (strcmp(a, "--data-seed") == 0 && val) {
            if (!parse_u64(val, &o->data_seed)) {
                fprintf(stderr, "btsp: --data-seed needs a non-negative integer, got '%s'\n", val);
                return 0;
            }
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            takes = 0;
        } else {
            fprintf(stderr, "btsp: unknown or incomplete option '%s'\n", a);
            return 0;
        }
        i += takes;
    }
    return 1;
}

/* Percentage of rows whose output argmax (lowest index on ties) equals the label. */
static double accuracy(btsp_net *net, const btsp_dataset *ds, float *out, double *seconds)
{
    size_t n_out = btsp_pop_size(btsp_net_output(net));
    double t0 = now_seconds();
    btsp_status st = btsp_net_evaluate(net, ds->x, ds->n, ds->dim, out, n_out);
    if (st) {
        fprintf(stderr, "btsp: evaluation failed: %s\n", btsp_net_errmsg(net));
        return NAN;
    }
    size_t correct = 0;
    for (size_t r = 0; r < ds->n; r++) {
        const float *o = out + r * n_out;
        size_t best = 0;
        for (size_t k = 1; k < n_out; k++)
            if (o[k] > o[best])
                best = k;
        correct += best == ds->labels[r];
    }
    if (seconds)
        *seconds += now_seconds() - t0;
    return ds->n ? 100.0 * (double)correct / (double)ds->n : NAN;
}

static void json_number(FILE *f, const char *key, double v, int last)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.6g%s", key, v, last ? "" : ", ");
    else
        fprintf(f, "\"%s\": null%s", key, last ? "" : ", ");
}

static void json_string(FILE *f, const char *key, const char *s)
{
    fprintf(f, "\"%s\": \"", key);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputs("\", ", f);
}

typedef struct data_split {
    btsp_dataset train, val, test;
} data_split;

static void split_free(data_split *d)
{
    btsp_dataset_free(&d->train);
    btsp_dataset_free(&d->val);
    btsp_dataset_free(&d->test);
}

static int load_data(const char *name, data_split *d, int need_train)
{
    char it[1024], lt[1024], ie[1024], le[1024], err[1024];
    memset(d, 0, sizeof *d);
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
        split_free(d);
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
        split_free(d);
        return 0;
    }
    (void)need_train;
    return 1;
}

static btsp_net *load_net(const char *config, unsigned long long seed)
{
    char err[1024];
    btsp_net *net = NULL;
    if (btsp_config_load(config, NULL, &net, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        return NULL;
    }
    btsp_net_seed(net, seed);
    return net;
}

static int check_dims(btsp_net *net, const data_split *d)
{
    size_t nin = btsp_pop_size(btsp_net_input(net)), nout = btsp_pop_size(btsp_net_output(net));
    if (nin != d->test.dim || nout < d->test.n_classes) {
        fprintf(stderr, "btsp: the network has %zu inputs and %zu outputs; the data set has %zu inputs and %zu classes\n",
                nin, nout, d->test.dim, d->test.n_classes);
        return 0;
    }
    return 1;
}

/* Shared training loop: epochs of seeded permutations until `samples` are done. Returns the
 * training time in seconds, or a negative value on failure. */
static double train_loop(btsp_net *net, const btsp_dataset *train, unsigned long long samples,
                         unsigned long long data_seed, const uint32_t *fixed, size_t n_fixed, int quiet)
{
    uint32_t *perm = malloc(train->n * sizeof *perm);
    if (!perm) {
        fprintf(stderr, "btsp: out of memory\n");
        return -1.0;
    }
    double t0 = now_seconds(), last = t0;
    unsigned long long done = 0;
    size_t n_out = btsp_pop_size(btsp_net_output(net));
    for (uint64_t epoch = 0; done < samples; epoch++) {
        size_t n = train->n;
        if (fixed) {
            n = n_fixed;
            memcpy(perm, fixed, n * sizeof *perm);
        } else {
            btsp_k_permutation(data_seed, epoch, perm, train->n);
        }
        if (samples - done < n)
            n = (size_t)(samples - done);
        /* Chunks of 1000 samples for progress reports on stderr. */
        for (size_t s = 0; s < n; s += 1000) {
            size_t m = n - s < 1000 ? n - s : 1000;
            btsp_status st = btsp_net_train(net, train->x, train->y, train->n, train->dim, n_out, perm + s, m);
            if (st) {
                fprintf(stderr, "btsp: training failed after %llu samples: %s\n",
                        (unsigned long long)btsp_net_sample_count(net), btsp_net_errmsg(net));
                free(perm);
                return -1.0;
            }
            done += m;
            double t = now_seconds();
            if (!quiet && (t - last > 5.0 || done == samples)) {
                fprintf(stderr, "  %llu/%llu samples, %.1f s, loss %.4f\n", done, samples, t - t0,
                        btsp_net_last_loss(net));
                last = t;
            }
        }
    }
    free(perm);
    return now_seconds() - t0;
}

static int make_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST)
        return 1;
    fprintf(stderr, "btsp: cannot create '%s': %s\n", dir, strerror(errno));
    return 0;
}

static int cmd_train(options *o)
{
    if (!o->config || !o->data) {
        fprintf(stderr, "btsp train: CONFIG and --data are required\n");
        return usage(stderr);
    }
    data_split d;
    if (!load_data(o->data, &d, 1))
        return 1;
    btsp_net *net = load_net(o->config, o->seed);
    int rc = 1;
    btsp_monitor *loss_mon = NULL;
    float *out = NULL;
    uint32_t *fixed = NULL;
    size_t n_fixed = 0;
    char err[1024];
    if (!net)
        goto done;
    if (!check_dims(net, &d))
        goto done;
    if (o->out && btsp_monitor_add_loss(net, 1, (size_t)o->samples, &loss_mon)) {
        fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(net));
        goto done;
    }
    if (btsp_net_finalize(net)) {
        fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(net));
        goto done;
    }
    if (o->init_weights && btsp_io_load_weights(net, o->init_weights, 0, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        goto done;
    }
    if (!o->quiet)
        fprintf(stderr, "btsp: training %s on %zu rows (%s), %llu samples, seed %llu, data seed %llu\n", o->config,
                d.train.n, o->data, o->samples, o->seed, o->data_seed);
    if (o->order) {
        float *ord = NULL;
        size_t shape[2], nd;
        if (btsp_npy_read_f32(o->order, &ord, shape, &nd, err, sizeof err)) {
            fprintf(stderr, "btsp: %s\n", err);
            goto done;
        }
        n_fixed = shape[0] * shape[1];
        fixed = malloc((n_fixed ? n_fixed : 1) * sizeof *fixed);
        for (size_t i = 0; fixed && i < n_fixed; i++) {
            if (!(ord[i] >= 0.0f && ord[i] < (float)d.train.n && ord[i] == floorf(ord[i]))) {
                fprintf(stderr, "btsp: %s: entry %zu (%g) is not a training-row index below %zu\n", o->order, i,
                        ord[i], d.train.n);
                btsp_npy_free(ord);
                goto done;
            }
            fixed[i] = (uint32_t)ord[i];
        }
        btsp_npy_free(ord);
        if (!fixed || n_fixed == 0 || n_fixed > d.train.n) {
            fprintf(stderr, "btsp: %s: need 1 to %zu indices\n", o->order, d.train.n);
            goto done;
        }
    }
    double train_s = train_loop(net, &d.train, o->samples, o->data_seed, fixed, n_fixed, o->quiet);
    if (train_s < 0)
        goto done;
    size_t n_out = btsp_pop_size(btsp_net_output(net));
    size_t max_rows = d.test.n > d.val.n ? d.test.n : d.val.n;
    out = malloc(max_rows * n_out * sizeof *out);
    if (!out)
        goto done;
    double eval_s = 0.0;
    double val_acc = d.val.n ? accuracy(net, &d.val, out, &eval_s) : NAN;
    double test_acc = accuracy(net, &d.test, out, &eval_s);
    if (o->out) {
        if (!make_dir(o->out))
            goto done;
        if (btsp_io_save_weights(net, o->out, err, sizeof err)) {
            fprintf(stderr, "btsp: %s\n", err);
            goto done;
        }
        const float *loss;
        size_t n_rec, width;
        if (btsp_monitor_data(loss_mon, &loss, &n_rec, &width, NULL) == BTSP_OK) {
            char path[2048];
            snprintf(path, sizeof path, "%s/loss_history.npy", o->out);
            size_t shape[1] = {n_rec};
            if (btsp_npy_write_f32(path, loss, 1, shape, err, sizeof err)) {
                fprintf(stderr, "btsp: %s\n", err);
                goto done;
            }
        }
    }
    printf("{");
    json_string(stdout, "command", "train");
    json_string(stdout, "config", o->config);
    json_string(stdout, "data", o->data);
    printf("\"seed\": %llu, \"data_seed\": %llu, \"samples\": %llu, ", o->seed, o->data_seed, o->samples);
    printf("\"train_rows\": %zu, \"val_rows\": %zu, \"test_rows\": %zu, ", d.train.n, d.val.n, d.test.n);
    json_number(stdout, "val_accuracy", val_acc, 0);
    json_number(stdout, "test_accuracy", test_acc, 0);
    json_number(stdout, "final_loss", btsp_net_last_loss(net), 0);
    json_number(stdout, "train_seconds", train_s, 0);
    json_number(stdout, "samples_per_second", (double)o->samples / train_s, 0);
    json_number(stdout, "eval_seconds", eval_s, 1);
    printf("}\n");
    rc = isfinite(test_acc) ? 0 : 1;
done:
    free(fixed);
    free(out);
    btsp_net_destroy(net);
    split_free(&d);
    return rc;
}

static int cmd_eval(options *o)
{
    if (!o->config || !o->weights || !o->data) {
        fprintf(stderr, "btsp eval: CONFIG, WEIGHTS_DIR and --data are required\n");
        return usage(stderr);
    }
    data_split d;
    if (!load_data(o->data, &d, 0))
        return 1;
    btsp_net *net = load_net(o->config, o->seed);
    int rc = 1;
    float *out = NULL;
    char err[1024];
    if (!net || !check_dims(net, &d))
        goto done;
    if (btsp_net_finalize(net)) {
        fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(net));
        goto done;
    }
    if (btsp_io_load_weights(net, o->weights, 1, err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        goto done;
    }
    size_t n_out = btsp_pop_size(btsp_net_output(net));
    size_t max_rows = d.test.n > d.val.n ? d.test.n : d.val.n;
    out = malloc(max_rows * n_out * sizeof *out);
    if (!out)
        goto done;
    double eval_s = 0.0;
    double val_acc = d.val.n ? accuracy(net, &d.val, out, &eval_s) : NAN;
    double test_acc = accuracy(net, &d.test, out, &eval_s);
    printf("{");
    json_string(stdout, "command", "eval");
    json_string(stdout, "config", o->config);
    json_string(stdout, "weights", o->weights);
    json_string(stdout, "data", o->data);
    json_number(stdout, "val_accuracy", val_acc, 0);
    json_number(stdout, "test_accuracy", test_acc, 0);
    json_number(stdout, "eval_seconds", eval_s, 1);
    printf("}\n");
    rc = isfinite(test_acc) ? 0 : 1;
done:
    free(out);
    btsp_net_destroy(net);
    split_free(&d);
    return rc;
}

static int cmd_info(options *o)
{
    if (!o->config) {
        fprintf(stderr, "btsp info: CONFIG is required\n");
        return usage(stderr);
    }
    btsp_net *net = load_net(o->config, o->seed);
    if (!net)
        return 1;
    static const char *dir_names[] = {"F", "R"};
    printf("layers: %zu, populations: %zu, projections: %zu\n", btsp_net_layer_count(net), btsp_net_pop_count(net),
           btsp_net_proj_count(net));
    for (size_t i = 0; i < btsp_net_pop_count(net); i++) {
        btsp_pop *p = btsp_net_pop_at(net, i);
        printf("  %-14s %6zu units\n", btsp_pop_full_name(p), btsp_pop_size(p));
    }
    for (size_t i = 0; i < btsp_net_proj_count(net); i++) {
        btsp_proj *q = btsp_net_proj_at(net, i);
        btsp_rule *r = btsp_proj_rule(q);
        double lo, hi;
        btsp_proj_get_bounds(q, &lo, &hi);
        (void)dir_names;
        printf("  %-22s %-4s bounds [%g, %g] rule %s\n", btsp_proj_name(q),
               btsp_proj_compartment(q) == BTSP_DEND ? "dend" : "soma", lo, hi,
               r ? btsp_rule_kind_name(btsp_rule_get_kind(r)) : "(fixed)");
    }
    btsp_net_destroy(net);
    return 0;
}

/* The demo: the embedded tiny BTSP network (configs/demo/tiny_btsp.yaml, compiled in) on a
 * synthetic 10-class task generated from the seed, so it needs no download. */
static int cmd_demo(options *o)
{
    char err[1024];
    btsp_net *net = NULL;
    if (btsp_config_load_string(btsp_demo_config, strlen(btsp_demo_config), "tiny_btsp.yaml (embedded)", NULL, &net,
                                err, sizeof err)) {
        fprintf(stderr, "btsp: %s\n", err);
        return 1;
    }
    btsp_net_seed(net, o->seed);
    int rc = 1;
    btsp_dataset train = {0}, test = {0};
    float *out = NULL;
    if (btsp_net_finalize(net)) {
        fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(net));
        goto done;
    }
    size_t dim = btsp_pop_size(btsp_net_input(net)), n_out = btsp_pop_size(btsp_net_output(net));
    if (!btsp_demo_make_data(o->data_seed, dim, n_out, 2000, &train) ||
        !btsp_demo_make_data(o->data_seed + 1000003u, dim, n_out, 1000, &test)) {
        fprintf(stderr, "btsp: out of memory\n");
        goto done;
    }
    out = malloc(test.n * n_out * sizeof *out);
    if (!out)
        goto done;
    double eval_s = 0.0;
    double before = accuracy(net, &test, out, &eval_s);
    if (!o->quiet)
        fprintf(stderr, "btsp demo: %zu-input BTSP network, %zu classes; test accuracy before training %.1f%%\n", dim,
                n_out, before);
    double train_s = train_loop(net, &train, o->samples, o->data_seed, NULL, 0, o->quiet);
    if (train_s < 0)
        goto done;
    double after = accuracy(net, &test, out, &eval_s);
    if (!o->quiet)
        fprintf(stderr, "btsp demo: test accuracy after %llu samples %.1f%% (chance %.1f%%)\n", o->samples, after,
                100.0 / (double)n_out);
    printf("{");
    json_string(stdout, "command", "demo");
    printf("\"seed\": %llu, \"samples\": %llu, ", o->seed, o->samples);
    json_number(stdout, "test_accuracy_before", before, 0);
    json_number(stdout, "test_accuracy", after, 0);
    json_number(stdout, "train_seconds", train_s, 0);
    json_number(stdout, "samples_per_second", (double)o->samples / train_s, 1);
    printf("}\n");
    rc = 0;
done:
    free(out);
    btsp_dataset_free(&train);
    btsp_dataset_free(&test);
    btsp_net_destroy(net);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    options o;
    memset(&o, 0, sizeof o);
    o.samples = 20000;
    o.seed = 66049;
    o.data_seed = 257;
    int first = 2;
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("btsp %s\n", btsp_version_string());
        return 0;
    }
    if (strcmp(cmd, "train") == 0 || strcmp(cmd, "eval") == 0 || strcmp(cmd, "info") == 0) {
        if (argc < 3 || argv[2][0] == '-')
            return usage(stderr);
        o.config = argv[2];
        first = 3;
        if (strcmp(cmd, "eval") == 0) {
            if (argc < 4 || argv[3][0] == '-')
                return usage(stderr);
            o.weights = argv[3];
            first = 4;
        }
    } else if (strcmp(cmd, "demo") == 0) {
        o.samples = 3000;
        o.seed = 1;
        o.data_seed = 2;
    } else {
        fprintf(stderr, "btsp: unknown command '%s'\n", cmd);
        return usage(stderr);
    }
    if (!parse_options(argc, argv, first, &o))
        return usage(stderr);
    if (strcmp(cmd, "train") == 0)
        return cmd_train(&o);
    if (strcmp(cmd, "eval") == 0)
        return cmd_eval(&o);
    if (strcmp(cmd, "info") == 0)
        return cmd_info(&o);
    return cmd_demo(&o);
}
