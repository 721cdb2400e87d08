/* `btsp compare --data NAME --samples N --seeds K [--out DIR] CONFIG...`: trains every config
 * with the seed pairs (66049 + i, 257 + i), i < K (EIANN's pairing), and prints a table like the
 * paper's accuracy tables: test accuracy mean +- SEM over seeds (SEM = population standard
 * deviation / sqrt(K), as EIANN's generate_model_summary_table), validation accuracy mean and
 * training speed (with --val-window also the mean windowed validation accuracy, EIANN's
 * optimisation objective, see btsp_cli.c). --jobs J trains J runs at once, one thread each (every
 * run has its own networks; the data set is shared read-only), with the same results as one job
 * (the samples/s column then includes the contention). Configs that cannot run (e.g. a rule this build does not implement:
 * BTSP_E_UNSUPPORTED) are reported in their row. The last stdout line is JSON.
 *
 * With --out DIR every run keeps its run directory DIR/<name>/seed<i> (snapshots every
 * --history-interval samples), and DIR gets summary.csv, val_history.csv (all runs, long
 * format), val_history_mean.csv (mean over seeds per config, side by side) and
 * val_history.png; with --analyze also every run's analysis (btsp analyze) and its headline
 * figures side by side: analysis_summary.csv, analysis_means.csv, update_angles_mean.csv/.png. */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include "btsp/btsp_analysis.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SEED0 66049ULL
#define DATA_SEED0 257ULL

typedef struct cfg_result {
    const char *config;
    char name[256];
    char rule[64];
    btsp_status status;
    char message[1024];
    size_t runs;
    double *test, *val, *win, *sps;
    double test_mean, test_sem, val_mean, win_mean, sps_mean;
    unsigned char *analysis_ok; /* --analyze: per seed, 1 if its analysis succeeded */
} cfg_result;

static void config_name(const char *config, char *buf, size_t len)
{
    if (strcmp(config, CLI_DEMO_CONFIG) == 0) {
        snprintf(buf, len, "demo");
        return;
    }
    const char *b = strrchr(config, '/');
    b = b ? b + 1 : config;
    size_t n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".yaml") == 0)
        n -= 5;
    else if (n > 4 && strcmp(b + n - 4, ".yml") == 0)
        n -= 4;
    snprintf(buf, len, "%.*s", (int)n, b);
    for (char *c = buf; *c; c++) /* the name is a CSV field and a directory name */
        if (*c == ',' || *c == '"' || *c == '\n' || *c == '\r')
            *c = '_';
}

static double mean_of(const double *v, size_t n)
{
    double s = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    return k ? s / (double)k : NAN;
}

/* Population standard deviation (ddof 0) / sqrt(n). */
static double sem_of(const double *v, size_t n)
{
    double m = mean_of(v, n), q = 0.0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) {
            q += (v[i] - m) * (v[i] - m);
            k++;
        }
    return k ? sqrt(q / (double)k) / sqrt((double)k) : NAN;
}

static const char *status_word(btsp_status st)
{
    return st == BTSP_OK ? "ok" : st == BTSP_E_UNSUPPORTED ? "unsupported" : "error";
}

/* Rows of a run directory's val_history.csv (samples, val_accuracy, val_loss); 0 if absent. */
static size_t read_val(const char *path, double **rows)
{
    *rows = NULL;
    char *text = cli_read_file(path, NULL);
    if (!text)
        return 0;
    size_t cap = 1, n = 0;
    for (const char *q = text; *q; q++)
        cap += *q == '\n';
    double *v = malloc(cap * 3 * sizeof *v);
    char *line = strchr(text, '\n'); /* skip the header */
    while (v && line && line[1]) {
        line++;
        char *p = line, *q;
        for (int k = 0; k < 3; k++) {
            double x = strtod(p, &q);
            v[n * 3 + k] = q == p ? NAN : x;
            p = strchr(q, ',');
            if (!p) {
                for (int j = k + 1; j < 3; j++)
                    v[n * 3 + j] = NAN;
                break;
            }
            p++;
        }
        n++;
        line = strchr(line, '\n');
    }
    free(text);
    *rows = v;
    return v ? n : 0;
}

