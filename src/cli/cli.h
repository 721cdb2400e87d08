/* Internal interface between the parts of the `btsp` program (not installed, not public). */
#ifndef BTSP_CLI_H
#define BTSP_CLI_H

#include "btsp/btsp.h"
#include "btsp/btsp_analysis.h"
#include "btsp/btsp_io.h"
#include "btsp/btsp_kernels.h"

#include <stdint.h>
#include <stdio.h>

/* The embedded demo network is named by this pseudo-path wherever a CONFIG is expected, and
 * its synthetic task by the data set name "demo". */
#define CLI_DEMO_CONFIG "@demo"
#define CLI_DEMO_DATA "demo"

/* Default interval (training samples) of weight snapshots and validation in run directories. */
#define CLI_DEFAULT_HISTORY_INTERVAL 1000u
/* Default spacing (training samples) of the windowed validation points (--val-step; EIANN's
 * val_interval step in its optimisation configs). */
#define CLI_DEFAULT_VAL_STEP 100u
/* Most windowed validation points (each is a pass over the validation set). */
#define CLI_MAX_VAL_POINTS 1000000u
#define CLI_DEFAULT_RF_IMAGES 1000u /* analyze --rf-images: EIANN averages 1,000 test images */
#define CLI_DEFAULT_LANDSCAPE_POINTS 11u /* analyze --landscape-points (EIANN: 20, see docs/analysis.md) */
#define CLI_DEFAULT_LANDSCAPE_ROWS 500u  /* analyze --landscape-rows */

typedef struct options {
    const char *config;
    const char *weights; /* eval: weights directory; analyze, merge: run directory */
    const char *run2;    /* merge: the run directory that continues `weights` */
    const char *data;
    const char *out;
    const char *init_weights;
    const char *resume;      /* --resume: state file (DIR/state.btsp of an earlier run) */
    const char *order;       /* .npy of training-row indices (replaces the seeded shuffle) */
    const char *rng;         /* --rng counter|torch (NULL: counter) */
    const char *plateau_pop; /* run directories: population of the plateau raster */
    const char **configs;    /* compare: the configs (argv pointers) */
    size_t n_configs;
    unsigned long long samples;
    unsigned long long seed;
    unsigned long long data_seed;
    unsigned long long history_interval;
    unsigned long long max_test;     /* analyze: test rows used (0 = all) */
    unsigned long long rsm_patterns; /* analyze: patterns of the pattern x pattern RSMs */
    unsigned long long angle_samples;/* analyze: samples per snapshot for update angles vs backprop */
    unsigned long long bp_steps;     /* analyze: backprop window (0: the network's, else 3) */
    unsigned long long rf_images;    /* analyze: test images per activation-maximisation RF */
    unsigned long long landscape_points; /* analyze: loss-landscape grid points per axis (0: none) */
    unsigned long long landscape_rows;   /* analyze: test rows per loss-landscape evaluation */
    unsigned long long seeds;        /* compare: seed pairs */
    unsigned long long val_window;   /* train/compare: samples of the windowed validation (0: none) */
    unsigned long long val_step;     /* train/compare: samples between its validation points */
    unsigned long long jobs;         /* compare: runs at once (threads) */
    int quiet;
    int overwrite;   /* --overwrite: --out may hold files */
    int analyze;     /* compare --analyze: btsp analyze every run directory, summaries side by side */
    int no_json;     /* analyze called by compare: no JSON line of its own */
    int history_set; /* --history-interval given */
    int val_step_set; /* --val-step given */
} options;

typedef struct data_split {
    btsp_dataset train, val, test;
} data_split;

/* ---- cli_common.c ---- */
double cli_now(void);
/* Network from a YAML file or CLI_DEMO_CONFIG, seeded, not finalized; prints on failure.
 * `status` (may be NULL) receives the loader's status, `msg` (may be NULL) its message. */
btsp_net *cli_load_net(const char *config, unsigned long long seed, btsp_status *status, char *msg, size_t msglen);
/* 0 (and a message starting with `what`) if a projection with receptive fields holds a non-zero
 * weight outside the fields the network drew (cli_common.c). */
int cli_weights_fit_fields(const btsp_net *net, const char *what, char *msg, size_t cap);
/* The YAML text of CLI_DEMO_CONFIG (NUL-terminated). */
const char *cli_demo_yaml(void);
/* Load (or, for "demo", generate) train/val/test; prints on failure. Returns 1 on success. */
int cli_load_data(const char *name, unsigned long long data_seed, data_split *d);
void cli_split_free(data_split *d);
int cli_check_dims(btsp_net *net, const data_split *d);
/* Percentage correct (ties to the lowest index) and optionally the MSE; NaN on failure. */
double cli_accuracy(btsp_net *net, const btsp_dataset *ds, float *out, double *seconds, double *mse);
/* The same with the rows split into n_nets contiguous parts evaluated at once, one thread per
 * network; the networks must hold the same parameters. Every row's output is what one network
 * alone gives (evaluation is row by row), so the result does not depend on n_nets. */
