/* Training runs of the `btsp` program, with an optional run directory (`--out DIR`):
 *
 *   DIR/<projection>.npy, DIR/<Layer><Pop>_bias.npy   final weights (btsp_io_save_weights)
 *   DIR/config.yaml                                    copy of the configuration
 *   DIR/loss_history.npy                               per-sample training loss
 *   DIR/train_output.npy                               per-sample forward output (samples x outputs)
 *   DIR/snapshots/<samples>/<projection>.npy           weights every --history-interval samples
 *                                                      (and at 0 and at the end)
 *   DIR/val_history.csv                                samples,val_accuracy,val_loss per snapshot
 *   DIR/val_window.csv                                 samples,val_accuracy,val_loss per point of
 *                                                      the --val-window (if any)
 *   DIR/dend_history.csv                               per-sample mean |forward dendritic state|
 *   DIR/plateaus_<LayerPop>.npy                        plateau raster (records x units)
 *   DIR/run.json                                       what was run, and the results
 *   DIR/state.btsp, DIR/state.btsp.json                the network's state image (weights,
 *                                                      traces, counters; btsp_io_save_state) and
 *                                                      the options that trained it, replaced at
 *                                                      every snapshot and after the last sample:
 *                                                      `btsp train ... --resume DIR/state.btsp`
 *                                                      continues the run
 *
 * Checkpoints: at a snapshot at most every 30 s of wall time (environment variable
 * BTSP_CHECKPOINT_SECONDS) and after the last sample, the per-sample records and run.json are
 * rewritten, each file atomically and run.json last ("complete": false until the end,
 * "samples_done"), then state.btsp: a run killed at any moment leaves a directory that btsp
 * analyze reads up to its last checkpoint and that --resume continues from exactly there. The
 * top-level weights are written at the end only (until then: snapshots/<samples_done>).
 *
 * A resumed run (--resume FILE) starts from the state's sample count k and trains samples k+1 ..
 * --samples in the same order as the run that saved it, so its final weights equal those of a
 * run that never stopped; its histories (and run.json's "first_sample": k) cover its own samples.
 *
 * Memory stays bounded: snapshots go to disk as they are taken (training runs in chunks that
 * end at every snapshot and windowed validation point), validation uses a second network holding a copy of the weights (so
 * it cannot disturb learning), the dendritic means are reduced per sample in the step hook,
 * and the plateau raster's stride keeps it under PLATEAU_BUDGET floats (BTSP_PLATEAU_BUDGET). */
#define _XOPEN_SOURCE 700 /* realpath */

#include "cli.h"
#include "../io/io_util.h"
#include "../state_format.h"

#include "btsp/btsp_analysis.h"
#include "btsp/btsp_kernels.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Largest plateau raster kept in memory (floats): 4 M floats = 16 MB, unless the environment
 * variable BTSP_PLATEAU_BUDGET gives another number of floats (a smaller memory cap, or a finer
 * raster). */
#define PLATEAU_BUDGET ((size_t)4 << 20)

static unsigned long long plateau_budget(void)
{
    const char *v = getenv("BTSP_PLATEAU_BUDGET");
    char *end = NULL;
    unsigned long long b = v ? strtoull(v, &end, 10) : 0;
    return v && end != v && *end == '\0' && v[0] != '-' && b > 0 ? b : PLATEAU_BUDGET;
}
/* Largest training-output record (floats): 16 M floats = 64 MB (1.6 M samples of 10 outputs);
 * longer runs do not write train_output.npy. */
#define OUTPUT_BUDGET ((size_t)16 << 20)
/* Largest number of training samples a run directory records per-sample histories for. */
#define MAX_HISTORY_SAMPLES ((unsigned long long)1 << 28)

typedef struct dend_rec {
    const btsp_pop **pops; /* populations with a dendrite */
    const float **state;   /* their forward dendritic states (borrowed) */
    size_t n_pops;
    size_t total_units;
    float *means;          /* samples x (n_pops + 1) */
    size_t n_rows, cap_rows;
} dend_rec;

static int dend_hook(void *user, btsp_net *net, uint64_t sample)
{
    (void)net;
    (void)sample;
    dend_rec *d = user;
    if (d->n_rows >= d->cap_rows)
        return 0;
    float *row = d->means + d->n_rows * (d->n_pops + 1);
    double all = 0.0;
    for (size_t i = 0; i < d->n_pops; i++) {
        size_t n = btsp_pop_size(d->pops[i]);
        double m = btsp_an_mean_abs(d->state[i], n);
        row[i] = (float)m;
        all += m * (double)n;
    }
    row[d->n_pops] = d->total_units ? (float)(all / (double)d->total_units) : NAN;
    d->n_rows++;
    return 0;
}

typedef struct run_ctx {
    const run_spec *spec;
    unsigned long long first; /* samples already trained when the run starts (--resume), else 0 */
    unsigned long long saved; /* sample count of the last state image written (+1; 0: none) */
    unsigned long long config_fnv, order_fnv; /* file_hash() of the config and --order file */
    double checkpoint_s;    /* least time between checkpoints (s): BTSP_CHECKPOINT_SECONDS, default 30 */
    double last_checkpoint; /* cli_now() of the last one */
    /* the run directory's per-sample records (written at every snapshot and at the end) */
    btsp_monitor *loss_mon, *out_mon, *plat_mon;
    btsp_pop *ppop;                /* population of the plateau raster, or NULL */
    unsigned long long pstride;    /* its stride */
    dend_rec *dr;                  /* per-sample dendritic means */
    const data_split *d;
    run_result *res;
    btsp_net *net;
    btsp_net *eval_net; /* validation copy (= eval_nets[0]) */
    btsp_net *eval_nets[CLI_MAX_EVAL_THREADS]; /* --jobs: one copy per evaluation thread */
    size_t n_eval;
    float *out;         /* evaluation buffer */
    FILE *val_csv;
    unsigned long long *snaps;
    size_t n_snaps, cap_snaps;
    /* windowed validation (spec->val_window > 0): one entry per point */
    unsigned long long *win_samples;
    double *win_acc, *win_loss;
    size_t n_win;
    /* the last validated point (samples + 1; 0: none), reused when a snapshot and a window
     * point coincide */
    unsigned long long val_at;
    double val_acc_at, val_loss_at;
} run_ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fail(run_result *res, btsp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    res->status = st ? st : BTSP_E_INTERNAL;
    vsnprintf(res->message, sizeof res->message, fmt, ap);
    va_end(ap);
}

