/* The `btsp` program: train and evaluate EIANN-format networks on IDX image data sets, analyse
 * training runs, compare configurations, and a self-contained demo.
 *
 *   btsp train CONFIG --data fashion-mnist|mnist|demo|DIR [--samples N] [--seed S] [--data-seed D]
 *                     [--out DIR [--history-interval K] [--plateau-pop L.P] [--overwrite]]
 *                     [--init-weights DIR | --resume STATE|DIR] [--order FILE.npy] [--rng counter|torch]
 *                     [--val-window W [--val-step K]] [--jobs J] [--quiet]
 *   btsp eval CONFIG WEIGHTS_DIR --data NAME
 *   btsp info CONFIG
 *   btsp analyze RUN_DIR [--data NAME] [--max-test N] [--rsm-patterns N] [--angle-samples N] [--bp-steps K]
 *                        [--rf-images N] [--landscape-points K] [--landscape-rows N] [--jobs J]
 *   btsp compare --data NAME [--samples N] [--seeds K] [--out DIR [--analyze] [--overwrite]] [--rng counter|torch]
 *                [--val-window W [--val-step K]] [--jobs J] CONFIG...   (--analyze takes the analyze options)
 *   btsp demo [--samples N] [--seed S] [--data-seed D] [--out DIR ...] [--val-window W [--val-step K]]
 *   btsp merge RUN_DIR RESUMED_RUN_DIR --out DIR   (one run directory from a run and its --resume)
 *
 * CONFIG is an EIANN YAML file or "@demo", the embedded demo network; the data set "demo" is
 * its synthetic task (no download).
 *
 * Protocol (eiann-model.md section 5): a 60,000-row training file is split into train = first
 * 50,000 and validation = last 10,000; the test set is the t10k file. Smaller training files
 * (the 10,000-digit MNIST subset) are used whole for training and have no validation set.
 * Online learning, batch 1, a fresh seeded shuffle of the training rows for every epoch
 * (btsp_k_permutation(data_seed, epoch)), or the fixed order of training-row indices given with
 * --order (a 1-D .npy, e.g. the order another implementation used; repeated if too short).
 * --rng torch draws the initial weights and the epoch permutations with PyTorch's generator as
 * EIANN does (BTSP_INIT_RNG_TORCH, btsp_k_torch_randperm), so that a run starts from EIANN's
 * weights and sees EIANN's samples for the same seed pair.
 * Accuracies are percentages; argmax ties go to the lowest index, so an all-silent output
 * predicts class 0.
 *
 * --val-window W validates after samples N - W + K, N - W + 2K, ..., N (K = --val-step, default
 * 100) and reports the mean of those W / K accuracies as val_window_accuracy: the objective
 * EIANN's optimisation recorded in its configs (val_interval (-1000, -1, 100) with a 1,000-step
 * accuracy window: validation after train steps 19099, 19199, ..., 19999 of a 20,000-step run).
 * Validation runs on a copy of the weights, so it never changes learning. --jobs J (train,
 * demo) evaluates validation and test sets with J threads, each on its own copy of the
 * network and a contiguous part of the rows; every row's output is the same as with one.
 *
 * --resume STATE continues a run from the state image it wrote (DIR/state.btsp of `--out DIR`,
 * at snapshots, at most every 30 s, and at the end; STATE may also be DIR itself): training
 * goes on from that image's sample count to --samples in the same order, and ends with bitwise
 * the weights of a run that never stopped.
 * The seed comes from the image and must equal --seed; the data options must equal those in
 * STATE.json (written beside it); --init-weights and --resume exclude each other.
 *
 * The last line printed on stdout is JSON with the results. Run directories (--out) are
 * described in cli_run.c, the analyses in cli_analyze.c and docs/analysis.md. */
#define _POSIX_C_SOURCE 200809L

#include "btsp/btsp.h"
#include "btsp/btsp_io.h"