double cli_accuracy_par(btsp_net *const *nets, size_t n_nets, const btsp_dataset *ds, float *out, double *seconds,
                        double *mse);
/* Percentage correct of outputs `out` (ds->n x n_out) against ds's labels (ties to the lowest
 * index) and, if mse is not NULL, their MSE against ds's targets (NaN unless n_out is the
 * number of classes): the scoring of cli_accuracy(). */
double cli_score(const float *out, const btsp_dataset *ds, size_t n_out, double *mse);
/* Copy src's parameters into copies[0 .. n); the copy that refused them (non-finite values), or
 * NULL when all took them. */
btsp_net *cli_sync_copies(btsp_net *const *copies, size_t n, const btsp_net *src);
/* A small numeric CSV file: the header's names and the rows (empty fields are NaN). */
typedef struct cli_csv_table {
    char **names;
    size_t n_cols;
    float *v; /* n_rows x n_cols */
    size_t n_rows;
} cli_csv_table;
/* Read `path`; 0 if it cannot be read (t is then empty). */
int cli_csv_read(const char *path, cli_csv_table *t);
void cli_csv_free(cli_csv_table *t);
/* Most evaluation threads of a training run (--jobs). */
#define CLI_MAX_EVAL_THREADS 64
/* fn(args + q * size) for q < m (m <= CLI_MAX_EVAL_THREADS) at once: q = 0 on the calling
 * thread, the others on threads of their own (run here in turn if a thread cannot start);
 * returns when all are done. */
void cli_parallel(void *(*fn)(void *), void *args, size_t size, size_t m);
int cli_make_dir(const char *dir);
/* How many snapshots run.json lists (up to sample `last`) have no directory; *first receives
 * the first of them. */
size_t cli_missing_snapshots(const char *run, unsigned long long last, unsigned long long *first);
/* 1 if `dir` may receive a run: it does not exist, is an empty directory, or `overwrite` is set
 * (and it is a directory); else 0 with the reason in msg. */
int cli_out_usable(const char *dir, int overwrite, char *msg, size_t len);
/* Copy every projection's weights and every bias of src into dst (same structure). */
btsp_status cli_copy_params(btsp_net *dst, const btsp_net *src);
/* "H1.E" -> "H1E" (file-name form used by the weight files). */
void cli_pop_file_name(const btsp_pop *pop, char *buf, size_t len);
/* JSON output helpers (key: value, followed by ", " unless last). */
void cli_json_number(FILE *f, const char *key, double v, int last);
void cli_json_string(FILE *f, const char *key, const char *s, int last);
void cli_json_escape(FILE *f, const char *s);
/* CSV number: "%.9g", or empty for NaN. */
void cli_csv_number(FILE *f, double v);
/* Path join into buf; returns 1 if it fitted. */
int cli_path(char *buf, size_t len, const char *dir, const char *name);
/* Whole file into a malloc'd NUL-terminated buffer, or NULL. */
char *cli_read_file(const char *path, size_t *len);
/* Values of the flat JSON objects this program writes (run.json, state.btsp.json; keys unique):
 * the string (unescaped, truncated to len - 1) or number of `key`. 0 if absent or of another
 * type (a null string is absent). */
int cli_json_get_string(const char *text, const char *key, char *buf, size_t len);
int cli_json_get_number(const char *text, const char *key, double *v);
/* An unsigned integer value, exactly (seeds: no rounding through double). */
int cli_json_get_u64(const char *text, const char *key, unsigned long long *v);
/* A true/false value (1/0). */
int cli_json_get_bool(const char *text, const char *key, int *v);
/* The text of `key`'s value as written (a string with its quotes, a number, a literal, or an
 * array of those) and its length, or NULL if absent. */
const char *cli_json_get_raw(const char *text, const char *key, size_t *len);
/* Sorted sample counts of RUN/snapshots/<n>, up to `last` (run.json "samples_done" of a run
 * that was interrupted: a later directory may be half written) and, if RUN/run.json lists its
 * "snapshots", only those listed (others are an earlier run's); malloc'd, NULL if none. */