/* The validation copy of the network (same config, finalized; weights copied in before each
 * validation). */
static int make_eval_net(run_ctx *c)
{
    run_result *res = c->res;
    size_t n = c->spec->eval_threads > 1 ? c->spec->eval_threads : 1;
    if (n > CLI_MAX_EVAL_THREADS)
        n = CLI_MAX_EVAL_THREADS;
    for (; c->n_eval < n; c->n_eval++) {
        btsp_status est;
        btsp_net *e = cli_load_net(c->spec->config, c->spec->seed, &est, res->message, sizeof res->message);
        if (!e) {
            res->status = est ? est : BTSP_E_INTERNAL;
            return 0;
        }
        c->eval_nets[c->n_eval] = e;
        if ((est = btsp_net_finalize(e))) {
            fail(res, est, "%s", btsp_net_errmsg(e));
            c->n_eval++; /* destroyed with the others */
            return 0;
        }
    }
    c->eval_net = c->eval_nets[0];
    return 1;
}

/* Accuracy (and MSE) of the training network's current parameters on ds. During training
 * (final = 0) always on the copies (all threads of --jobs; c->eval_net must exist), so that
 * evaluating cannot disturb learning; a copy refusing the weights fails the run. For the final
 * figures (final = 1) on the network itself when there is at most one copy, or when a copy
 * refuses non-finite weights (a diverged run), as a run with one job does. */
static double net_accuracy(run_ctx *c, const btsp_dataset *ds, double *mse, int final)
{
    if (final && c->n_eval <= 1)
        return cli_accuracy(c->net, ds, c->out, &c->res->eval_s, mse);
    btsp_net *bad = cli_sync_copies(c->eval_nets, c->n_eval, c->net);
    if (bad && final)
        return cli_accuracy(c->net, ds, c->out, &c->res->eval_s, mse);
    if (bad) {
        fail(c->res, btsp_net_errcode(bad), "copying weights for evaluation: %s", btsp_net_errmsg(bad));
        return NAN;
    }
    return cli_accuracy_par(c->eval_nets, c->n_eval, ds, c->out, &c->res->eval_s, mse);
}

/* What is wrong with a validation window, written to buf; 0 if nothing (no window is fine). */
static int val_window_problem(unsigned long long window, unsigned long long step, unsigned long long samples,
                              char *buf, size_t len)
{
    if (!window)
        return 0;
    if (!step || window % step != 0)
        snprintf(buf, len, "--val-window %llu is not a multiple of --val-step %llu", window, step);
    else if (window > samples)
        snprintf(buf, len, "--val-window %llu is longer than the run (--samples %llu)", window, samples);
    else if (window / step > CLI_MAX_VAL_POINTS)
        snprintf(buf, len, "--val-window %llu / --val-step %llu asks for more than %u validations", window, step,
                 CLI_MAX_VAL_POINTS);
    else
        return 0;
    return 1;
}

int cli_check_val_window(unsigned long long window, unsigned long long step, unsigned long long samples)
{
    char msg[256];
    if (!val_window_problem(window, step, samples, msg, sizeof msg))
        return 1;
    fprintf(stderr, "btsp: %s\n", msg);
    return 0;
}

/* Validation accuracy and loss of the weights after `samples` samples, computed on the copy
 * c->eval_net so that it cannot disturb learning. */
static int validate_at(run_ctx *c, unsigned long long samples, double *acc, double *loss)
{
    if (c->val_at != samples + 1) {
        c->val_acc_at = net_accuracy(c, &c->d->val, &c->val_loss_at, 0);
        if (c->res->status)
            return 0;
        c->val_at = samples + 1;
    }
    *acc = c->val_acc_at;
    *loss = c->val_loss_at;
    return 1;
}

/* First sample count after `done` (< spec->samples) that is a windowed validation point
 * (samples - val_window + k * val_step, k >= 1); spec->samples + 1 without a window. */
static unsigned long long next_window_point(const run_spec *s, unsigned long long done)
{
    if (!s->val_window)
        return s->samples + 1;
    unsigned long long start = s->samples - s->val_window; /* cli_check_val_window: window <= samples */
    if (done < start)
        return start + s->val_step;
    return done + s->val_step - (done - start) % s->val_step;
}

/* Record the windowed validation point `samples`. */
static int window_point(run_ctx *c, unsigned long long samples)
{
    double acc, loss;
    if (!validate_at(c, samples, &acc, &loss))
        return 0;
    c->win_samples[c->n_win] = samples;
    c->win_acc[c->n_win] = acc;
    c->win_loss[c->n_win] = loss;
    c->n_win++;
    if (!c->spec->quiet)
        fprintf(stderr, "  window %llu: validation accuracy %.2f%%\n", samples, acc);
    return 1;
}

/* A data set name or path as written to state.btsp.json: the real path of a directory or
 * file, else the name as given (fashion-mnist, mnist, demo). */
static const char *canonical(const char *name, char *buf)
{
    /* the data set names are resolved by cli_load_data / btsp_data_find, never against the
     * working directory: a file or directory of the same name there is something else */
    if (name && (strcmp(name, CLI_DEMO_DATA) == 0 || strcmp(name, "mnist") == 0 || strcmp(name, "fashion-mnist") == 0))
        return name;
    return name && realpath(name, buf) ? buf : name;
}