#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(FILE *f)
{
    fprintf(f,
            "usage:\n"
            "  btsp train CONFIG --data fashion-mnist|mnist|demo|DIR [--samples N] [--seed S] [--data-seed D]\n"
            "                    [--out DIR [--history-interval K] [--plateau-pop LAYER.POP] [--overwrite]]\n"
            "                    [--init-weights DIR | --resume STATE|DIR] [--order FILE.npy] [--rng counter|torch]\n"
            "                    [--val-window W [--val-step K]] [--jobs J] [--quiet]\n"
            "  btsp eval CONFIG WEIGHTS_DIR --data NAME\n"
            "  btsp info CONFIG\n"
            "  btsp analyze RUN_DIR [--data NAME] [--max-test N] [--rsm-patterns N] [--angle-samples N]\n"
            "                       [--bp-steps K] [--rf-images N] [--landscape-points K] [--landscape-rows N]\n"
            "                       [--jobs J]\n"
            "  btsp compare --data NAME [--samples N] [--seeds K]\n"
            "               [--out DIR [--history-interval K] [--analyze] [--overwrite]]\n"
            "               [--rng counter|torch] [--val-window W [--val-step K]] [--jobs J] CONFIG...\n"
            "               (--analyze: btsp analyze every run, with the analyze options above)\n"
            "  btsp demo [--samples N] [--seed S] [--data-seed D] [--out DIR [--history-interval K] [--overwrite]]\n"
            "            [--val-window W [--val-step K]] [--jobs J] [--quiet] (and train's --plateau-pop,\n"
            "            --init-weights, --resume, --order, --rng)\n"
            "  btsp merge RUN_DIR RESUMED_DIR --out DIR\n"
            "--resume STATE: continue the run that wrote STATE (--out DIR writes DIR/state.btsp at\n"
            "snapshots, at most every 30 s (BTSP_CHECKPOINT_SECONDS), and at the end; --resume DIR reads\n"
            "that file) up to --samples, with its seed and data options. merge: one run directory (for\n"
            "btsp analyze) from a run and the run resumed from one of its checkpoints.\n"
            "CONFIG is an EIANN YAML file or @demo (the embedded demo network; data set 'demo').\n"
            "An option that the command does not read is an error (exit status 2), as are\n"
            "--history-interval, --plateau-pop and --overwrite without --out and compare's analyze options\n"
            "without --analyze.\n"
            "--out DIR must be new or empty (train, demo, compare); --overwrite writes the run into a\n"
            "directory that holds files (an earlier run's files that this run does not write stay).\n"
            "Exit status: 0 done; 1 failed (compare: any configuration failed; the table and JSON\n"
            "still list the others); 2 bad command line.\n"
            "defaults: --samples 20000, --seed 66049, --data-seed 257 (demo: --samples 3000, --seed 1,\n"
            "          --data-seed 2), --seeds 5, --rng counter\n"
            "          (torch: EIANN's initial weights and sample order for the same seeds),\n"
            "          --history-interval %u with --out (0: no snapshots), --rsm-patterns 500,\n"
            "          --angle-samples 100 (0: no update angles), --bp-steps: the network's backward\n"
            "          steps, or 3 if it has none (EIANN's bpDale networks), --rf-images 1000 (test\n"
            "          images per activation-maximisation receptive field; 0: none),\n"
            "          --landscape-points 11 (loss-landscape grid per axis; 0: none), --landscape-rows 500,\n"
            "          --val-window 0 (W > 0: mean validation accuracy at the last W / K points, K apart,\n"
            "          ending at the last sample, as EIANN's optimisation objective), --val-step %u,\n"
            "          --jobs 1 (compare: runs trained at once, one thread each; train/demo/analyze:\n"
            "          threads for the batched evaluations; at most %u; results never depend on it)\n",
            CLI_DEFAULT_HISTORY_INTERVAL, CLI_DEFAULT_VAL_STEP, CLI_MAX_EVAL_THREADS);
    return 2;
}

static int parse_u64(const char *s, unsigned long long *v)
{
    char *end;
    errno = 0;
    *v = strtoull(s, &end, 10);
    /* digits only: strtoull would skip leading spaces and negate "-5" (" -5" is 2^64 - 5) */
    return errno == 0 && s[0] >= '0' && s[0] <= '9' && *end == '\0';
}

typedef struct num_opt {
    const char *name;
    size_t offset;
    int positive;
    unsigned long long max; /* largest accepted value; 0: no limit */
} num_opt;