/* Per-configuration means over seeds on a common grid of samples (the snapshots of the first
 * run read: every run of one compare has the same --samples and --history-interval), side by
 * side. side_grid() sets the grid once, side_add() adds a finite value at a grid point,
 * side_write() writes `csv` (samples, then one column per config) and the line plot `png`. */
typedef struct side_acc {
    size_t n_cfg, n_pts;
    float *grid, *sum; /* sum: config-major, n_cfg x n_pts */
    double *cnt;
    int ok;
} side_acc;

/* 1 if the grid is not set yet and now has room for n points, which the caller fills in
 * a->grid; 0 otherwise (already set, n = 0, or out of memory: a->ok = 0). */
static int side_grid(side_acc *a, size_t n)
{
    if (a->grid || !n || !a->ok)
        return 0;
    a->grid = malloc(n * sizeof *a->grid);
    a->sum = calloc(n * a->n_cfg, sizeof *a->sum);
    a->cnt = calloc(n * a->n_cfg, sizeof *a->cnt);
    if (!a->grid || !a->sum || !a->cnt) {
        a->ok = 0;
        return 0;
    }
    a->n_pts = n;
    return 1;
}

static void side_add(side_acc *a, size_t c, float x, double y)
{
    for (size_t k = 0; k < a->n_pts; k++)
        if (a->grid[k] == x && isfinite(y)) {
            a->sum[c * a->n_pts + k] += (float)y;
            a->cnt[c * a->n_pts + k] += 1.0;
        }
}

/* Writes the means (if any point was set) and frees a; 0 if a file failed. */
static int side_write(const options *o, const cfg_result *res, side_acc *a, const char *csv, const char *png,
                      const char *title, const char *y_label, double y_hi)
{
    char path[4096];
    int ok = a->ok;
    size_t n_cfg = a->n_cfg, n_pts = a->n_pts;
    float *means = a->sum, *grid = a->grid;
    for (size_t k = 0; k < n_pts * n_cfg; k++)
        means[k] = a->cnt[k] > 0.0 ? (float)(means[k] / a->cnt[k]) : NAN;
    FILE *f = ok && n_pts && cli_path(path, sizeof path, o->out, csv) ? fopen(path, "w") : NULL;
    if (ok && n_pts && !f)
        ok = 0;
    if (f) {
        fputs("samples", f);
        for (size_t c = 0; c < n_cfg; c++)
            fprintf(f, ",%s", res[c].name);
        fputc('\n', f);
        for (size_t k = 0; k < n_pts; k++) {
            fprintf(f, "%.0f", (double)grid[k]);
            for (size_t c = 0; c < n_cfg; c++) {
                fputc(',', f);
                cli_csv_number(f, means[c * n_pts + k]);
            }
            fputc('\n', f);
        }
        const char **names = malloc(n_cfg * sizeof *names);
        for (size_t c = 0; names && c < n_cfg; c++)
            names[c] = res[c].name;
        const btsp_an_plot_labels lb = {title, "training samples", y_label, names};
        ok = fclose(f) == 0 && (!cli_path(path, sizeof path, o->out, png) ||
                                cli_plot_lines(path, &lb, grid, means, n_cfg, n_pts, 0.0, y_hi) >= 0);
        free(names);
    }
    free(a->grid);
    free(a->sum);
    free(a->cnt);
    return ok;
}

/* Side-by-side validation histories of the kept run directories: every run (long format), the
 * mean over seeds per config, and a plot of the means. */