/* FNV-1a 64 of a file's bytes (of the embedded demo config's text for @demo); 0 for NULL or an
 * unreadable file. What --resume compares, so that an edited config or order file is noticed
 * whatever its path. */
static unsigned long long file_hash(const char *path)
{
    size_t len = 0;
    char *text = NULL;
    const char *src;
    if (!path)
        return 0;
    if (strcmp(path, CLI_DEMO_CONFIG) == 0) {
        src = cli_demo_yaml();
        len = strlen(src);
    } else if (!(src = text = cli_read_file(path, &len))) {
        return 0;
    }
    unsigned long long h = btsp__fnv1a64(BTSP__FNV_OFFSET, src, len);
    free(text);
    return h;
}

/* The network's state image after `samples` samples, DIR/state.btsp, and beside it
 * DIR/state.btsp.json: the options that fix the sample order and hashes of the config and order
 * texts, which --resume checks. Each file is replaced atomically and durably (fsync before the
 * rename, btsp__io_commit); the .json goes first: its checked fields are the same all through a
 * run, so a crash between the two leaves a consistent pair (only its informational "samples"
 * may then be ahead of the image). Written before any validation of these weights, so that the
 * image holds the training state exactly. */
static int save_state(run_ctx *c, unsigned long long samples)
{
    const run_spec *s = c->spec;
    char path[4096], tmp[4200], err[1024], abs[PATH_MAX];
    if (!s->out || c->saved == samples + 1)
        return 1;
    if (!cli_path(path, sizeof path, s->out, "state.btsp.json")) {
        fail(c->res, BTSP_E_IO, "path too long: %s/state.btsp.json", s->out);
        return 0;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fail(c->res, BTSP_E_IO, "cannot create %s", tmp);
        return 0;
    }
    fputs("{", f);
    cli_json_string(f, "format", "btsp-state-1", 0);
    cli_json_string(f, "btsp_version", btsp_version_string(), 0);
    cli_json_string(f, "config", s->config, 0);
    cli_json_string(f, "data", canonical(s->data, abs), 0);
    fprintf(f, "\"seed\": %llu, \"data_seed\": %llu, \"samples\": %llu, ", s->seed, s->data_seed, samples);
    fprintf(f, "\"config_fnv\": %llu, \"order_fnv\": %llu, ", c->config_fnv, c->order_fnv);
    cli_json_string(f, "order", canonical(s->order, abs), 0);
    cli_json_string(f, "rng", s->torch_rng ? "torch" : "counter", 1);
    fputs("}\n", f);
    btsp_status st = btsp__io_commit(f, tmp, path, !ferror(f), errno, 1, "btsp", err, sizeof err);
    if (!st) {
        path[strlen(path) - 5] = '\0'; /* DIR/state.btsp */
        st = btsp_io_save_state(c->net, path, err, sizeof err);
    }
    if (st) {
        fail(c->res, st, "%s", err);
        return 0;
    }
    c->saved = samples + 1;
    return 1;
}

/* 0 if the directory holding `file` is the directory `dir` (both existing, same real path). */
static int distinct_dirs(const char *file, const char *dir)
{
    char f[PATH_MAX], d[PATH_MAX];
    if (!realpath(file, f) || !realpath(dir, d))
        return 1;
    char *slash = strrchr(f, '/');
    if (slash)
        *(slash == f ? slash + 1 : slash) = '\0';
    return strcmp(f, d) != 0;
}

/* --resume FILE: load the state image into the finalized network and check that this run
 * continues the one that saved it: the same seed (kept in the image), the same data order
 * (data set, data seed, --rng, --order, from FILE.json when it exists), no more samples done
 * than asked for, and a validation window that starts after them. */
static int resume_state(run_ctx *c)
{
    const run_spec *s = c->spec;
    char err[1024], buf[4096], abs[PATH_MAX];
    btsp_status st = btsp_io_load_state(c->net, s->resume, err, sizeof err);
    if (st) {
        fail(c->res, st, "--resume: %s", err);
        return 0;
    }
    unsigned long long k = btsp_net_sample_count(c->net), seed = btsp_net_get_seed(c->net);
    if (seed != s->seed) {
        fail(c->res, BTSP_E_INVALID_ARG, "--resume: %s was trained with --seed %llu, not %llu: give --seed %llu",
             s->resume, seed, s->seed, seed);
        return 0;
    }
    if (k > s->samples) {
        fail(c->res, BTSP_E_INVALID_ARG, "--resume: %s holds %llu trained samples, more than --samples %llu", s->resume,
             k, s->samples);
        return 0;
    }
    if (s->val_window && s->samples - s->val_window < k) {
        fail(c->res, BTSP_E_INVALID_ARG,
             "--resume: --val-window %llu starts at sample %llu, inside the %llu samples %s already holds "
             "(at most --val-window %llu)",
             s->val_window, s->samples - s->val_window, k, s->resume, s->samples - k);
        return 0;
    }
    snprintf(buf, sizeof buf, "%s.json", s->resume);
    char *side = cli_read_file(buf, NULL);
    if (!side) {
        /* printed even with --quiet: the one case where nothing vouches for the continuation */
        fprintf(stderr, "btsp: no %s beside the state: its config and data options are not checked\n", buf);
    } else {
        char got[4096], why[4400] = "";
        unsigned long long v = 0;
        snprintf(got, sizeof got, "(unknown)");
        if (!cli_json_get_string(side, "data", got, sizeof got) || strcmp(got, canonical(s->data, abs)) != 0)
            snprintf(why, sizeof why, "--data %s", got);
        else if (!cli_json_get_u64(side, "data_seed", &v) || v != s->data_seed)
            snprintf(why, sizeof why, "--data-seed %llu", v);
        else if ((snprintf(got, sizeof got, "(unknown)"), !cli_json_get_string(side, "rng", got, sizeof got)) ||
                 strcmp(got, s->torch_rng ? "torch" : "counter") != 0)
            snprintf(why, sizeof why, "--rng %s", got);
        else if (!cli_json_get_u64(side, "order_fnv", &v) || v != c->order_fnv) {
            if (!v)
                snprintf(why, sizeof why, "no --order");
            else if (cli_json_get_string(side, "order", got, sizeof got))
                snprintf(why, sizeof why, "--order %s (contents as then)", got);
            else
                snprintf(why, sizeof why, "another --order file");
        }
        else if (!cli_json_get_u64(side, "config_fnv", &v) || v != c->config_fnv)
            snprintf(why, sizeof why, "a config whose text differs from %s", s->config);
        free(side);
        if (why[0]) {
            fail(c->res, BTSP_E_INVALID_ARG,
                 "--resume: %s was trained with %s (see %s): resume with the config and data options of "
                 "that run, or the training would not continue it",
                 s->resume, why, buf);
            return 0;
        }
    }
    c->first = k;
    c->res->first_sample = k;
    return 1;
}