static const num_opt num_opts[] = {
    {"--samples", offsetof(options, samples), 1, 0},
    {"--seed", offsetof(options, seed), 0, 0},
    {"--data-seed", offsetof(options, data_seed), 0, 0},
    {"--history-interval", offsetof(options, history_interval), 0, 0},
    {"--max-test", offsetof(options, max_test), 1, 0},
    {"--rsm-patterns", offsetof(options, rsm_patterns), 0, 0},
    {"--angle-samples", offsetof(options, angle_samples), 0, 0},
    {"--bp-steps", offsetof(options, bp_steps), 1, 100000}, /* BTSP_NET_FORWARD_STEPS' bound */
    {"--rf-images", offsetof(options, rf_images), 0, 0},
    {"--landscape-points", offsetof(options, landscape_points), 0, 1000},
    {"--landscape-rows", offsetof(options, landscape_rows), 1, 0},
    {"--seeds", offsetof(options, seeds), 1, 0},
    {"--val-window", offsetof(options, val_window), 0, 0},
    {"--val-step", offsetof(options, val_step), 1, 0},
    {"--jobs", offsetof(options, jobs), 1, CLI_MAX_EVAL_THREADS},
};

/* Which commands read each option: one given to a command that would ignore it is an error
 * (a typo'd command line must not run silently without what the user asked for). */
enum { C_TRAIN = 1, C_EVAL = 2, C_INFO = 4, C_ANALYZE = 8, C_COMPARE = 16, C_DEMO = 32, C_MERGE = 64 };
#define C_RUNS (C_TRAIN | C_COMPARE | C_DEMO)
#define C_ANALYSES (C_ANALYZE | C_COMPARE) /* compare passes them to analyze (--analyze) */
static const struct {
    const char *name;
    int takes_value;
    unsigned cmds;
} applies[] = {
    {"--samples", 1, C_RUNS},
    {"--seed", 1, C_TRAIN | C_EVAL | C_INFO | C_DEMO},
    {"--data-seed", 1, C_TRAIN | C_EVAL | C_DEMO},
    {"--history-interval", 1, C_RUNS},
    {"--max-test", 1, C_ANALYSES},
    {"--rsm-patterns", 1, C_ANALYSES},
    {"--angle-samples", 1, C_ANALYSES},
    {"--bp-steps", 1, C_ANALYSES},
    {"--rf-images", 1, C_ANALYSES},
    {"--landscape-points", 1, C_ANALYSES},
    {"--landscape-rows", 1, C_ANALYSES},
    {"--seeds", 1, C_COMPARE},
    {"--val-window", 1, C_RUNS},
    {"--val-step", 1, C_RUNS},
    {"--jobs", 1, C_RUNS | C_ANALYZE},
    {"--data", 1, C_TRAIN | C_EVAL | C_ANALYZE | C_COMPARE},
    {"--out", 1, C_RUNS | C_MERGE},
    {"--init-weights", 1, C_TRAIN | C_DEMO},
    {"--resume", 1, C_TRAIN | C_DEMO},
    {"--order", 1, C_TRAIN | C_DEMO},
    {"--rng", 1, C_RUNS},
    {"--plateau-pop", 1, C_RUNS},
    {"--quiet", 0, C_RUNS},
    {"--overwrite", 0, C_RUNS},
    {"--analyze", 0, C_COMPARE},
};

static int options_apply(const char *cmd, int argc, char **argv, int first)
{
    static const char *const names[] = {"train", "eval", "info", "analyze", "compare", "demo", "merge"};
    unsigned bit = 0;
    for (unsigned k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(cmd, names[k]) == 0)
            bit = 1u << k;
    const char *needs_out = NULL, *needs_analyze = NULL;
    int has_out = 0, has_analyze = 0, has_init = 0, has_resume = 0;
    for (int i = first; i < argc; i++)
        for (size_t k = 0; k < sizeof applies / sizeof applies[0]; k++) {
            if (strcmp(argv[i], applies[k].name) != 0)
                continue;
            if (!(applies[k].cmds & bit)) {
                fprintf(stderr, "btsp: %s is not an option of 'btsp %s' (see btsp --help)\n", argv[i], cmd);
                return 0;
            }
            /* options that only act together with another one */
            has_out |= strcmp(argv[i], "--out") == 0;
            has_analyze |= strcmp(argv[i], "--analyze") == 0;
            has_init |= strcmp(argv[i], "--init-weights") == 0;
            has_resume |= strcmp(argv[i], "--resume") == 0;
            if (strcmp(argv[i], "--history-interval") == 0 || strcmp(argv[i], "--plateau-pop") == 0 ||
                strcmp(argv[i], "--overwrite") == 0)
                needs_out = argv[i];
            if (bit == C_COMPARE && applies[k].cmds == C_ANALYSES)
                needs_analyze = argv[i];
            i += applies[k].takes_value;
            break;
        }
    if (has_init && has_resume) {
        fprintf(stderr, "btsp: --init-weights and --resume both set the weights: give one\n");
        return 0;
    }
    if (needs_out && !has_out) {
        fprintf(stderr, "btsp: %s acts on the run directory: give --out DIR too\n", needs_out);
        return 0;
    }
    if (needs_analyze && !has_analyze) {
        fprintf(stderr, "btsp: %s is an analyze option: 'btsp compare' takes it with --analyze\n", needs_analyze);
        return 0;
    }
    return 1;
}