static int write_histories(const options *o, const cfg_result *res, size_t n_cfg)
{
    char path[4096], sub[512];
    if (!cli_path(path, sizeof path, o->out, "val_history.csv"))
        return 0;
    FILE *lf = fopen(path, "w");
    if (!lf) {
        fprintf(stderr, "btsp: cannot write %s\n", path);
        return 0;
    }
    fputs("config,seed,data_seed,samples,val_accuracy,val_loss\n", lf);
    side_acc acc = {n_cfg, 0, NULL, NULL, NULL, 1};
    int ok = 1;
    for (size_t c = 0; c < n_cfg && ok; c++) {
        for (size_t i = 0; i < res[c].runs && ok; i++) {
            snprintf(sub, sizeof sub, "%s/seed%zu/val_history.csv", res[c].name, i);
            double *v = NULL;
            size_t n = cli_path(path, sizeof path, o->out, sub) ? read_val(path, &v) : 0;
            if (side_grid(&acc, n))
                for (size_t r = 0; r < n; r++)
                    acc.grid[r] = (float)v[r * 3];
            for (size_t r = 0; r < n; r++) {
                fprintf(lf, "%s,%llu,%llu,%.0f,", res[c].name, SEED0 + i, DATA_SEED0 + i, v[r * 3]);
                cli_csv_number(lf, v[r * 3 + 1]);
                fputc(',', lf);
                cli_csv_number(lf, v[r * 3 + 2]);
                fputc('\n', lf);
                side_add(&acc, c, (float)v[r * 3], v[r * 3 + 1]);
            }
            free(v);
        }
    }
    if (fclose(lf) != 0)
        ok = 0;
    ok = side_write(o, res, &acc, "val_history_mean.csv", "val_history.png", "Validation accuracy, mean over seeds",
                    "accuracy (%)", 100.0) &&
         ok;
    if (!ok)
        fprintf(stderr, "btsp: writing the comparison histories in %s failed\n", o->out);
    return ok;
}

static int write_summary(const options *o, const cfg_result *res, size_t n_cfg)
{
    char path[4096];
    if (!cli_path(path, sizeof path, o->out, "summary.csv"))
        return 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "btsp: cannot write %s\n", path);
        return 0;
    }
    fputs("config,file,rule,status,runs,test_accuracy_mean,test_accuracy_sem,val_accuracy_mean,"
          "val_window_accuracy_mean,samples_per_second,test_accuracies\n",
          f);
    for (size_t c = 0; c < n_cfg; c++) {
        const cfg_result *r = res + c;
        fprintf(f, "%s,%s,%s,%s,%zu,", r->name, r->config, r->rule, status_word(r->status), r->runs);
        cli_csv_number(f, r->test_mean);
        fputc(',', f);
        cli_csv_number(f, r->test_sem);
        fputc(',', f);
        cli_csv_number(f, r->val_mean);
        fputc(',', f);
        cli_csv_number(f, r->win_mean);
        fputc(',', f);
        cli_csv_number(f, r->sps_mean);
        fputc(',', f);
        for (size_t i = 0; i < r->runs; i++)
            fprintf(f, "%s%.4g", i ? ";" : "", r->test[i]);
        fputc('\n', f);
    }
    return fclose(f) == 0;
}

/* ---- the runs: n_cfg x K tasks, run by --jobs worker threads ---- */

typedef struct task {
    size_t cfg, seed; /* config index, seed pair */
    int done, ok;
    run_result rr;
} task;

typedef struct task_queue {
    const options *o;
    const data_split *d;
    int is_demo;
    cfg_result *res;
    task *tasks;
    size_t n_tasks, next;
    int *failed; /* per config: a seed failed, later seeds are skipped */
    pthread_mutex_t lock;
} task_queue;