static int write_outputs(run_ctx *c, unsigned long long done, int complete);

/* Save a snapshot of the weights after `samples` samples and validate it. */
static int take_snapshot(run_ctx *c, unsigned long long samples)
{
    char dir[4096], name[64], err[1024];
    snprintf(name, sizeof name, "snapshots/%llu", samples);
    if (!cli_path(dir, sizeof dir, c->spec->out, name)) {
        fail(c->res, BTSP_E_IO, "path too long: %s/%s", c->spec->out, name);
        return 0;
    }
    btsp_status st = btsp_io_save_weights(c->net, dir, err, sizeof err);
    if (st) {
        fail(c->res, st, "%s", err);
        return 0;
    }
    if (c->n_snaps == c->cap_snaps) {
        size_t cap = c->cap_snaps ? 2 * c->cap_snaps : 64;
        unsigned long long *s = realloc(c->snaps, cap * sizeof *s);
        if (!s) {
            fail(c->res, BTSP_E_NOMEM, "out of memory");
            return 0;
        }
        c->snaps = s;
        c->cap_snaps = cap;
    }
    c->snaps[c->n_snaps++] = samples;
    if (c->val_csv) {
        double acc, loss;
        if (!validate_at(c, samples, &acc, &loss))
            return 0;
        fprintf(c->val_csv, "%llu,", samples);
        cli_csv_number(c->val_csv, acc);
        fputc(',', c->val_csv);
        cli_csv_number(c->val_csv, loss);
        fputc('\n', c->val_csv);
        fflush(c->val_csv);
        if (!c->spec->quiet)
            fprintf(stderr, "  snapshot %llu: validation accuracy %.2f%%\n", samples, acc);
    }
    /* A checkpoint: the run directory as it stands (run.json "complete": false, samples_done),
     * then the state image, so that a run killed later can be analysed up to here and resumed
     * from exactly here. Rewriting the per-sample records costs time proportional to the run so
     * far, so checkpoints are at most one per checkpoint_s seconds (and one after the run). */
    double now = cli_now();
    if (samples != c->first && now - c->last_checkpoint < c->checkpoint_s)
        return 1;
    c->last_checkpoint = now;
    return write_outputs(c, samples, 0) && save_state(c, samples);
}

/* Epochs of seeded permutations (or the fixed order) until spec->samples are done, in chunks
 * of at most 1000 samples that end at every snapshot and windowed validation point. Returns the training seconds (snapshot
 * time excluded) or a negative value on failure. */
static double train_loop(run_ctx *c, cli_order *ord)
{
    const btsp_dataset *train = &c->d->train;
    const run_spec *s = c->spec;
    btsp_net *net = c->net;
    unsigned long long K = s->out ? s->history_interval : 0, done = c->first;
    if (K && !take_snapshot(c, done))
        return -1.0;
    double train_s = 0.0, t_print = cli_now();
    size_t n_out = btsp_pop_size(btsp_net_output(net));
    size_t n_epoch = ord->fixed ? ord->n_fixed : train->n; /* samples per pass over the order */
    if (n_epoch == 0) {
        fail(c->res, BTSP_E_INVALID_ARG, "no training rows");
        return -1.0;
    }
    for (uint64_t epoch = done / n_epoch; done < s->samples; epoch++) {
        /* the rows of this epoch: the fixed --order, or the epoch's seeded permutation (owned by
         * ord, valid until the next epoch is asked for); a resumed run starts inside one */
        const uint32_t *rows = ord->fixed ? ord->fixed : cli_order_epoch(ord, epoch);
        size_t i = (size_t)(done % n_epoch), n = n_epoch;
        if (s->samples - done < n - i)
            n = i + (size_t)(s->samples - done);
        while (i < n) {
            size_t m = n - i < 1000 ? n - i : 1000;
            if (K && K - done % K < m)
                m = (size_t)(K - done % K);
            unsigned long long w = next_window_point(s, done);
            if (w - done < m)
                m = (size_t)(w - done);
            double t0 = cli_now();
            btsp_status st = btsp_net_train(net, train->x, train->y, train->n, train->dim, n_out, rows + i, m);
            train_s += cli_now() - t0;
            if (st) {
                fail(c->res, st, "training failed after %llu samples: %s",
                     (unsigned long long)btsp_net_sample_count(net), btsp_net_errmsg(net));
                return -1.0;
            }
            done += m;
            i += m;
            /* the training time so far, for the run.json of a checkpoint (btsp merge adds it up) */
            c->res->train_s = train_s;
            c->res->samples_per_s = train_s > 0.0 ? (double)(done - c->first) / train_s : NAN;
            if (K && (done % K == 0 || done == s->samples) && !take_snapshot(c, done))
                return -1.0;
            if (s->val_window && done == w && !window_point(c, done))
                return -1.0;
            double t = cli_now();
            if (!s->quiet && (t - t_print > 5.0 || done == s->samples)) {
                fprintf(stderr, "  %llu/%llu samples, %.1f s training, loss %.4f\n", done, s->samples, train_s,
                        btsp_net_last_loss(net));
                t_print = t;
            }
        }
    }
    return train_s;
}