/* Options from argv[first]; with `positional` non-NULL, other arguments are collected there
 * (argv pointers), else they are errors. */
static int parse_options(int argc, char **argv, int first, options *o, const char ***positional, size_t *n_pos)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1, done = 0;
        for (size_t k = 0; k < sizeof num_opts / sizeof num_opts[0]; k++) {
            if (strcmp(a, num_opts[k].name) != 0)
                continue;
            unsigned long long v;
            if (!val || !parse_u64(val, &v) || (num_opts[k].positive && v == 0)) {
                fprintf(stderr, "btsp: %s needs a %s integer, got '%s'\n", a,
                        num_opts[k].positive ? "positive" : "non-negative", val ? val : "");
                return 0;
            }
            if (num_opts[k].max && v > num_opts[k].max) {
                fprintf(stderr, "btsp: %s is at most %llu, got %llu\n", a, num_opts[k].max, v);
                return 0;
            }
            *(unsigned long long *)(void *)((char *)o + num_opts[k].offset) = v;
            if (strcmp(a, "--history-interval") == 0)
                o->history_set = 1;
            if (strcmp(a, "--val-step") == 0)
                o->val_step_set = 1;
            done = 1;
        }
        if (done) {
            i++;
            continue;
        }
        if (strcmp(a, "--data") == 0 && val)
            o->data = val;
        else if (strcmp(a, "--out") == 0 && val)
            o->out = val;
        else if (strcmp(a, "--init-weights") == 0 && val)
            o->init_weights = val;
        else if (strcmp(a, "--resume") == 0 && val)
            o->resume = val;
        else if (strcmp(a, "--order") == 0 && val)
            o->order = val;
        else if (strcmp(a, "--plateau-pop") == 0 && val)
            o->plateau_pop = val;
        else if (strcmp(a, "--rng") == 0 && val) {
            if (strcmp(val, "counter") != 0 && strcmp(val, "torch") != 0) {
                fprintf(stderr, "btsp: --rng must be 'counter' or 'torch', got '%s'\n", val);
                return 0;
            }
            o->rng = val;
        }
        else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
            takes = 0;
        } else if (strcmp(a, "--analyze") == 0) {
            o->analyze = 1;
            takes = 0;
        } else if (strcmp(a, "--overwrite") == 0) {
            o->overwrite = 1;
            takes = 0;
        } else if (positional && a[0] != '-') {
            (*positional)[(*n_pos)++] = a;
            takes = 0;
        } else {
            fprintf(stderr, "btsp: unknown or incomplete option '%s'\n", a);
            return 0;
        }
        i += takes;
    }
    return 1;
}

static void print_train_json(const char *command, const options *o, const run_spec *s, const run_result *r)
{
    printf("{");
    cli_json_string(stdout, "command", command, 0);
    cli_json_string(stdout, "config", s->config, 0);
    cli_json_string(stdout, "data", s->data, 0);
    printf("\"seed\": %llu, \"data_seed\": %llu, \"samples\": %llu, ", s->seed, s->data_seed, s->samples);
    printf("\"train_rows\": %zu, \"val_rows\": %zu, \"test_rows\": %zu, ", r->train_rows, r->val_rows, r->test_rows);
    if (o->out)
        cli_json_string(stdout, "out", o->out, 0);
    if (s->resume) {
        cli_json_string(stdout, "resumed_from", r->resumed_from, 0);
        printf("\"first_sample\": %llu, ", r->first_sample);
    }
    if (s->report_before)
        cli_json_number(stdout, "test_accuracy_before", r->test_acc_before, 0);
    cli_json_number(stdout, "val_accuracy", r->val_acc, 0);
    if (s->val_window) {
        cli_json_number(stdout, "val_window_accuracy", r->val_window_acc, 0);
        printf("\"val_window\": %llu, \"val_step\": %llu, \"val_window_points\": %zu, ", s->val_window, s->val_step,
               r->val_window_n);
    }
    cli_json_number(stdout, "test_accuracy", r->test_acc, 0);
    cli_json_number(stdout, "final_loss", r->final_loss, 0);
    cli_json_number(stdout, "train_seconds", r->train_s, 0);
    cli_json_number(stdout, "samples_per_second", r->samples_per_s, 0);
    cli_json_number(stdout, "eval_seconds", r->eval_s, 1);
    printf("}\n");
}