/* One training run (seed pair t->seed of config t->cfg). */
static void run_task(task_queue *q, task *t)
{
    const options *o = q->o;
    const cfg_result *r = q->res + t->cfg;
    char out[4096];
    run_spec s;
    memset(&s, 0, sizeof s);
    s.config = r->config;
    s.data = o->data;
    s.samples = o->samples;
    s.seed = SEED0 + t->seed;
    s.data_seed = DATA_SEED0 + t->seed;
    s.quiet = 1;
    s.torch_rng = o->rng && strcmp(o->rng, "torch") == 0;
    s.val_window = o->val_window;
    s.val_step = o->val_step;
    if (o->out) {
        snprintf(out, sizeof out, "%s/%s/seed%zu", o->out, r->name, t->seed);
        s.out = out;
        s.overwrite = o->overwrite; /* else DIR was new or empty, so this run's directory is new */
        s.history_interval = o->history_interval;
        s.plateau_pop = o->plateau_pop;
    }
    if (!o->quiet)
        fprintf(stderr, "btsp compare: %s, seed %llu / %llu ...\n", r->name, s.seed, s.data_seed);
    data_split dd;
    const data_split *use = q->d;
    if (q->is_demo) {
        if (!cli_load_data(o->data, s.data_seed, &dd)) {
            memset(&t->rr, 0, sizeof t->rr);
            t->rr.status = BTSP_E_NOT_FOUND;
            snprintf(t->rr.message, sizeof t->rr.message, "cannot make the demo data set");
            snprintf(t->rr.rule, sizeof t->rr.rule, "-");
            t->ok = 0;
            return;
        }
        use = &dd;
    }
    t->ok = cli_run(&s, use, &t->rr);
    if (q->is_demo)
        cli_split_free(&dd);
    if (o->quiet)
        return;
    if (t->ok)
        fprintf(stderr, "btsp compare: %s seed %llu: test %.2f%%, %.0f samples/s\n", r->name, s.seed,
                t->rr.test_acc, t->rr.samples_per_s);
    else
        fprintf(stderr, "btsp compare: %s: %s\n", r->name, t->rr.message);
}

static void *worker(void *arg)
{
    task_queue *q = arg;
    for (;;) {
        task *t = NULL;
        pthread_mutex_lock(&q->lock);
        while (q->next < q->n_tasks && !t) {
            task *c = q->tasks + q->next++;
            if (!q->failed[c->cfg])
                t = c;
        }
        pthread_mutex_unlock(&q->lock);
        if (!t)
            return NULL;
        run_task(q, t);
        pthread_mutex_lock(&q->lock);
        t->done = 1;
        if (!t->ok)
            q->failed[t->cfg] = 1;
        pthread_mutex_unlock(&q->lock);
    }
}

/* Run every (config, seed) task, config by config in seed order, --jobs at a time; then collect
 * each config's results in seed order up to its first failure (as a sequential run would: with
 * one job the seeds after a failure are not run, with more they may have run and are ignored). */
static int run_tasks(const options *o, const data_split *d, int is_demo, cfg_result *res, size_t n_cfg, size_t K)
{
    task_queue q;
    memset(&q, 0, sizeof q);
    q.o = o;
    q.d = d;
    q.is_demo = is_demo;
    q.res = res;
    q.n_tasks = n_cfg * K;
    q.tasks = calloc(q.n_tasks, sizeof *q.tasks);
    q.failed = calloc(n_cfg, sizeof *q.failed);
    if (!q.tasks || !q.failed || pthread_mutex_init(&q.lock, NULL) != 0) {
        free(q.tasks);
        free(q.failed);
        fprintf(stderr, "btsp: out of memory\n");
        return 0;
    }
    for (size_t c = 0; c < n_cfg; c++)
        for (size_t i = 0; i < K; i++) {
            q.tasks[c * K + i].cfg = c;
            q.tasks[c * K + i].seed = i;
        }
    size_t jobs = o->jobs > q.n_tasks ? q.n_tasks : (size_t)o->jobs;
    cli_parallel(worker, &q, 0, jobs); /* every worker takes tasks from the one queue */
    pthread_mutex_destroy(&q.lock);
    for (size_t c = 0; c < n_cfg; c++) {
        cfg_result *r = res + c;
        for (size_t i = 0; i < K; i++) {
            const task *t = q.tasks + c * K + i;
            if (!t->done)
                break;
            snprintf(r->rule, sizeof r->rule, "%s", t->rr.rule);
            if (!t->ok) {
                r->status = t->rr.status ? t->rr.status : BTSP_E_INTERNAL;
                snprintf(r->message, sizeof r->message, "%s", t->rr.message);
                break;
            }
            r->test[r->runs] = t->rr.test_acc;
            r->val[r->runs] = t->rr.val_acc;
            r->win[r->runs] = t->rr.val_window_acc;
            r->sps[r->runs] = t->rr.samples_per_s;
            r->runs++;
        }
    }
    free(q.tasks);
    free(q.failed);
    return 1;
}