/* The population whose plateaus are recorded: the named one, else the first population with a
 * dendritic gate, else the first population with any gate. NULL if none. */
static btsp_pop *plateau_pop(btsp_net *net, const char *name, run_result *res)
{
    btsp_pop *p = NULL;
    if (name) {
        if (btsp_net_find_pop(net, name, &p)) {
            fail(res, BTSP_E_NOT_FOUND, "--plateau-pop: no population named '%s' (use Layer.Pop)", name);
            return NULL;
        }
        if (!btsp_pop_gate(p)) {
            fail(res, BTSP_E_NOT_FOUND, "--plateau-pop: '%s' has no gate, so it never gets plateaus", name);
            return NULL;
        }
        return p;
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < btsp_net_pop_count(net); i++) {
            btsp_pop *q = btsp_net_pop_at(net, i);
            btsp_gate *g = btsp_pop_gate(q);
            if (g && (pass == 1 || btsp_gate_get_kind(g) == BTSP_GATE_DENDRITIC))
                return q;
        }
    return NULL;
}

static int write_config_copy(const run_spec *s, run_result *res)
{
    char path[4096];
    if (!cli_path(path, sizeof path, s->out, "config.yaml"))
        return 0;
    size_t len = 0;
    char *text = NULL;
    const char *src;
    if (strcmp(s->config, CLI_DEMO_CONFIG) == 0) {
        src = cli_demo_yaml();
        len = strlen(src);
    } else {
        text = cli_read_file(s->config, &len);
        if (!text) {
            fail(res, BTSP_E_IO, "cannot read %s", s->config);
            return 0;
        }
        src = text;
    }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(src, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(text);
    if (!ok)
        fail(res, BTSP_E_IO, "cannot write %s", path);
    return ok;
}

/* Open DIR/name.tmp for writing (*f) with its final path in path and the temporary one in tmp;
 * finish with commit_text(). 0 with a message in res on failure. */
static int open_text(run_ctx *c, const char *name, char *path, char *tmp, size_t cap, FILE **f)
{
    if (!cli_path(path, cap, c->spec->out, name) || (size_t)snprintf(tmp, cap, "%s.tmp", path) >= cap) {
        fail(c->res, BTSP_E_IO, "path too long: %s/%s", c->spec->out, name);
        return 0;
    }
    if (!(*f = fopen(tmp, "w"))) {
        fail(c->res, BTSP_E_IO, "cannot write %s", tmp);
        return 0;
    }
    return 1;
}

/* Close and rename over the final name (atomic: a run killed meanwhile leaves the old file). */
static int commit_text(run_ctx *c, FILE *f, const char *tmp, const char *path)
{
    char err[1024];
    btsp_status st = btsp__io_commit(f, tmp, path, !ferror(f), errno, 0, "btsp", err, sizeof err);
    if (st)
        fail(c->res, st, "%s", err);
    return st == BTSP_OK;
}

static int write_dend_csv(run_ctx *c, const dend_rec *d)
{
    char path[4096], tmp[4200];
    FILE *f;
    if (!open_text(c, "dend_history.csv", path, tmp, sizeof path, &f))
        return 0;
    fputs("samples", f);
    for (size_t i = 0; i < d->n_pops; i++)
        fprintf(f, ",%s", btsp_pop_full_name(d->pops[i]));
    fputs(",all\n", f);
    for (size_t r = 0; r < d->n_rows; r++) {
        fprintf(f, "%llu", c->first + r + 1);
        for (size_t i = 0; i <= d->n_pops; i++) {
            fputc(',', f);
            cli_csv_number(f, d->means[r * (d->n_pops + 1) + i]);
        }
        fputc('\n', f);
    }
    return commit_text(c, f, tmp, path);
}

static int write_window_csv(run_ctx *c)
{
    char path[4096], tmp[4200];
    FILE *f;
    if (!open_text(c, "val_window.csv", path, tmp, sizeof path, &f))
        return 0;
    fputs("samples,val_accuracy,val_loss\n", f);
    for (size_t i = 0; i < c->n_win; i++) {
        fprintf(f, "%llu,", c->win_samples[i]);
        cli_csv_number(f, c->win_acc[i]);
        fputc(',', f);
        cli_csv_number(f, c->win_loss[i]);
        fputc('\n', f);
    }
    return commit_text(c, f, tmp, path);
}

/* The plateau raster's file name, plateaus_<Layer><Pop>.npy, into buf. */
static const char *plateau_file(const run_ctx *c, char *buf, size_t len)
{
    char pname[160];
    cli_pop_file_name(c->ppop, pname, sizeof pname);
    snprintf(buf, len, "plateaus_%s.npy", pname);
    return buf;
}

static int write_run_json(run_ctx *c, unsigned long long done, int complete)
{
    const run_spec *s = c->spec;
    const run_result *r = c->res;
    const dend_rec *dr = c->dr;
    char path[4096], tmp[4200], abs[PATH_MAX];
    FILE *f;
    if (!open_text(c, "run.json", path, tmp, sizeof path, &f))
        return 0;
    fputs("{\n  ", f);
    cli_json_string(f, "format", "btsp-run-1", 0);
    cli_json_string(f, "btsp_version", btsp_version_string(), 0);
    fputs("\n  ", f);
    cli_json_string(f, "config", s->config, 0);
    int is_demo = strcmp(s->config, CLI_DEMO_CONFIG) == 0;
    cli_json_string(f, "config_abs", is_demo ? s->config : realpath(s->config, abs) ? abs : s->config, 0);
    cli_json_string(f, "config_copy", "config.yaml", 0);
    fputs("\n  ", f);
    cli_json_string(f, "data", s->data, 0);
    fprintf(f, "\"seed\": %llu, \"data_seed\": %llu, \"samples\": %llu, ", s->seed, s->data_seed, s->samples);
    char abs_order[PATH_MAX];
    cli_json_string(f, "order", s->order && realpath(s->order, abs_order) ? abs_order : s->order, 0);
    cli_json_string(f, "init_weights", s->init_weights, 0);
    cli_json_string(f, "rng", s->torch_rng ? "torch" : "counter", 0);
    fputs("\n  ", f);
    cli_json_string(f, "resumed_from", s->resume ? r->resumed_from : NULL, 0); /* resolved once by cli_run */
    fprintf(f, "\"first_sample\": %llu, \"samples_done\": %llu, \"complete\": %s,\n  ", c->first, done,
            complete ? "true" : "false");
    fprintf(f, "\"history_interval\": %llu, \"snapshots\": [", s->history_interval);
    for (size_t i = 0; i < c->n_snaps; i++)
        fprintf(f, "%s%llu", i ? ", " : "", c->snaps[i]);
    fputs("],\n  \"dendrite_populations\": [", f);
    for (size_t i = 0; dr && i < dr->n_pops; i++) {
        fputs(i ? ", " : "", f);
        cli_json_escape(f, btsp_pop_full_name(dr->pops[i]));
    }
    fputs("], ", f);
    cli_json_string(f, "plateau_population", c->ppop ? btsp_pop_full_name(c->ppop) : NULL, 0);
    char pfile[200];
    cli_json_string(f, "plateau_file", c->ppop ? plateau_file(c, pfile, sizeof pfile) : NULL, 0); /* for merge */
    fprintf(f, "\"plateau_stride\": %llu,\n  ", c->pstride);
    fprintf(f, "\"train_rows\": %zu, \"val_rows\": %zu, \"test_rows\": %zu,\n  ", r->train_rows, r->val_rows,
            r->test_rows);
    cli_json_number(f, "val_accuracy", r->val_acc, 0);
    if (s->val_window) {
        fprintf(f, "\n  \"val_window\": %llu, \"val_step\": %llu, \"val_window_samples\": [", s->val_window,
                s->val_step);
        for (size_t i = 0; i < c->n_win; i++)
            fprintf(f, "%s%llu", i ? ", " : "", c->win_samples[i]);
        fputs("], ", f);
        cli_json_number(f, "val_window_accuracy", r->val_window_acc, 0);
        fputs("\n  ", f);
    }
    cli_json_number(f, "test_accuracy", r->test_acc, 0);
    cli_json_number(f, "final_loss", r->final_loss, 0);
    cli_json_number(f, "train_seconds", r->train_s, 0);
    cli_json_number(f, "samples_per_second", r->samples_per_s, 1);
    fputs("\n}\n", f);
    return commit_text(c, f, tmp, path);
}

/* The run directory's final weights, per-sample records and run.json, as they stand after
 * `done` samples: at every snapshot (complete = 0) and after the final evaluation (1). Each file
 * is replaced atomically, so a run killed at any moment leaves a consistent directory up to its
 * last snapshot. */
static int write_outputs(run_ctx *c, unsigned long long done, int complete)
{
    const run_spec *s = c->spec;
    run_result *res = c->res;
    char path[4096], err[1024];
    btsp_status st;
    /* the final weights only at the end: until then they are those of snapshots/<samples_done>
     * (top-level files replaced one by one could mix two snapshots if the run were killed) */
    if (complete && (st = btsp_io_save_weights(c->net, s->out, err, sizeof err))) {
        fail(res, st, "%s", err);
        return 0;
    }
    const float *rec;
    size_t n_rec, width;
    if (c->loss_mon && btsp_monitor_data(c->loss_mon, &rec, &n_rec, &width, NULL) == BTSP_OK) {
        if (!cli_path(path, sizeof path, s->out, "loss_history.npy") || !cli_write_npy(path, rec, n_rec, 0)) {
            fail(res, BTSP_E_IO, "cannot write %s", path);
            return 0;
        }
    }
    if (c->out_mon && btsp_monitor_data(c->out_mon, &rec, &n_rec, &width, NULL) == BTSP_OK) {
        if (!cli_path(path, sizeof path, s->out, "train_output.npy") || !cli_write_npy(path, rec, n_rec, width)) {
            fail(res, BTSP_E_IO, "cannot write %s", path);
            return 0;
        }
    }
    if (c->plat_mon && btsp_monitor_data(c->plat_mon, &rec, &n_rec, &width, NULL) == BTSP_OK) {
        char fname[200];
        if (!cli_path(path, sizeof path, s->out, plateau_file(c, fname, sizeof fname)) ||
            !cli_write_npy(path, rec, n_rec, width)) {
            fail(res, BTSP_E_IO, "cannot write %s", path);
            return 0;
        }
    }
    if (c->dr && c->dr->n_pops && !write_dend_csv(c, c->dr))
        return 0;
    if (c->n_win && !write_window_csv(c))
        return 0;
    return write_run_json(c, done, complete);
}

int cli_run(const run_spec *spec, const data_split *data, run_result *res)
{
    /* --resume DIR means DIR/state.btsp (the run directory of an earlier --out) */
    run_spec resolved = *spec;
    const run_spec *s = &resolved;
    char resume_path[4096], dir[4096];
    struct stat sb;
    memset(res, 0, sizeof *res);
    if (spec->resume && stat(spec->resume, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        size_t n = strlen(spec->resume);
        while (n > 1 && spec->resume[n - 1] == '/')
            n--; /* "DIR/" names DIR */
        snprintf(dir, sizeof dir, "%.*s", (int)n, spec->resume);
        if (!cli_path(resume_path, sizeof resume_path, dir, "state.btsp") || stat(resume_path, &sb) != 0) {
            fail(res, BTSP_E_NOT_FOUND,
                 "--resume %s: a directory, but no state.btsp in it (a directory given to --resume must be the "
                 "--out of an earlier run)",
                 spec->resume);
            return 0;
        }
        resolved.resume = resume_path;
    }
    if (s->resume && !realpath(s->resume, res->resumed_from))
        snprintf(res->resumed_from, sizeof res->resumed_from, "%s", s->resume);
    res->val_acc = res->test_acc = res->test_acc_before = res->final_loss = res->val_window_acc = NAN;
    res->train_s = res->samples_per_s = NAN;
    snprintf(res->rule, sizeof res->rule, "-");
    data_split own;
    memset(&own, 0, sizeof own);
    const data_split *d = data;
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.spec = s;
    c.config_fnv = file_hash(s->config);
    const char *cps = getenv("BTSP_CHECKPOINT_SECONDS");
    char *cps_end = NULL;
    c.checkpoint_s = cps ? strtod(cps, &cps_end) : 30.0;
    if (!cps || cps_end == cps || !(c.checkpoint_s >= 0.0))
        c.checkpoint_s = 30.0;
    c.order_fnv = file_hash(s->order);
    c.res = res;
    dend_rec dr;
    memset(&dr, 0, sizeof dr);
    btsp_monitor *loss_mon = NULL, *plat_mon = NULL, *out_mon = NULL;
    btsp_pop *ppop = NULL;
    unsigned long long pstride = 0;
    cli_order ord; /* the fixed --order, or the seeded permutation of every epoch */
    memset(&ord, 0, sizeof ord);
    char err[1024], path[4096];
    int ok = 0;

    if (val_window_problem(s->val_window, s->val_step, s->samples, res->message, sizeof res->message)) {
        res->status = BTSP_E_INVALID_ARG;
        return 0;
    }
    if (s->resume && s->out && !distinct_dirs(s->resume, s->out)) {
        fail(res, BTSP_E_INVALID_ARG,
             "--out %s holds the run that --resume continues: give a new directory (its histories and weights "
             "would be replaced by the resumed part's)",
             s->out);
        return 0;
    }
    if (s->out && !cli_out_usable(s->out, s->overwrite, res->message, sizeof res->message)) {
        res->status = BTSP_E_INVALID_ARG;
        return 0;
    }
    if (s->out && s->samples > MAX_HISTORY_SAMPLES) {
        fail(res, BTSP_E_RANGE, "--out records per-sample histories: at most 2^28 samples");
        return 0;
    }
    btsp_status lst;
    c.net = cli_load_net(s->config, s->seed, &lst, res->message, sizeof res->message);
    if (!c.net) {
        res->status = lst ? lst : BTSP_E_INTERNAL;
        return 0;
    }
    snprintf(res->rule, sizeof res->rule, "%s", cli_net_rule_name(c.net));
    if (!d) {
        if (!cli_load_data(s->data, s->data_seed, &own)) {
            fail(res, BTSP_E_NOT_FOUND, "cannot load the data set '%s'", s->data);
            goto done;
        }
        d = &own;
    }
    c.d = d;
    res->train_rows = d->train.n;
    res->val_rows = d->val.n;
    res->test_rows = d->test.n;
    if (!cli_check_dims(c.net, d)) {
        fail(res, BTSP_E_SHAPE, "the network does not fit the data set '%s'", s->data);
        goto done;
    }
    btsp_status st;
    if (s->out) {
        size_t cap = (size_t)s->samples;
        if ((st = btsp_monitor_add_loss(c.net, 1, cap, &loss_mon))) {
            fail(res, st, "%s", btsp_net_errmsg(c.net));
            goto done;
        }
        /* the forward output of every training sample (before its update), for the training
         * accuracy in bins that analyze computes (EIANN recomputes it from its output history) */
        btsp_pop *outp = btsp_net_output(c.net);
        size_t n_o = outp ? btsp_pop_size(outp) : 0;
        if (n_o && cap <= OUTPUT_BUDGET / n_o &&
            (st = btsp_monitor_add_pop(outp, BTSP_VAR_FORWARD_ACTIVITY, 1, cap, &out_mon))) {
            fail(res, st, "%s", btsp_net_errmsg(c.net));
            goto done;
        }
        ppop = plateau_pop(c.net, s->plateau_pop, res);
        if (!ppop && s->plateau_pop)
            goto done;
        if (ppop) {
            size_t n = btsp_pop_size(ppop);
            unsigned long long budget = plateau_budget() / (n ? n : 1);
            if (budget == 0)
                budget = 1;
            pstride = (s->samples + budget - 1) / budget;
            if (pstride == 0)
                pstride = 1;
            if (pstride > UINT32_MAX)
                pstride = UINT32_MAX;
            size_t pcap = (size_t)(s->samples / pstride);
            if (pcap == 0)
                pcap = 1;
            if ((st = btsp_monitor_add_pop(ppop, BTSP_VAR_PLATEAU, (uint32_t)pstride, pcap, &plat_mon))) {
                fail(res, st, "%s", btsp_net_errmsg(c.net));
                goto done;
            }
        }
    }
    c.loss_mon = loss_mon;
    c.out_mon = out_mon;
    c.plat_mon = plat_mon;
    c.ppop = ppop;
    c.pstride = pstride;
    c.dr = &dr;
    if (s->torch_rng && (st = btsp_net_set(c.net, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH))) {
        fail(res, st, "%s", btsp_net_errmsg(c.net));
        goto done;
    }
    if ((st = btsp_net_finalize(c.net))) {
        fail(res, st, "%s", btsp_net_errmsg(c.net));
        goto done;
    }
    btsp__io_skipped skipped;
    if (s->init_weights &&
        (st = btsp__io_load_weights_skipped(c.net, s->init_weights, 0, &skipped, err, sizeof err))) {
        fail(res, st, "%s", err);
        goto done;
    }
    if (s->init_weights && skipped.n) /* a directory may hold only some arrays: name the others (also with --quiet) */
        fprintf(stderr, "btsp: --init-weights %s has no file for %zu of %zu weight arrays (they keep their initial "
                        "values): %s\n",
                s->init_weights, skipped.n, skipped.of, skipped.names);
    if (s->init_weights && !cli_weights_fit_fields(c.net, "--init-weights", err, sizeof err)) {
        fail(res, BTSP_E_INVALID_ARG, "%s", err);
        goto done;
    }
    if (s->resume && !resume_state(&c))
        goto done;
    if ((st = cli_order_open(&ord, s->order, d->train.n, s->data_seed, s->torch_rng, err, sizeof err))) {
        fail(res, st, "%s", err);
        goto done;
    }
    size_t n_out = btsp_pop_size(btsp_net_output(c.net));
    size_t max_rows = d->test.n > d->val.n ? d->test.n : d->val.n;
    c.out = malloc((max_rows ? max_rows : 1) * n_out * sizeof *c.out);
    if (!c.out) {
        fail(res, BTSP_E_NOMEM, "out of memory");
        goto done;
    }
    if (s->report_before) {
        /* on the evaluation copies, which leaves the trained network's state as it was (a state
         * image saved before any training, by a run resumed at its last sample, is the one it
         * was loaded from) */
        if (!c.eval_net && !make_eval_net(&c))
            goto done;
        res->test_acc_before = net_accuracy(&c, &d->test, NULL, 0);
        if (res->status)
            goto done;
    }
    if (s->val_window) {
        if (!d->val.n) {
            fail(res, BTSP_E_INVALID_ARG, "--val-window: the data set '%s' has no validation rows", s->data);
            goto done;
        }
        size_t n = (size_t)(s->val_window / s->val_step);
        c.win_samples = calloc(n, sizeof *c.win_samples);
        c.win_acc = calloc(n, sizeof *c.win_acc);
        c.win_loss = calloc(n, sizeof *c.win_loss);
        if (!c.win_samples || !c.win_acc || !c.win_loss) {
            fail(res, BTSP_E_NOMEM, "out of memory");
            goto done;
        }
        if (!make_eval_net(&c))
            goto done;
    }
    if (s->eval_threads > 1 && !c.eval_net && !make_eval_net(&c))
        goto done;
    if (s->out) {
        char snapdir[4096];
        if (!cli_make_dir(s->out) || !cli_path(snapdir, sizeof snapdir, s->out, "snapshots") ||
            (s->history_interval && !cli_make_dir(snapdir))) {
            fail(res, BTSP_E_IO, "cannot create the run directory %s", s->out);
            goto done;
        }
        if (!write_config_copy(s, res))
            goto done;
        /* per-sample dendritic means through the step hook */
        size_t np = btsp_net_pop_count(c.net);
        dr.pops = calloc(np ? np : 1, sizeof *dr.pops);
        dr.state = calloc(np ? np : 1, sizeof *dr.state);
        if (!dr.pops || !dr.state) {
            fail(res, BTSP_E_NOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < np; i++) {
            const btsp_pop *p = btsp_net_pop_at(c.net, i);
            const float *v;
            size_t n;
            if (btsp_pop_state(p, BTSP_VAR_FORWARD_DEND, &v, &n) == BTSP_OK) {
                dr.pops[dr.n_pops] = p;
                dr.state[dr.n_pops++] = v;
                dr.total_units += n;
            }
        }
        if (dr.n_pops) {
            dr.cap_rows = (size_t)(s->samples - c.first); /* the samples this run trains */
            dr.means = malloc((dr.cap_rows ? dr.cap_rows : 1) * (dr.n_pops + 1) * sizeof *dr.means);
            if (!dr.means) {
                fail(res, BTSP_E_NOMEM, "out of memory");
                goto done;
            }
            btsp_net_set_step_hook(c.net, dend_hook, &dr);
        }
        if (s->history_interval && d->val.n) {
            if (!c.eval_net && !make_eval_net(&c))
                goto done;
            if (!cli_path(path, sizeof path, s->out, "val_history.csv"))
                goto done;
            c.val_csv = fopen(path, "w");
            if (!c.val_csv) {
                fail(res, BTSP_E_IO, "cannot write %s", path);
                goto done;
            }
            fputs("samples,val_accuracy,val_loss\n", c.val_csv);
        }
    }
    if (!s->quiet)
        fprintf(stderr, "btsp: training %s on %zu rows (%s), %llu samples, seed %llu, data seed %llu\n", s->config,
                d->train.n, s->data, s->samples, s->seed, s->data_seed);
    double train_s = train_loop(&c, &ord);
    if (train_s < 0 || !save_state(&c, s->samples))
        goto done;
    res->train_s = train_s;
    res->samples_per_s = train_s > 0 ? (double)(s->samples - c.first) / train_s : NAN;
    res->final_loss = btsp_net_last_loss(c.net);
    if (c.val_at == s->samples + 1) /* the last snapshot or window point validated these weights */
        res->val_acc = c.val_acc_at;
    else if (!d->val.n)
        res->val_acc = NAN;
    else
        res->val_acc = net_accuracy(&c, &d->val, NULL, 1);
    if (c.n_win) {
        double sum = 0.0;
        for (size_t i = 0; i < c.n_win; i++)
            sum += c.win_acc[i];
        res->val_window_acc = sum / (double)c.n_win;
        res->val_window_n = c.n_win;
    }
    res->test_acc = net_accuracy(&c, &d->test, NULL, 1);
    if (res->status)
        goto done;
    if (s->out && !write_outputs(&c, s->samples, 1))
        goto done;
    ok = isfinite(res->test_acc);
    if (!ok)
        fail(res, BTSP_E_NUMERIC, "the test accuracy is not a number");
done:
    if (c.val_csv)
        fclose(c.val_csv);
    free(c.snaps);
    free(c.win_samples);
    free(c.win_acc);
    free(c.win_loss);
    free(c.out);
    cli_order_close(&ord);
    free(dr.pops);
    free(dr.state);
    free(dr.means);
    for (size_t k = 0; k < c.n_eval; k++)
        btsp_net_destroy(c.eval_nets[k]);
    btsp_net_destroy(c.net);
    cli_split_free(&own);
    return ok;
}