unsigned long long *cli_list_snapshots(const char *run, unsigned long long last, size_t *n);
/* Write a CSV, a PNG of lines, etc. ignoring nothing: print the problem, return 0 on failure. */
int cli_write_npy(const char *path, const float *data, size_t rows, size_t cols);
/* Line plot `path` (NAME.png) as NAME.svg with the labels (title, axis labels, series names;
 * always) and as the PNG (when libpng is available): the number of files written, or -1 on an
 * error (printed). */
int cli_plot_lines(const char *path, const btsp_an_plot_labels *labels, const float *x, const float *y,
                   size_t n_series, size_t n_points, double y_lo, double y_hi);
/* Rule name of a network for tables: the rule of the first learned projection into the output
 * population ("-" if none). */
const char *cli_net_rule_name(const btsp_net *net);

/* The training-sample order of a run: a fixed order read from a 1-D .npy of row indices
 * (repeated when shorter than the run), else a seeded permutation of the n_rows training rows
 * for every epoch, as `btsp train` uses it: btsp_k_permutation(data_seed, epoch), or with
 * --rng torch the epoch-th btsp_k_torch_shuffle_epoch() of one MT19937 seeded with data_seed
 * (EIANN's DataLoader(shuffle=True) with a generator seeded with the data seed). */
typedef struct cli_order {
    uint32_t *fixed; /* NULL: seeded permutations */
    size_t n_fixed;
    uint32_t *perm; /* n_rows, the permutation of `epoch` */
    size_t n_rows;
    unsigned long long data_seed;
    uint64_t epoch;
    int torch;            /* permutations from torch.randperm */
    btsp_k_mt19937 gen;   /* torch: the generator after the permutation of `epoch` */
} cli_order;
/* Read `file` (may be NULL: permutations only). Every entry must be an integer row index below
 * n_rows. torch: the permutations follow torch.randperm. Returns BTSP_OK or an error with a
 * message in err. */
btsp_status cli_order_open(cli_order *o, const char *file, size_t n_rows, unsigned long long data_seed, int torch,
                           char *err, size_t errlen);
/* The permutation of training rows for `epoch` (n_rows entries; not for a fixed order). */
const uint32_t *cli_order_epoch(cli_order *o, uint64_t epoch);
/* Row of training sample t (0-based), t in increasing order within an epoch is cheapest. */
size_t cli_order_row(cli_order *o, uint64_t t);
void cli_order_close(cli_order *o);

/* ---- cli_run.c: training with an optional run directory ---- */
/* 1 if --val-window / --val-step fit `samples` training samples; else prints why and returns 0. */
int cli_check_val_window(unsigned long long window, unsigned long long step, unsigned long long samples);
typedef struct run_spec {
    const char *config;
    const char *data;
    unsigned long long samples, seed, data_seed;
    const char *out;          /* run directory or NULL */
    const char *init_weights; /* or NULL */
    const char *order;        /* or NULL */
    const char *resume;       /* --resume: state file to continue from, or NULL */
    const char *plateau_pop;  /* or NULL (automatic) */
    unsigned long long history_interval; /* 0: no snapshots */
    /* Windowed validation, EIANN's optimisation objective: the validation accuracy after
     * samples - val_window + k * val_step, k = 1 .. val_window / val_step, and its mean
     * (val_window 0: none; val_window a multiple of val_step, at most samples). */
    unsigned long long val_window, val_step;
    unsigned long long eval_threads; /* --jobs: threads (network copies) for validation and test */
    int quiet;
    int overwrite;     /* --overwrite: `out` may already hold files */
    int report_before; /* evaluate the test set before training too (demo) */
    int torch_rng;     /* --rng torch: EIANN's initial weights and sample order for the seeds */
} run_spec;

typedef struct run_result {
    btsp_status status; /* BTSP_OK, or why the run failed (e.g. BTSP_E_UNSUPPORTED) */
    char message[1024];
    double val_acc, test_acc, test_acc_before, final_loss, train_s, eval_s, samples_per_s;
    double val_window_acc; /* mean of the windowed validation accuracies (NAN without a window) */
    size_t val_window_n;   /* validation points taken in the window */
    unsigned long long first_sample; /* samples the run started from (--resume), else 0 */
    char resumed_from[4096];         /* --resume: the state file's real path */
    size_t train_rows, val_rows, test_rows;
    char rule[64];
} run_result;

/* Train one network. `data` may be preloaded (then it is used as is) or NULL (loaded from
 * spec->data). Returns 1 on success; on failure res->status and res->message say why. */
int cli_run(const run_spec *spec, const data_split *data, run_result *res);

/* ---- commands ---- */
int cli_cmd_train(options *o);
int cli_cmd_demo(options *o);
int cli_cmd_analyze(options *o);
int cli_cmd_compare(options *o);
int cli_cmd_merge(options *o); /* cli_merge.c */

#endif