/* One headline figure of the analyses (a row key of summary.csv) and its value per seed. */
typedef struct an_entry {
    size_t cfg;
    char kind[32], item[256], metric[32];
    double *v; /* K values, NaN where a seed has none */
} an_entry;

/* update_angles_mean.csv and .png: per configuration and snapshot, the update angle vs backprop
 * averaged over the analysed projections (the mean of a run's finite angle columns of
 * analysis/update_angles.csv: samples, then angle and step count per projection), then over the
 * seeds whose analysis succeeded, side by side as val_history_mean.csv. */
static int update_angle_means(const options *o, const cfg_result *res, size_t n_cfg)
{
    char path[4096];
    side_acc acc = {n_cfg, 0, NULL, NULL, NULL, 1};
    for (size_t c = 0; c < n_cfg; c++)
        for (size_t i = 0; i < res[c].runs; i++) {
            cli_csv_table t;
            snprintf(path, sizeof path, "%s/%s/seed%zu/analysis/update_angles.csv", o->out, res[c].name, i);
            if (!res[c].analysis_ok[i] || !cli_csv_read(path, &t))
                continue; /* failed analysis (a partial file may be there), no snapshots, --angle-samples 0 */
            if (side_grid(&acc, t.n_rows))
                for (size_t r = 0; r < t.n_rows; r++)
                    acc.grid[r] = t.v[r * t.n_cols];
            for (size_t r = 0; r < t.n_rows; r++) {
                const float *row = t.v + r * t.n_cols;
                double sum = 0.0, k = 0.0;
                for (size_t j = 1; j < t.n_cols; j += 2)
                    if (isfinite(row[j])) {
                        sum += row[j];
                        k += 1.0;
                    }
                side_add(&acc, c, row[0], k > 0.0 ? sum / k : NAN);
            }
            cli_csv_free(&t);
        }
    int ok = side_write(o, res, &acc, "update_angles_mean.csv", "update_angles_mean.png",
                        "Update angle vs backprop, mean over projections and seeds", "angle (degrees)", 120.0);
    if (!ok)
        fprintf(stderr, "btsp: writing %s/update_angles_mean.csv failed\n", o->out);
    return ok;
}

/* --analyze: `btsp analyze` (with the analyze options given to compare) on every kept run
 * directory, then the rows of each run's analysis/summary.csv side by side: DIR/analysis_summary.csv
 * (config,seed,kind,item,metric,value) and DIR/analysis_means.csv (config,kind,item,metric,mean,
 * sem,n over seeds), and on stdout a table of the E populations' representations and the update
 * angles vs backprop. Returns 0 if an analysis or a file failed. */