static void spec_from_options(const options *o, run_spec *s)
{
    memset(s, 0, sizeof *s);
    s->config = o->config;
    s->data = o->data;
    s->samples = o->samples;
    s->seed = o->seed;
    s->data_seed = o->data_seed;
    s->out = o->out;
    s->init_weights = o->init_weights;
    s->resume = o->resume;
    s->order = o->order;
    s->plateau_pop = o->plateau_pop;
    s->torch_rng = o->rng && strcmp(o->rng, "torch") == 0;
    s->history_interval = o->out ? o->history_interval : 0;
    s->val_window = o->val_window;
    s->val_step = o->val_step;
    s->eval_threads = o->jobs;
    s->quiet = o->quiet;
    s->overwrite = o->overwrite;
}

int cli_cmd_train(options *o)
{
    if (!o->config || !o->data) {
        fprintf(stderr, "btsp train: CONFIG and --data are required\n");
        return usage(stderr);
    }
    if (!cli_check_val_window(o->val_window, o->val_step, o->samples))
        return 2;
    run_spec s;
    run_result r;
    spec_from_options(o, &s);
    if (!cli_run(&s, NULL, &r)) {
        fprintf(stderr, "btsp: %s\n", r.message);
        return 1;
    }
    print_train_json("train", o, &s, &r);
    return 0;
}

/* The demo: the embedded tiny BTSP network (configs/demo/tiny_btsp.yaml, compiled in) on a
 * synthetic 10-class task generated from the data seed, so it needs no download. */
int cli_cmd_demo(options *o)
{
    run_spec s;
    run_result r;
    o->config = CLI_DEMO_CONFIG;
    o->data = CLI_DEMO_DATA;
    if (!cli_check_val_window(o->val_window, o->val_step, o->samples))
        return 2;
    spec_from_options(o, &s);
    s.report_before = 1;
    if (!cli_run(&s, NULL, &r)) {
        fprintf(stderr, "btsp: %s\n", r.message);
        return 1;
    }
    if (!o->quiet && r.first_sample)
        fprintf(stderr, "btsp demo: test accuracy %.1f%% at the resumed state (%llu samples), %.1f%% after %llu "
                        "samples (chance %.1f%%)\n",
                r.test_acc_before, r.first_sample, r.test_acc, o->samples, 10.0);
    else if (!o->quiet)
        fprintf(stderr, "btsp demo: test accuracy %.1f%% before, %.1f%% after %llu samples (chance %.1f%%)\n",
                r.test_acc_before, r.test_acc, o->samples, 10.0);
    print_train_json("demo", o, &s, &r);
    return 0;
}

static int cmd_eval(options *o)
{
    if (!o->config || !o->weights || !o->data) {
        fprintf(stderr, "btsp eval: CONFIG, WEIGHTS_DIR and --data are required\n");
        return usage(stderr);
    }
    data_split d;
    if (!cli_load_data(o->data, o->data_seed, &d))
        return 1;
    btsp_net *net = cli_load_net(o->config, o->seed, NULL, NULL, 0);
    int rc = 1;
    float *out = NULL;
    char err[1024];
    if (!net || !cli_check_dims(net, &d))
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
    out = malloc((max_rows ? max_rows : 1) * n_out * sizeof *out);
    if (!out)
        goto done;
    double eval_s = 0.0;
    double val_acc = d.val.n ? cli_accuracy(net, &d.val, out, &eval_s, NULL) : NAN;
    double test_acc = cli_accuracy(net, &d.test, out, &eval_s, NULL);
    printf("{");
    cli_json_string(stdout, "command", "eval", 0);
    cli_json_string(stdout, "config", o->config, 0);
    cli_json_string(stdout, "weights", o->weights, 0);
    cli_json_string(stdout, "data", o->data, 0);
    cli_json_number(stdout, "val_accuracy", val_acc, 0);
    cli_json_number(stdout, "test_accuracy", test_acc, 0);
    cli_json_number(stdout, "eval_seconds", eval_s, 1);
    printf("}\n");
    rc = isfinite(test_acc) ? 0 : 1;
done:
    free(out);
    btsp_net_destroy(net);
    cli_split_free(&d);
    return rc;
}

