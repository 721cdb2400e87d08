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
    size_t analyzed; /* --analyze: runs whose analysis succeeded */
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

/* Side-by-side validation histories of the kept run directories: every run (long format), the
 * mean over seeds per config on the snapshot grid of the first run, and a plot of the means. */
/* Per-configuration means over seeds at common points, side by side: means (config-major,
 * n_cfg x n_pts sums) is divided by cnt in place (NaN where 0); writes `csv` (samples, then one
 * column per config) and the line plot `png` with y range [0, y_hi]. */
static int write_side_by_side(const options *o, const cfg_result *res, size_t n_cfg, const float *grid,
                              float *means, const double *cnt, size_t n_pts, const char *csv, const char *png,
                              double y_hi)
{
    char path[4096];
    for (size_t k = 0; k < n_pts * n_cfg; k++)
        means[k] = cnt[k] > 0.0 ? (float)(means[k] / cnt[k]) : NAN;
    FILE *f = cli_path(path, sizeof path, o->out, csv) ? fopen(path, "w") : NULL;
    if (!f)
        return 0;
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
    if (fclose(f) != 0)
        return 0;
    return !cli_path(path, sizeof path, o->out, png) || cli_plot_lines(path, grid, means, n_cfg, n_pts, 0.0, y_hi);
}

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
    size_t n_pts = 0;
    float *grid = NULL, *means = NULL;
    double *cnt = NULL;
    int ok = 1;
    for (size_t c = 0; c < n_cfg && ok; c++) {
        for (size_t i = 0; i < res[c].runs && ok; i++) {
            snprintf(sub, sizeof sub, "%s/seed%zu/val_history.csv", res[c].name, i);
            double *v = NULL;
            size_t n = cli_path(path, sizeof path, o->out, sub) ? read_val(path, &v) : 0;
            if (n && !grid) {
                n_pts = n;
                grid = malloc(n_pts * sizeof *grid);
                means = malloc(n_pts * n_cfg * sizeof *means);
                cnt = calloc(n_pts * n_cfg, sizeof *cnt);
                if (!grid || !means || !cnt)
                    ok = 0;
                for (size_t k = 0; ok && k < n_pts; k++)
                    grid[k] = (float)v[k * 3];
                for (size_t k = 0; ok && k < n_pts * n_cfg; k++)
                    means[k] = 0.0f;
            }
            for (size_t r = 0; ok && r < n; r++) {
                fprintf(lf, "%s,%llu,%llu,%.0f,", res[c].name, SEED0 + i, DATA_SEED0 + i, v[r * 3]);
                cli_csv_number(lf, v[r * 3 + 1]);
                fputc(',', lf);
                cli_csv_number(lf, v[r * 3 + 2]);
                fputc('\n', lf);
                for (size_t k = 0; k < n_pts; k++)
                    if (grid[k] == (float)v[r * 3] && isfinite(v[r * 3 + 1])) {
                        means[c * n_pts + k] += (float)v[r * 3 + 1];
                        cnt[c * n_pts + k] += 1.0;
                    }
            }
            free(v);
        }
    }
    if (fclose(lf) != 0)
        ok = 0;
    if (ok && n_pts)
        ok = write_side_by_side(o, res, n_cfg, grid, means, cnt, n_pts, "val_history_mean.csv", "val_history.png",
                                100.0);
    free(grid);
    free(means);
    free(cnt);
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

/* The comma-separated numbers of one CSV line into v (at most max; an empty field is NaN).
 * Returns the number of fields. */