static int analyze_runs(const options *o, cfg_result *res, size_t n_cfg, size_t K)
{
    char path[4096], line[1024], dir[4000];
    an_entry *e = NULL;
    size_t n_e = 0, cap = 0;
    int ok = 1;
    FILE *lf = cli_path(path, sizeof path, o->out, "analysis_summary.csv") ? fopen(path, "w") : NULL;
    if (!lf) {
        fprintf(stderr, "btsp: cannot write %s/analysis_summary.csv\n", o->out);
        return 0;
    }
    fputs("config,seed,kind,item,metric,value\n", lf);
    for (size_t c = 0; c < n_cfg; c++)
        for (size_t i = 0; i < res[c].runs && !res[c].status; i++) {
            snprintf(dir, sizeof dir, "%s/%s/seed%zu", o->out, res[c].name, i);
            options ao = *o;
            ao.weights = dir;
            ao.no_json = 1;
            fprintf(stderr, "btsp compare: analysing %s\n", dir);
            if (cli_cmd_analyze(&ao) != 0) {
                fprintf(stderr, "btsp compare: the analysis of %s failed\n", dir);
                ok = 0;
                continue;
            }
            res[c].analysis_ok[i] = 1;
            snprintf(path, sizeof path, "%s/analysis/summary.csv", dir);
            FILE *f = fopen(path, "r");
            if (!f || !fgets(line, sizeof line, f)) { /* the header */
                fprintf(stderr, "btsp compare: cannot read %s\n", path);
                if (f)
                    fclose(f);
                ok = 0;
                continue;
            }
            while (fgets(line, sizeof line, f)) {
                char kind[32], item[256], metric[32];
                int used = 0;
                if (sscanf(line, "%31[^,],%255[^,],%31[^,],%n", kind, item, metric, &used) != 3 || !used)
                    continue; /* not a row of ours (names are at most 255 characters here) */
                /* the value: empty (cli_csv_number's NaN), a number, inf or -inf */
                char *end;
                double v = strtod(line + used, &end);
                if (end == line + used)
                    v = NAN;
                fprintf(lf, "%s,%zu,%s,%s,%s,", res[c].name, i, kind, item, metric);
                cli_csv_number(lf, v);
                fputc('\n', lf);
                size_t k = 0;
                while (k < n_e && !(e[k].cfg == c && !strcmp(e[k].kind, kind) && !strcmp(e[k].item, item) &&
                                    !strcmp(e[k].metric, metric)))
                    k++;
                if (k == n_e) {
                    if (n_e == cap) {
                        an_entry *ne = realloc(e, (cap ? 2 * cap : 64) * sizeof *e);
                        if (!ne) {
                            ok = 0;
                            break;
                        }
                        e = ne;
                        cap = cap ? 2 * cap : 64;
                    }
                    e[n_e] = (an_entry){c, "", "", "", malloc(K * sizeof(double))};
                    if (!e[n_e].v) {
                        ok = 0;
                        break;
                    }
                    snprintf(e[n_e].kind, sizeof e[n_e].kind, "%s", kind);
                    snprintf(e[n_e].item, sizeof e[n_e].item, "%s", item);
                    snprintf(e[n_e].metric, sizeof e[n_e].metric, "%s", metric);
                    for (size_t q = 0; q < K; q++)
                        e[n_e].v[q] = NAN;
                    n_e++;
                }
                e[k].v[i] = v;
            }
            fclose(f);
        }
    ok = fclose(lf) == 0 && ok;
    ok = update_angle_means(o, res, n_cfg) && ok;
    FILE *mf = cli_path(path, sizeof path, o->out, "analysis_means.csv") ? fopen(path, "w") : NULL;
    if (!mf) {
        fprintf(stderr, "btsp: cannot write %s/analysis_means.csv\n", o->out);
        ok = 0;
    } else {
        fputs("config,kind,item,metric,mean,sem,n\n", mf);
        for (size_t k = 0; k < n_e; k++) {
            size_t n = 0;
            for (size_t q = 0; q < K; q++)
                n += isfinite(e[k].v[q]) != 0;
            fprintf(mf, "%s,%s,%s,%s,", res[e[k].cfg].name, e[k].kind, e[k].item, e[k].metric);
            cli_csv_number(mf, mean_of(e[k].v, K));
            fputc(',', mf);
            cli_csv_number(mf, sem_of(e[k].v, K));
            fprintf(mf, ",%zu\n", n);
        }
        ok = fclose(mf) == 0 && ok;
    }
    /* the side-by-side table: E populations (sparsity, selectivity, discriminability, PR) and
     * update angles at the last snapshot, mean +- SEM over seeds */
    printf("analyses (btsp analyze of every run; mean +- SEM over seeds; all rows in %s/analysis_means.csv)\n",
           o->out);
    size_t wname = 6;
    for (size_t c = 0; c < n_cfg; c++)
        wname = strlen(res[c].name) > wname ? strlen(res[c].name) : wname;
    for (size_t c = 0; c < n_cfg; c++)
        for (size_t k = 0; k < n_e; k++) {
            const an_entry *x = e + k;
            size_t len = strlen(x->item);
            int e_pop = !strcmp(x->kind, "representation") && len > 2 && !strcmp(x->item + len - 2, ".E");
            int angle = !strcmp(x->kind, "update_angle") && !strcmp(x->metric, "last_snapshot");
            int fb = !strcmp(x->kind, "feedback_angle");
            if (x->cfg != c || !(e_pop || angle || fb))
                continue;
            size_t n = 0;
            for (size_t q = 0; q < K; q++)
                n += isfinite(x->v[q]) != 0;
            printf("  %-*s  %-14s  %-20s  %-19s  %.3f +- %.3f  (n = %zu)\n", (int)wname, res[c].name, x->kind,
                   x->item, x->metric, mean_of(x->v, K), sem_of(x->v, K), n);
        }
    for (size_t k = 0; k < n_e; k++)
        free(e[k].v);
    free(e);
    return ok;
}