static int cmd_info(options *o)
{
    if (!o->config) {
        fprintf(stderr, "btsp info: CONFIG is required\n");
        return usage(stderr);
    }
    btsp_net *net = cli_load_net(o->config, o->seed, NULL, NULL, 0);
    if (!net)
        return 1;
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
        printf("  %-22s %-4s bounds [%g, %g] rule %s\n", btsp_proj_name(q),
               btsp_proj_compartment(q) == BTSP_DEND ? "dend" : "soma", lo, hi,
               r ? btsp_rule_kind_name(btsp_rule_get_kind(r)) : "(fixed)");
    }
    btsp_net_destroy(net);
    return 0;
}

static int run_command(int argc, char **argv);

int main(int argc, char **argv)
{
    int rc = run_command(argc, argv);
    /* the results are on stdout (its last line is the JSON): a failed write loses them */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "btsp: cannot write the results to standard output: %s\n", strerror(errno));
        if (rc == 0)
            rc = 1;
    }
    return rc;
}

static int run_command(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    const char *cmd = argv[1];
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout); /* `btsp train --help` as well as `btsp --help` */
            return 0;
        }
    options o;
    memset(&o, 0, sizeof o);
    o.samples = 20000;
    o.seed = 66049;
    o.data_seed = 257;
    o.history_interval = CLI_DEFAULT_HISTORY_INTERVAL;
    o.rsm_patterns = 500;
    o.angle_samples = 100;
    o.rf_images = CLI_DEFAULT_RF_IMAGES;
    o.landscape_points = CLI_DEFAULT_LANDSCAPE_POINTS;
    o.landscape_rows = CLI_DEFAULT_LANDSCAPE_ROWS;
    o.seeds = 5;
    o.val_step = CLI_DEFAULT_VAL_STEP;
    o.jobs = 1;
    int first = 2;
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("btsp %s\n", btsp_version_string());
        return 0;
    }
    const char **pos = NULL;
    size_t n_pos = 0;
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
    } else if (strcmp(cmd, "analyze") == 0) {
        if (argc < 3 || argv[2][0] == '-')
            return usage(stderr);
        o.weights = argv[2];
        first = 3;
    } else if (strcmp(cmd, "merge") == 0) {
        if (argc < 4 || argv[2][0] == '-' || argv[3][0] == '-')
            return usage(stderr);
        o.weights = argv[2];
        o.run2 = argv[3];
        first = 4;
    } else if (strcmp(cmd, "demo") == 0) {
        o.samples = 3000;
        o.seed = 1;
        o.data_seed = 2;
    } else if (strcmp(cmd, "compare") == 0) {
        pos = malloc((size_t)argc * sizeof *pos);
        if (!pos)
            return 1;
    } else {
        fprintf(stderr, "btsp: unknown command '%s'\n", cmd);
        return usage(stderr);
    }
    if (!options_apply(cmd, argc, argv, first)) {
        free(pos);
        return 2;
    }
    if (!parse_options(argc, argv, first, &o, pos ? &pos : NULL, &n_pos)) {
        free(pos);
        fprintf(stderr, "btsp: see btsp --help\n");
        return 2;
    }
    if (o.val_step_set && !o.val_window) {
        fprintf(stderr, "btsp: --val-step sets the spacing of --val-window's points; give --val-window too\n");
        free(pos);
        return 2;
    }
    int rc;
    if (strcmp(cmd, "train") == 0)
        rc = cli_cmd_train(&o);
    else if (strcmp(cmd, "eval") == 0)
        rc = cmd_eval(&o);
    else if (strcmp(cmd, "info") == 0)
        rc = cmd_info(&o);
    else if (strcmp(cmd, "analyze") == 0)
        rc = cli_cmd_analyze(&o);
    else if (strcmp(cmd, "merge") == 0)
        rc = cli_cmd_merge(&o);
    else if (strcmp(cmd, "compare") == 0) {
        o.configs = pos;
        o.n_configs = n_pos;
        rc = cli_cmd_compare(&o);
    } else
        rc = cli_cmd_demo(&o);
    free(pos);
    return rc;
}