static size_t csv_numbers(const char *line, double *v, size_t max)
{
    size_t n = 0;
    const char *p = line;
    while (n < max) {
        char *end;
        double x = strtod(p, &end);
        v[n++] = end == p ? NAN : x;
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    return n;
}

/* update_angles_mean.csv and .png: per configuration and snapshot, the update angle vs backprop
 * averaged over the analysed projections (the mean of a run's finite columns of
 * analysis/update_angles.csv), then over the seeds, side by side as val_history_mean.csv. */
static int update_angle_means(const options *o, const cfg_result *res, size_t n_cfg, size_t K,
                              const unsigned char *done)
{
    enum { MAXCOL = 256 };
    char path[4096], *line = malloc(65536);
    double *v = malloc(MAXCOL * sizeof *v);
    float *grid = NULL, *means = NULL;
    double *cnt = NULL;
    size_t n_pts = 0;
    int ok = line && v;
    for (size_t c = 0; ok && c < n_cfg; c++)
        for (size_t i = 0; ok && i < res[c].runs; i++) {
            if (!done[c * K + i])
                continue; /* its analysis failed: a partial update_angles.csv may be there */
            snprintf(path, sizeof path, "%s/%s/seed%zu/analysis/update_angles.csv", o->out, res[c].name, i);
            FILE *f = fopen(path, "r");
            if (!f)
                continue; /* no snapshots or --angle-samples 0 */
            if (!fgets(line, 65536, f)) {
                fclose(f);
                continue;
            }
            while (ok && fgets(line, 65536, f)) {
                size_t m = csv_numbers(line, v, MAXCOL);
                double sum = 0.0, k = 0.0;
                for (size_t j = 1; j < m; j += 2) /* angle columns; the next is its step count */
                    if (isfinite(v[j])) {
                        sum += v[j];
                        k += 1.0;
                    }
                size_t pt = 0;
                while (pt < n_pts && grid[pt] != (float)v[0])
                    pt++;
                if (pt == n_pts) { /* a new snapshot: insert it in order (runs may differ) */
                    size_t ins = 0, n1 = n_pts + 1;
                    while (ins < n_pts && grid[ins] < (float)v[0])
                        ins++;
                    float *g = malloc(n1 * sizeof *g), *mm = malloc(n1 * n_cfg * sizeof *mm);
                    double *cc = malloc(n1 * n_cfg * sizeof *cc);
                    if (!g || !mm || !cc) {
                        free(g);
                        free(mm);
                        free(cc);
                        ok = 0;
                        break;
                    }
                    for (size_t t = 0; t < n1; t++) /* old point t' lands at t' or t' + 1 */
                        g[t] = t < ins ? grid[t] : t == ins ? (float)v[0] : grid[t - 1];
                    for (size_t q = 0; q < n_cfg; q++)
                        for (size_t t = 0; t < n1; t++) {
                            mm[q * n1 + t] = t < ins ? means[q * n_pts + t] : t == ins ? 0.0f : means[q * n_pts + t - 1];
                            cc[q * n1 + t] = t < ins ? cnt[q * n_pts + t] : t == ins ? 0.0 : cnt[q * n_pts + t - 1];
                        }
                    free(grid);
                    free(means);
                    free(cnt);
                    grid = g;
                    means = mm;
                    cnt = cc;
                    n_pts = n1;
                    pt = ins;
                }
                if (k > 0.0) {
                    means[c * n_pts + pt] += (float)(sum / k);
                    cnt[c * n_pts + pt] += 1.0;
                }
            }
            fclose(f);
        }
    if (ok && n_pts)
        ok = write_side_by_side(o, res, n_cfg, grid, means, cnt, n_pts, "update_angles_mean.csv",
                                "update_angles_mean.png", 120.0);
    if (!ok)
        fprintf(stderr, "btsp: writing %s/update_angles_mean.csv failed\n", o->out);
    free(line);
    free(v);
    free(grid);
    free(means);
    free(cnt);
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
    size_t n_done = n_cfg * K;
    unsigned char *done = calloc(n_done ? n_done : 1, 1); /* per config and seed: analysed */
    int ok = done != NULL;
    FILE *lf = cli_path(path, sizeof path, o->out, "analysis_summary.csv") ? fopen(path, "w") : NULL;
    if (!lf) {
        fprintf(stderr, "btsp: cannot write %s/analysis_summary.csv\n", o->out);
        free(done);
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
            res[c].analyzed++;
            if (done)
                done[c * K + i] = 1;
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
    ok = done && update_angle_means(o, res, n_cfg, K, done) && ok;
    free(done);
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
    size_t n_cfg = o->n_configs, K = (size_t)o->seeds;
    cfg_result *res = calloc(n_cfg, sizeof *res);
    if (!res)
        return 1;
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
        if (!r->test || !r->val || !r->win || !r->sps)
            goto done;
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
        if (o->analyze)
            printf("\"analyzed_runs\": %zu, ", r->analyzed);
        cli_json_number(stdout, "samples_per_second", r->sps_mean, 1);
        printf("}");
    }
    printf("]}\n");
    rc = files_ok ? 0 : 1;
done:
    for (size_t c = 0; c < n_cfg; c++) {
        free(res[c].test);
        free(res[c].val);
        free(res[c].win);
        free(res[c].sps);
    }
    free(res);
    cli_split_free(&d);
    return rc;
}