int cli_cmd_compare(options *o)
{
    if (!o->data || o->n_configs == 0) {
        fprintf(stderr, "btsp compare: --data and at least one CONFIG are required\n");
        return 2;
    }
    if (!cli_check_val_window(o->val_window, o->val_step, o->samples))
        return 2;
    if (o->analyze && !o->out) {
        fprintf(stderr, "btsp compare: --analyze analyses the run directories: give --out DIR\n");
        return 2;
    }
    char msg[1024];
    if (o->out && !cli_out_usable(o->out, o->overwrite, msg, sizeof msg)) {
        fprintf(stderr, "btsp compare: %s\n", msg);
        return 1;
    }
    size_t n_cfg = o->n_configs, K = (size_t)o->seeds;
    cfg_result *res = calloc(n_cfg, sizeof *res);
    if (!res) {
        fprintf(stderr, "btsp compare: out of memory\n");
        return 1;
    }
    int rc = 1, is_demo = strcmp(o->data, CLI_DEMO_DATA) == 0;
    data_split d;
    memset(&d, 0, sizeof d);
    if (!is_demo && !cli_load_data(o->data, DATA_SEED0, &d))
        goto done;
    if (o->out && !cli_make_dir(o->out))
        goto done;
    for (size_t c = 0; c < n_cfg; c++) {
        cfg_result *r = res + c;
        r->config = o->configs[c];
        config_name(r->config, r->name, sizeof r->name);
        for (size_t j = 0; j < c; j++)
            if (strcmp(res[j].name, r->name) == 0) {
                size_t len = strlen(r->name);
                snprintf(r->name + len, sizeof r->name - len, "_%zu", c + 1);
                break;
            }
        snprintf(r->rule, sizeof r->rule, "-");
        r->test = calloc(K, sizeof *r->test);
        r->val = calloc(K, sizeof *r->val);
        r->win = calloc(K, sizeof *r->win);
        r->sps = calloc(K, sizeof *r->sps);
        r->analysis_ok = calloc(K, sizeof *r->analysis_ok);
        if (!r->test || !r->val || !r->win || !r->sps || !r->analysis_ok) {
            fprintf(stderr, "btsp compare: out of memory (%zu seed pairs)\n", K);
            goto done;
        }
    }
    if (!run_tasks(o, &d, is_demo, res, n_cfg, K))
        goto done;
    for (size_t c = 0; c < n_cfg; c++) {
        cfg_result *r = res + c;
        r->test_mean = r->runs ? mean_of(r->test, r->runs) : NAN;
        r->test_sem = r->runs ? sem_of(r->test, r->runs) : NAN;
        r->val_mean = r->runs ? mean_of(r->val, r->runs) : NAN;
        r->win_mean = r->runs ? mean_of(r->win, r->runs) : NAN;
        r->sps_mean = r->runs ? mean_of(r->sps, r->runs) : NAN;
    }
    /* the table */
    size_t wname = 6;
    for (size_t c = 0; c < n_cfg; c++)
        wname = strlen(res[c].name) > wname ? strlen(res[c].name) : wname;
    const char *rng = o->rng ? o->rng : "counter";
    printf("%s accuracy (%llu samples), mean +- SEM over %zu seed pairs, %s random numbers\n", o->data, o->samples,
           K, rng);
    int win = o->val_window > 0;
    if (win)
        printf("val window: mean validation accuracy after the last %llu samples, every %llu\n", o->val_window,
               o->val_step);
    printf("%-*s  %-28s  %-18s  %-8s  %s%s\n", (int)wname, "config", "rule", "test acc (%)", "val acc",
           win ? "val win   " : "", "samples/s");
    for (size_t c = 0; c < n_cfg; c++) {
        const cfg_result *r = res + c;
        if (r->status) {
            printf("%-*s  %-28s  %s: %s\n", (int)wname, r->name, r->rule, status_word(r->status), r->message);
            continue;
        }
        char acc[64], val[32], wv[32] = "";
        snprintf(acc, sizeof acc, "%.2f +- %.2f", r->test_mean, r->test_sem);
        if (isfinite(r->val_mean))
            snprintf(val, sizeof val, "%.2f", r->val_mean);
        else
            snprintf(val, sizeof val, "n/a");
        if (win)
            snprintf(wv, sizeof wv, "%-8.2f  ", r->win_mean);
        printf("%-*s  %-28s  %-18s  %-8s  %s%.0f\n", (int)wname, r->name, r->rule, acc, val, wv, r->sps_mean);
    }
    int files_ok = 1;
    if (o->out) {
        files_ok = write_summary(o, res, n_cfg);
        files_ok = write_histories(o, res, n_cfg) && files_ok;
        if (o->analyze)
            files_ok = analyze_runs(o, res, n_cfg, K) && files_ok;
    }
    printf("{");
    cli_json_string(stdout, "command", "compare", 0);
    cli_json_string(stdout, "data", o->data, 0);
    printf("\"samples\": %llu, \"seeds\": %zu, ", o->samples, K);
    cli_json_string(stdout, "rng", rng, 0);
    if (o->out)
        cli_json_string(stdout, "out", o->out, 0);
    printf("\"results\": [");
    for (size_t c = 0; c < n_cfg; c++) {
        const cfg_result *r = res + c;
        printf("%s{", c ? ", " : "");
        cli_json_string(stdout, "name", r->name, 0);
        cli_json_string(stdout, "config", r->config, 0);
        cli_json_string(stdout, "rule", r->rule, 0);
        cli_json_string(stdout, "status", status_word(r->status), 0);
        if (r->status)
            cli_json_string(stdout, "message", r->message, 0);
        printf("\"runs\": %zu, \"test_accuracies\": [", r->runs);
        for (size_t i = 0; i < r->runs; i++)
            printf("%s%.6g", i ? ", " : "", r->test[i]);
        printf("], ");
        cli_json_number(stdout, "test_accuracy_mean", r->test_mean, 0);
        cli_json_number(stdout, "test_accuracy_sem", r->test_sem, 0);
        cli_json_number(stdout, "val_accuracy_mean", r->val_mean, 0);
        if (win)
            cli_json_number(stdout, "val_window_accuracy_mean", r->win_mean, 0);
        if (o->analyze) {
            size_t n_ok = 0;
            for (size_t i = 0; i < K; i++)
                n_ok += r->analysis_ok[i];
            printf("\"analyzed_runs\": %zu, ", n_ok);
        }
        cli_json_number(stdout, "samples_per_second", r->sps_mean, 1);
        printf("}");
    }
    printf("]}\n");
    int all_ok = 1;
    for (size_t c = 0; c < n_cfg; c++)
        all_ok = all_ok && res[c].status == 0;
    if (!all_ok)
        fprintf(stderr, "btsp compare: not every configuration ran (see its row)\n");
    rc = files_ok && all_ok ? 0 : 1;
done:
    for (size_t c = 0; c < n_cfg; c++) {
        free(res[c].test);
        free(res[c].val);
        free(res[c].win);
        free(res[c].sps);
        free(res[c].analysis_ok);
    }
    free(res);
    cli_split_free(&d);
    return rc;
}
