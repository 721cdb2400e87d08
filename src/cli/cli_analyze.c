/* `btsp analyze RUN_DIR`: analyses of a run directory written by `btsp train --out` (or
 * `btsp demo --out`), into RUN_DIR/analysis/ (formulas and file list: docs/analysis.md):
 *
 *   summary.csv               kind,item,metric,value: the headline figures in one table
 *   accuracy_history.csv      samples,test_accuracy,test_loss,val_accuracy per snapshot
 *   weight_norms.csv          samples, Frobenius norm of every projection per snapshot
 *   feedback_angles.csv       samples, angle(W, B^T) for every learned forward projection W
 *                             whose reverse projection B targets the dendrite, and "all"
 *   distinct_units.csv        samples, number of distinct rows (postsynaptic units told apart
 *                             by their incoming weights) of every projection per snapshot
 *   update_angles.csv         samples, per learned inter-layer soma projection: mean angle
 *                             between the actual update of a training step and the backprop
 *                             update (-dL/dW, btsp_net_loss_gradient) from the same weights and
 *                             sample, over --angle-samples training steps from each snapshot
 *   representation.csv        per population, final weights, test set: sparsity,
 *                             selectivity, discriminability, within/between-class similarity,
 *                             participation ratios
 *   sparsity_<P>.npy, selectivity_<P>.npy, class_activity_<P>.npy (+ _order),
 *   rsm_class_<P>.npy, rsm_<P>.npy (+ rsm_labels.npy)
 *   representation_history.csv  per snapshot and population: mean sparsity, selectivity,
 *                             discriminability on the test set
 *   equilibration.csv         per population: relative change of the mean activity over the
 *                             last two forward steps (EIANN's equilibration check), residual
 *   rf_structure.csv          |Moran's I| of every first-layer receptive field, and the mean
 *   plateaus_sorted_<P>.npy   plateau raster sorted by class (+ _labels, _units, .png)
 *   dend_history_binned.csv   mean |forward dendritic state| in bins of 100 samples
 *   loss_binned.csv           training loss in bins of 100 samples
 *   train_accuracy_binned.csv training accuracy in bins of 100 samples (from train_output.npy)
 *   feedback_update_angles.csv angle between the updates of W and B^T between snapshots
 *   landscape_*.{npy,csv,png} loss landscape along the first two PCs of the weight trajectory
 *   maxact_rf_<P>.npy         activation-maximisation receptive fields (input gradients)
 *   act_weighted_rf_<P>.npy   activity-weighted average inputs
 *   rf_metrics.csv, rf_spectrum.csv  structure and spatial power spectra of the receptive fields
 *   total_input.csv           excitatory and inhibitory input per projection (+ _<P>.npy)
 *   *.png                     receptive fields, heat maps and line plots (with libpng)
 *   *.svg                     the line plots with titles, axis labels and named series
 */
#define _POSIX_C_SOURCE 200809L

#include "cli.h"

#include "btsp/btsp_analysis.h"
#include "btsp/btsp_kernels.h"

#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BIN 100 /* samples per bin of the loss and dendritic histories (EIANN) */
/* Rows of a projection closer than this (relative to its largest weight) count as one unit in
 * distinct_units.csv: far above float32 rounding of normalised rows, far below learned
 * differences. */
#define DISTINCT_TOL 1e-4

/* ------------------------------------------------------------------------------------------ */
/* run.json (written by cli_run.c; a flat object, keys unique) */

/* The run's sample order used torch.randperm (run.json "rng": "torch", `btsp train --rng torch`). */
static int run_torch_rng(const char *run_json)
{
    char rng[32];
    return cli_json_get_string(run_json, "rng", rng, sizeof rng) && strcmp(rng, "torch") == 0;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct an_ctx {
    const char *run;
    unsigned long long first; /* run.json "first_sample": samples before the run (btsp train --resume) */
    unsigned long long last;  /* the last sample the run directory is complete for (ULLONG_MAX: all) */
    unsigned long long done;  /* run.json "samples_done" (ULLONG_MAX: not recorded) */
    char dir[4096]; /* RUN/analysis */
    btsp_net *net;
    data_split d;
    btsp_dataset test; /* possibly truncated copy */
    int png;
    size_t n_outputs;
    FILE *sum; /* summary.csv: one row per headline figure, open during the whole analysis */
    FILE *rfm; /* rf_metrics.csv and rf_spectrum.csv, open while the receptive-field analyses run */
    FILE *rfs;
    /* --jobs: the evaluating networks, copies first and `net` itself last. (Its activities after
     * an evaluation are those of some row; no analysis reads them: every one that needs
     * activities runs its own forward phases.) */
    btsp_net *evals[CLI_MAX_EVAL_THREADS];
    size_t n_evals;
} an_ctx;

/* Give the copies of --jobs the current parameters of a->net, so that a->evals[0 .. n_evals)
 * (a->net last) evaluate them alike. 0 with a message if a copy refuses them (copies refuse only
 * non-finite values, and a->net holds only weights loaded from files, which must be finite). */
static int an_sync_copies(an_ctx *a)
{
    const btsp_net *bad = cli_sync_copies(a->evals, a->n_evals - 1, a->net);
    if (bad)
        fprintf(stderr, "btsp: copying weights for evaluation: %s\n", btsp_net_errmsg(bad));
    return !bad;
}

/* Accuracy and MSE of a->net's current parameters on ds, evaluated with every thread of --jobs. */
static double an_accuracy(an_ctx *a, const btsp_dataset *ds, float *out, double *mse)
{
    if (!an_sync_copies(a)) {
        if (mse)
            *mse = NAN;
        return NAN;
    }
    return cli_accuracy_par(a->evals, a->n_evals, ds, out, NULL, mse);
}

static int out_path(const an_ctx *a, char *buf, size_t len, const char *name)
{
    return cli_path(buf, len, a->dir, name);
}

static FILE *open_out(const an_ctx *a, const char *name)
{
    char path[4096];
    if (!out_path(a, path, sizeof path, name))
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "btsp: cannot write %s\n", path);
    return f;
}

static int close_out(an_ctx *a, FILE *f, const char *name)
{
    if (fclose(f) != 0) {
        fprintf(stderr, "btsp: error writing %s/%s\n", a->dir, name);
        return 0;
    }
    a->n_outputs++;
    return 1;
}

/* NAME.png (with libpng) and NAME.svg (always; with the text of `lb`) of series-major y. */
static int write_line_plot(an_ctx *a, const char *name, const btsp_an_plot_labels *lb, const float *x, const float *y,
                           size_t n_series, size_t n_points, double lo, double hi)
{
    char path[4096];
    int files;
    if (!out_path(a, path, sizeof path, name) || (files = cli_plot_lines(path, lb, x, y, n_series, n_points, lo, hi)) < 0)
        return 0;
    a->n_outputs += (size_t)files;
    return 1;
}

static int write_png_gray(an_ctx *a, const char *name, const float *tiles, size_t n_tiles, size_t tw, size_t th,
                          size_t cols, size_t zoom, int symmetric)
{
    if (!a->png)
        return 1;
    char path[4096], err[4400];
    size_t w, h;
    if (!out_path(a, path, sizeof path, name))
        return 0;
    btsp_status st = btsp_an_grid_size(n_tiles, tw, th, cols, zoom, &w, &h);
    uint8_t *px = st ? NULL : malloc(w * h);
    if (st || !px) {
        fprintf(stderr, "btsp: %s: cannot render (%s)\n", path, st ? btsp_status_string(st) : "out of memory");
        free(px);
        return 0;
    }
    st = btsp_an_render_grid(tiles, n_tiles, tw, th, cols, zoom, symmetric, px, w, h);
    if (!st)
        st = btsp_png_write(path, px, w, h, 1, err, sizeof err);
    else
        snprintf(err, sizeof err, "%s: cannot render: %s", path, btsp_status_string(st));
    free(px);
    if (st) {
        fprintf(stderr, "btsp: %s\n", err);
        return 0;
    }
    a->n_outputs++;
    return 1;
}

/* Learned forward projections W between two layers with a reverse (top-down) projection B
 * (pre <- post, into the dendrite): EIANN's forward vs feedback weight pairs. */
typedef struct fb_pair {
    const btsp_proj *w, *b;
} fb_pair;

static size_t feedback_pairs(const btsp_net *net, fb_pair *pairs)
{
    size_t n = 0;
    for (size_t i = 0; i < btsp_net_proj_count(net); i++) {
        const btsp_proj *w = btsp_net_proj_at(net, i);
        if (!btsp_proj_rule(w) || btsp_proj_compartment(w) != BTSP_SOMA ||
            btsp_pop_layer(btsp_proj_pre(w)) == btsp_pop_layer(btsp_proj_post(w)))
            continue;
        for (size_t j = 0; j < btsp_net_proj_count(net); j++) {
            const btsp_proj *b = btsp_net_proj_at(net, j);
            if (btsp_proj_pre(b) == btsp_proj_post(w) && btsp_proj_post(b) == btsp_proj_pre(w) &&
                btsp_proj_compartment(b) == BTSP_DEND) {
                pairs[n].w = w;
                pairs[n++].b = b;
                break;
            }
        }
    }
    return n;
}

/* `samples,<proj>...` with one row per snapshot: columns col0 .. col0 + projections - 1 of the
 * snapshot-major table hist (w values per snapshot). */
static int proj_table(an_ctx *a, const char *name, const unsigned long long *snaps, size_t n_snap,
                      const float *hist, size_t w, size_t col0)
{
    size_t n_proj = btsp_net_proj_count(a->net);
    FILE *f = open_out(a, name);
    if (!f)
        return 0;
    fputs("samples", f);
    for (size_t i = 0; i < n_proj; i++)
        fprintf(f, ",%s", btsp_proj_name(btsp_net_proj_at(a->net, i)));
    fputc('\n', f);
    for (size_t s = 0; s < n_snap; s++) {
        fprintf(f, "%llu", snaps[s]);
        for (size_t i = 0; i < n_proj; i++) {
            fputc(',', f);
            cli_csv_number(f, hist[s * w + col0 + i]);
        }
        fputc('\n', f);
    }
    return close_out(a, f, name);
}

/* `samples,<W~B>...,all` with one row per snapshot s in [first, n_snap): the n_pairs + 1 values
 * at v + s * stride. */
static int pair_table(an_ctx *a, const char *name, const fb_pair *pairs, size_t n_pairs,
                      const unsigned long long *snaps, size_t first, size_t n_snap, const float *v, size_t stride)
{
    FILE *f = open_out(a, name);
    if (!f)
        return 0;
    fputs("samples", f);
    for (size_t k = 0; k < n_pairs; k++)
        fprintf(f, ",%s~%s", btsp_proj_name(pairs[k].w), btsp_proj_name(pairs[k].b));
    fputs(",all\n", f);
    for (size_t s = first; s < n_snap; s++) {
        fprintf(f, "%llu", snaps[s]);
        for (size_t k = 0; k <= n_pairs; k++) {
            fputc(',', f);
            cli_csv_number(f, v[s * stride + k]);
        }
        fputc('\n', f);
    }
    return close_out(a, f, name);
}

#define DEG (3.14159265358979323846 / 180.0) /* radians per degree */

/* EIANN's "all_params" angle: the angle between the concatenations of the normalized W and B^T
 * of n pairs, whose cosine is the mean of the pairs' cosines (cos_sum); NaN for n = 0. */
static double mean_angle_deg(double cos_sum, size_t n)
{
    if (!n)
        return NAN;
    double c = cos_sum / (double)n;
    return acos(c > 1 ? 1 : c < -1 ? -1 : c) / DEG;
}

/* One row of summary.csv (kind,item,metric,value): the headline figures of the analysis in one
 * long-format table, which `btsp compare --analyze` gathers over configs and seeds. */
static void summary_row(an_ctx *a, const char *kind, const char *item, const char *metric, double v)
{
    if (!a->sum)
        return;
    fprintf(a->sum, "%s,%s,%s,", kind, item, metric);
    cli_csv_number(a->sum, v);
    fputc('\n', a->sum);
}

static int test_activities(an_ctx *a, float **act, float **prev);
static void free_activities(float **act, size_t np);
static int representation_history(an_ctx *a, const unsigned long long *snaps, size_t n_snap, const double *rep);

/* Per snapshot: test accuracy and loss, validation accuracy (from val_history.csv), weight norms,
 * feedback angles, distinct units, and the representation history, all from one forward pass
 * over the test rows per snapshot. */
static int snapshot_histories(an_ctx *a, const cli_csv_table *val)
{
    size_t n_snap = 0;
    unsigned long long *snaps = cli_list_snapshots(a->run, a->last, &n_snap);
    if (!n_snap) {
        free(snaps);
        fprintf(stderr, "btsp analyze: no snapshots in %s/snapshots (train with --history-interval > 0)\n", a->run);
        return 1;
    }
    btsp_net *net = a->net;
    const btsp_dataset *t = &a->test;
    size_t n_proj = btsp_net_proj_count(net), n_out = btsp_pop_size(btsp_net_output(net));
    size_t np = btsp_net_pop_count(net), oi = 0;
    while (btsp_net_pop_at(net, oi) != btsp_net_output(net))
        oi++;
    fb_pair *pairs = malloc((n_proj ? n_proj : 1) * sizeof *pairs);
    float *hist = malloc(n_snap * (3 + n_proj + n_proj + 1 + n_proj) * sizeof *hist);
    float *xs = malloc(n_snap * sizeof *xs);
    float *prev_wb = NULL, *delta = NULL, *upd = NULL;
    double *rep = malloc(n_snap * np * 3 * sizeof *rep); /* sparsity, selectivity, discriminability */
    int ok = 0;
    if (!pairs || !hist || !xs || !rep) {
        fprintf(stderr, "btsp: out of memory\n");
        goto done;
    }
    size_t n_pairs = feedback_pairs(net, pairs);
    /* hist columns: test_acc, test_loss, val_acc | norms (n_proj) | angles (n_pairs) | all |
     * distinct rows (n_proj) */
    size_t w = 3 + n_proj + n_pairs + 1 + n_proj, d0 = 3 + n_proj + n_pairs + 1;
    /* the previous snapshot's W and B of every pair, for the angles between their updates */
    size_t pair_floats = 0;
    for (size_t k = 0; k < n_pairs; k++)
        pair_floats += 2 * btsp_pop_size(btsp_proj_pre(pairs[k].w)) * btsp_pop_size(btsp_proj_post(pairs[k].w));
    prev_wb = malloc((pair_floats ? pair_floats : 1) * sizeof *prev_wb);
    delta = malloc((pair_floats ? pair_floats : 1) * sizeof *delta);
    upd = malloc(n_snap * (n_pairs + 1) * sizeof *upd);
    if (!prev_wb || !delta || !upd) {
        fprintf(stderr, "btsp: out of memory\n");
        goto done;
    }
    for (size_t s = 0; s < n_snap; s++) {
        char dir[4096], name[64], err[1024];
        snprintf(name, sizeof name, "snapshots/%llu", snaps[s]);
        if (!cli_path(dir, sizeof dir, a->run, name))
            goto done;
        if (btsp_io_load_weights(net, dir, 1, err, sizeof err)) {
            fprintf(stderr, "btsp: %s\n", err);
            goto done;
        }
        float *row = hist + s * w;
        xs[s] = (float)snaps[s];
        float **act = calloc(np, sizeof *act);
        int good = act && test_activities(a, act, NULL);
        for (size_t i = 0; good && t->n && i < np; i++) {
            double *v = rep + (s * np + i) * 3;
            if (act[i])
                good = !btsp_an_representation_means(act[i], t->n, btsp_pop_size(btsp_net_pop_at(net, i)), v, v + 1,
                                                     v + 2);
        }
        if (good) { /* the output activity is btsp_net_evaluate()'s output: the same figures */
            double loss;
            row[0] = (float)cli_score(act[oi], t, n_out, &loss);
            row[1] = (float)loss;
        }
        free_activities(act, np);
        if (!good) {
            fprintf(stderr, "btsp: evaluation of snapshot %llu failed\n", snaps[s]);
            goto done;
        }
        row[2] = NAN;
        for (size_t r = 0; val && r < val->n_rows; r++)
            if (val->v[r * val->n_cols] == (float)snaps[s])
                row[2] = val->v[r * val->n_cols + 1];
        for (size_t i = 0; i < n_proj; i++) {
            const float *wt;
            size_t rr, cc;
            btsp_proj_weights(btsp_net_proj_at(net, i), &wt, &rr, &cc);
            row[3 + i] = (float)btsp_an_norm(wt, rr * cc);
            row[d0 + i] = (float)btsp_an_distinct_rows(wt, rr, cc, DISTINCT_TOL, NULL);
        }
        double cos_sum = 0.0, dcos_sum = 0.0;
        size_t off = 0, n_moved = 0;
        for (size_t k = 0; k < n_pairs; k++) {
            const float *ww, *bb;
            size_t r1, c1, r2, c2;
            btsp_proj_weights(pairs[k].w, &ww, &r1, &c1);
            btsp_proj_weights(pairs[k].b, &bb, &r2, &c2);
            double ang = btsp_an_angle_transposed_deg(ww, r1, c1, bb);
            row[3 + n_proj + k] = (float)ang;
            cos_sum += cos(ang * DEG);
            /* update angle: angle(W_s - W_{s-1}, (B_s - B_{s-1})^T); NaN if either did not move */
            float *pw = prev_wb + off, *pb = pw + r1 * c1, *dw = delta + off, *db = dw + r1 * c1;
            double dang = NAN;
            if (s > 0) {
                for (size_t e = 0; e < r1 * c1; e++) {
                    dw[e] = ww[e] - pw[e];
                    db[e] = bb[e] - pb[e];
                }
                dang = btsp_an_angle_transposed_deg(dw, r1, c1, db);
                if (isfinite(dang)) {
                    dcos_sum += cos(dang * DEG);
                    n_moved++;
                }
            }
            upd[s * (n_pairs + 1) + k] = (float)dang;
            memcpy(pw, ww, r1 * c1 * sizeof *pw);
            memcpy(pb, bb, r1 * c1 * sizeof *pb);
            off += 2 * r1 * c1;
        }
        row[3 + n_proj + n_pairs] = (float)mean_angle_deg(cos_sum, n_pairs);
        upd[s * (n_pairs + 1) + n_pairs] = (float)mean_angle_deg(dcos_sum, n_moved);
        fprintf(stderr, "  snapshot %llu: test accuracy %.2f%%\n", snaps[s], (double)row[0]);
    }
    if (n_pairs)
        summary_row(a, "feedback_angle", "all", "last_snapshot", hist[(n_snap - 1) * w + 3 + n_proj + n_pairs]);
    FILE *f = open_out(a, "accuracy_history.csv");
    if (!f)
        goto done;
    fputs("samples,test_accuracy,test_loss,val_accuracy\n", f);
    for (size_t s = 0; s < n_snap; s++) {
        fprintf(f, "%llu", snaps[s]);
        for (size_t j = 0; j < 3; j++) {
            fputc(',', f);
            cli_csv_number(f, hist[s * w + j]);
        }
        fputc('\n', f);
    }
    if (!close_out(a, f, "accuracy_history.csv"))
        goto done;
    if (!proj_table(a, "weight_norms.csv", snaps, n_snap, hist, w, 3))
        goto done;
    if (n_pairs) {
        /* and the angles between the updates of W and B^T from one snapshot to the next (EIANN
         * also compares the updates, not only the weights); the row of snapshot s covers the
         * samples since the previous snapshot, so the first snapshot has none */
        if (!pair_table(a, "feedback_angles.csv", pairs, n_pairs, snaps, 0, n_snap, hist + 3 + n_proj, w) ||
            !pair_table(a, "feedback_update_angles.csv", pairs, n_pairs, snaps, 1, n_snap, upd, n_pairs + 1))
            goto done;
    }
    if (!proj_table(a, "distinct_units.csv", snaps, n_snap, hist, w, d0) ||
        !representation_history(a, snaps, n_snap, rep))
        goto done;
    /* line plots: series-major copies */
    float *series = malloc(n_snap * (n_proj + n_pairs + 2) * sizeof *series);
    if (!series)
        goto done;
    for (size_t s = 0; s < n_snap; s++) {
        series[s] = hist[s * w];             /* test accuracy */
        series[n_snap + s] = hist[s * w + 2]; /* validation accuracy */
    }
    static const char *const acc_names[2] = {"test", "validation"};
    const btsp_an_plot_labels acc_lb = {"Accuracy at the weight snapshots", "training samples", "accuracy (%)",
                                        acc_names};
    int pok = write_line_plot(a, "accuracy_history.png", &acc_lb, xs, series, 2, n_snap, 0.0, 100.0);
    /* legend names: the projections, and "W~B" for the forward / top-down pairs plus "all" */
    const char **names = malloc((n_proj + n_pairs + 1) * sizeof *names);
    size_t pair_chars = 4;
    for (size_t k = 0; k < n_pairs; k++)
        pair_chars += strlen(btsp_proj_name(pairs[k].w)) + strlen(btsp_proj_name(pairs[k].b)) + 2;
    char *pair_text = malloc(pair_chars);
    pok = pok && names && pair_text;
    for (size_t i = 0; pok && i < n_proj; i++) {
        names[i] = btsp_proj_name(btsp_net_proj_at(net, i));
        for (size_t s = 0; s < n_snap; s++)
            series[i * n_snap + s] = hist[s * w + 3 + i];
    }
    const btsp_an_plot_labels norm_lb = {"Weight norms", "training samples", "Frobenius norm", names};
    pok = pok && write_line_plot(a, "weight_norms.png", &norm_lb, xs, series, n_proj, n_snap, 0.0, 0.0);
    if (pok && n_pairs) {
        char *next = pair_text;
        for (size_t k = 0; k <= n_pairs; k++) {
            if (k < n_pairs) {
                names[k] = next;
                next += sprintf(next, "%s~%s", btsp_proj_name(pairs[k].w), btsp_proj_name(pairs[k].b)) + 1;
            } else {
                names[k] = "all";
            }
            for (size_t s = 0; s < n_snap; s++)
                series[k * n_snap + s] = hist[s * w + 3 + n_proj + k];
        }
        const btsp_an_plot_labels fb_lb = {"Angle between forward weights W and top-down weights B^T",
                                           "training samples", "angle (degrees)", names};
        pok = write_line_plot(a, "feedback_angles.png", &fb_lb, xs, series, n_pairs + 1, n_snap, 0.0, 90.0);
    }
    if (!names || !pair_text)
        fprintf(stderr, "btsp: out of memory\n");
    free(names);
    free(pair_text);
    free(series);
    ok = pok;
done:
    free(snaps);
    free(pairs);
    free(rep);
    free(hist);
    free(xs);
    free(prev_wb);
    free(delta);
    free(upd);
    return ok;
}

/* Parameters of the loss landscape: every projection's weights (creation order) and every bias,
 * concatenated. With x == NULL returns the length; with get != 0 copies the network's values
 * into x, else sets them from x (no bounds or constraints applied, as EIANN's landscape loads
 * its grid points as state dicts) and sets *bad if the network refused a value (not finite). */
static size_t landscape_params(btsp_net *net, float *x, int get, int *bad)
{
    size_t off = 0;
    for (size_t i = 0; i < btsp_net_proj_count(net); i++) {
        btsp_proj *q = btsp_net_proj_at(net, i);
        const float *w;
        size_t r, c;
        btsp_proj_weights(q, &w, &r, &c);
        if (x && get)
            memcpy(x + off, w, r * c * sizeof *x);
        else if (x && btsp_proj_set_weights(q, x + off, r, c))
            *bad = 1;
        off += r * c;
    }
    for (size_t i = 0; i < btsp_net_pop_count(net); i++) {
        btsp_pop *p = btsp_net_pop_at(net, i);
        const float *b;
        size_t n;
        if (btsp_pop_state(p, BTSP_VAR_BIAS, &b, &n) != BTSP_OK)
            continue;
        if (x && get)
            memcpy(x + off, b, n * sizeof *x);
        else if (x && btsp_pop_set_bias(p, x + off, n))
            *bad = 1;
        off += n;
    }
    return off;
}

/* Largest snapshot matrix of the loss landscape (floats): 64 M = 256 MB; with more snapshots
 * than fit, an evenly spaced subset (always the first and the last) is used. */
#define LANDSCAPE_BUDGET ((size_t)64 << 20)

/* One network's share of the loss-landscape grid: points first, first + stride, ... (row-major
 * index i * points + j). Each point's parameters are mean + sd * (c1 * PC1 + c2 * PC2); its
 * test MSE (as cli_accuracy() computes it: NaN when the output is not one unit per class, or
 * when the network refuses a parameter, i.e. a non-finite one) goes to grid[point]. */
typedef struct grid_job {
    btsp_net *net;
    const btsp_dataset *sub;
    size_t points, first, stride, D;
    const float *mean, *sd, *axes;
    const double *lo, *hi;
    float *x, *out; /* this job's D parameters and sub->n x output-size outputs */
    float *grid;
    int ok;
} grid_job;

static void *grid_job_run(void *arg)
{
    grid_job *g = arg;
    size_t D = g->D, n_out = btsp_pop_size(btsp_net_output(g->net)), P = g->points;
    for (size_t pt = g->first; pt < P * P; pt += g->stride) {
        size_t i = pt / P, j = pt % P;
        double t1 = P > 1 ? (double)j / (double)(P - 1) : 0.5;
        double t2 = P > 1 ? (double)i / (double)(P - 1) : 0.5;
        double c1 = g->lo[0] + t1 * (g->hi[0] - g->lo[0]), c2 = g->lo[1] + t2 * (g->hi[1] - g->lo[1]);
        for (size_t d = 0; d < D; d++)
            g->x[d] = (float)(g->mean[d] + (double)g->sd[d] * (c1 * g->axes[d] + c2 * g->axes[D + d]));
        int bad = 0;
        landscape_params(g->net, g->x, 0, &bad);
        double loss = NAN;
        if (!bad && g->sub->n) { /* NaN where a grid point has no finite weights */
            if (btsp_net_evaluate(g->net, g->sub->x, g->sub->n, g->sub->dim, g->out, n_out)) {
                g->ok = 0;
                return NULL;
            }
            cli_score(g->out, g->sub, n_out, &loss);
        }
        g->grid[pt] = (float)loss;
    }
    return NULL;
}

/* Loss landscape along the first two principal components of the parameter trajectory
 * (EIANN's plot_loss_landscape): the snapshots, standardised per parameter, give two axes
 * (btsp_an_trajectory_pca()); a points x points grid spanning the trajectory's range plus 20 %
 * on each side is mapped back to parameters, and the test loss (MSE) over the first `rows`
 * test rows is evaluated at every grid point and at every snapshot. Writes landscape_loss.npy
 * (points x points, row i = i-th PC2 value, column j = j-th PC1 value, both increasing),
 * landscape_axes.csv (explained variance ratio and grid range per axis),
 * landscape_trajectory.csv (samples, pc1, pc2, loss per snapshot) and landscape.png. */
static int loss_landscape(an_ctx *a, size_t points, size_t rows)
{
    btsp_net *net = a->net;
    size_t n_all = 0;
    unsigned long long *snaps = points ? cli_list_snapshots(a->run, a->last, &n_all) : NULL;
    if (n_all < 3) {
        if (points)
            fprintf(stderr, "  loss landscape skipped: it needs at least 3 snapshots\n");
        free(snaps);
        return 1;
    }
    size_t D = landscape_params(net, NULL, 0, NULL), n = n_all;
    if (D == 0) {
        free(snaps);
        return 1;
    }
    if (n > LANDSCAPE_BUDGET / D)
        n = LANDSCAPE_BUDGET / D < 3 ? 3 : LANDSCAPE_BUDGET / D;
    btsp_dataset sub;
    memset(&sub, 0, sizeof sub);
    size_t nr = rows < a->test.n ? rows : a->test.n, n_out = btsp_pop_size(btsp_net_output(net));
    float *X = malloc(n * D * sizeof *X), *axes = malloc(2 * D * sizeof *axes), *mean = malloc(D * sizeof *mean);
    float *sd = malloc(D * sizeof *sd), *coords = malloc(n * 2 * sizeof *coords);
    float *grid = malloc(points * points * sizeof *grid), *out = malloc((nr ? nr : 1) * n_out * sizeof *out);
    float *tloss = malloc(n * sizeof *tloss);
    size_t *pick = malloc(n * sizeof *pick);
    double ex[2];
    int ok = 0;
    char dir[4096], name[256], err[1024];
    if (!X || !axes || !mean || !sd || !coords || !grid || !out || !tloss || !pick ||
        btsp_dataset_subset(&a->test, 0, nr, &sub)) {
        fprintf(stderr, "btsp: out of memory for the loss landscape (%zu parameters x %zu snapshots)\n", D, n);
        goto done;
    }
    fprintf(stderr, "  loss landscape: %zu x %zu grid, %zu snapshots, %zu parameters, %zu test rows\n", points, points,
            n, D, nr);
    for (size_t k = 0; k < n; k++) { /* evenly spaced, first and last included */
        pick[k] = n == n_all ? k : (size_t)((double)k * (double)(n_all - 1) / (double)(n - 1) + 0.5);
        snprintf(name, sizeof name, "snapshots/%llu", snaps[pick[k]]);
        if (!cli_path(dir, sizeof dir, a->run, name))
            goto done;
        if (btsp_io_load_weights(net, dir, 1, err, sizeof err)) {
            fprintf(stderr, "btsp: %s\n", err);
            goto done;
        }
        landscape_params(net, X + k * D, 1, NULL);
        double loss;
        an_accuracy(a, &sub, out, &loss);
        tloss[k] = (float)loss;
    }
    btsp_status st = btsp_an_trajectory_pca(X, n, D, 2, coords, axes, mean, sd, ex);
    if (st) {
        fprintf(stderr, "btsp: loss landscape: %s\n", btsp_status_string(st));
        goto done;
    }
    double lo[2], hi[2];
    for (size_t c = 0; c < 2; c++) {
        lo[c] = hi[c] = coords[c];
        for (size_t k = 1; k < n; k++) {
            lo[c] = fmin(lo[c], coords[k * 2 + c]);
            hi[c] = fmax(hi[c], coords[k * 2 + c]);
        }
        double ext = 0.2 * (hi[c] - lo[c]); /* EIANN's extension */
        lo[c] -= ext;
        hi[c] += ext;
    }
    /* the grid points, J at a time: each network of --jobs evaluates whole points */
    size_t m = a->n_evals < points * points ? a->n_evals : points * points;
    grid_job jobs[CLI_MAX_EVAL_THREADS];
    float *xbuf = malloc(m * D * sizeof *xbuf), *obuf = malloc(m * (nr ? nr : 1) * n_out * sizeof *obuf);
    if (!xbuf || !obuf) {
        free(xbuf);
        free(obuf);
        fprintf(stderr, "btsp: out of memory for the loss landscape\n");
        goto done;
    }
    for (size_t k = 0; k < m; k++)
        jobs[k] = (grid_job){a->evals[k], &sub, points, k, m, D, mean, sd, axes, lo, hi,
                             xbuf + k * D, obuf + k * (nr ? nr : 1) * n_out, grid, 1};
    cli_parallel(grid_job_run, jobs, sizeof jobs[0], m);
    free(xbuf);
    free(obuf);
    for (size_t k = 0; k < m; k++)
        if (!jobs[k].ok) {
            fprintf(stderr, "btsp: loss landscape: %s\n", btsp_net_errmsg(jobs[k].net));
            goto done;
        }
    char path[4096];
    if (!out_path(a, path, sizeof path, "landscape_loss.npy") || !cli_write_npy(path, grid, points, points))
        goto done;
    a->n_outputs++;
    FILE *f = open_out(a, "landscape_axes.csv");
    if (!f)
        goto done;
    fputs("axis,explained_variance_ratio,grid_min,grid_max\n", f);
    for (size_t c = 0; c < 2; c++) {
        fprintf(f, "pc%zu,", c + 1);
        cli_csv_number(f, ex[c]);
        fputc(',', f);
        cli_csv_number(f, lo[c]);
        fputc(',', f);
        cli_csv_number(f, hi[c]);
        fputc('\n', f);
    }
    if (!close_out(a, f, "landscape_axes.csv") || !(f = open_out(a, "landscape_trajectory.csv")))
        goto done;
    fputs("samples,pc1,pc2,test_loss\n", f);
    for (size_t k = 0; k < n; k++) {
        fprintf(f, "%llu,", snaps[pick[k]]);
        cli_csv_number(f, coords[k * 2]);
        fputc(',', f);
        cli_csv_number(f, coords[k * 2 + 1]);
        fputc(',', f);
        cli_csv_number(f, tloss[k]);
        fputc('\n', f);
    }
    if (!close_out(a, f, "landscape_trajectory.csv"))
        goto done;
    ok = write_png_gray(a, "landscape.png", grid, 1, points, points, 1, points < 400 ? 400 / points : 1, 0);
    fprintf(stderr, "  loss landscape: PC1 %.1f %%, PC2 %.1f %% of the variance\n", 100.0 * ex[0], 100.0 * ex[1]);
done:
    free(snaps);
    free(X);
    free(axes);
    free(mean);
    free(sd);
    free(coords);
    free(grid);
    free(out);
    free(tloss);
    free(pick);
    btsp_dataset_free(&sub);
    return ok;
}

/* Window of the gradient analyses: --bp-steps, else the network's backward steps, else 3
 * (EIANN's bpDale networks have none; its activation-maximisation RFs also fall back to 3). */
static unsigned grad_window(const btsp_net *net, unsigned long long opt)
{
    double bps = 0.0;
    btsp_net_get(net, BTSP_NET_BACKWARD_STEPS, &bps);
    return opt ? (unsigned)opt : bps >= 1.0 ? (unsigned)bps : 3u;
}

/* One network's share of update_angles(): snapshots first, first + stride, ... */
typedef struct angle_job {
    btsp_net *net;
    const char *run;
    const btsp_dataset *tr;
    const size_t *pi; /* indices of the analysed projections */
    size_t np, total;
    const unsigned long long *snaps;
    size_t n_snap, first, stride, n_steps;
    unsigned bp_steps;
    const char *order; /* the run's order file, or NULL */
    unsigned long long data_seed;
    int torch;
    double *res; /* n_snap x np x (sum of angles, count), shared: each job writes its snapshots */
    int ok;
    size_t failed_at; /* the snapshot whose failure msg describes (n_snap: set-up) */
    char msg[1200];
} angle_job;

static void *angle_job_run(void *arg)
{
    angle_job *j = arg;
    btsp_net *net = j->net;
    const btsp_dataset *tr = j->tr;
    size_t n_out = btsp_pop_size(btsp_net_output(net));
    float *grad = malloc(j->total * sizeof *grad), *before = malloc(j->total * sizeof *before);
    cli_order ord;
    memset(&ord, 0, sizeof ord);
    char err[1024];
    j->ok = 0;
    j->failed_at = 0; /* before any snapshot of this job */
    if (!grad || !before) {
        snprintf(j->msg, sizeof j->msg, "out of memory");
        goto done;
    }
    if (cli_order_open(&ord, j->order, tr->n, j->data_seed, j->torch, err, sizeof err)) {
        snprintf(j->msg, sizeof j->msg, "update angles need the sample order: %s", err);
        goto done;
    }
    for (size_t s = j->first; s < j->n_snap; s += j->stride) {
        char dir[4096], name[64];
        j->failed_at = s;
        snprintf(name, sizeof name, "snapshots/%llu", j->snaps[s]);
        if (!cli_path(dir, sizeof dir, j->run, name) || btsp_net_reset(net, BTSP_RESET_STATE) ||
            btsp_io_load_weights(net, dir, 1, err, sizeof err)) {
            snprintf(j->msg, sizeof j->msg, "%.1000s: cannot load the snapshot", dir);
            goto done;
        }
        for (size_t k = 0; k < j->n_steps; k++) {
            size_t row = cli_order_row(&ord, j->snaps[s] + k);
            const float *x = tr->x + row * tr->dim, *y = tr->y + row * n_out;
            size_t off = 0;
            for (size_t q = 0; q < j->np; q++) {
                btsp_proj *pr = btsp_net_proj_at(net, j->pi[q]);
                size_t rr = btsp_pop_size(btsp_proj_post(pr)), cc = btsp_pop_size(btsp_proj_pre(pr));
                if (btsp_net_loss_gradient(net, x, tr->dim, y, n_out, j->bp_steps, pr, grad + off, rr, cc) ||
                    btsp_proj_copy_weights(pr, before + off, rr, cc)) {
                    snprintf(j->msg, sizeof j->msg, "%s", btsp_net_errmsg(net));
                    goto done;
                }
                off += rr * cc;
            }
            if (btsp_net_train_sample(net, x, tr->dim, y, n_out)) {
                snprintf(j->msg, sizeof j->msg, "%s", btsp_net_errmsg(net));
                goto done;
            }
            off = 0;
            for (size_t q = 0; q < j->np; q++) {
                const float *w;
                size_t rr, cc;
                btsp_proj_weights(btsp_net_proj_at(net, j->pi[q]), &w, &rr, &cc);
                for (size_t e = 0; e < rr * cc; e++) {
                    before[off + e] = w[e] - before[off + e]; /* actual update */
                    grad[off + e] = -grad[off + e];          /* gradient-descent direction */
                }
                double ang = btsp_an_angle_deg(before + off, grad + off, rr * cc);
                if (isfinite(ang)) {
                    j->res[(s * j->np + q) * 2] += ang;
                    j->res[(s * j->np + q) * 2 + 1] += 1.0;
                }
                off += rr * cc;
            }
        }
    }
    j->ok = 1;
done:
    free(grad);
    free(before);
    cli_order_close(&ord);
    return NULL;
}

/* Angle between local-rule updates and backprop updates (EIANN's compute_dW_angles_vs_BP):
 * from every snapshot, the network (state reset, snapshot weights) continues training on the
 * run's own sample order for n_steps samples; before each step the backprop update -dL/dW of
 * every learned inter-layer soma projection is computed from the same weights and sample
 * (btsp_net_loss_gradient with bp_steps steps), after it the actual update dW is read back, and
 * their angle is averaged over the steps (steps where either update is zero are skipped). Each
 * snapshot starts from a reset network, so the snapshots are independent: --jobs splits them
 * over the network copies (same seed, so stochastic plateaus draw alike) with the same results. */
static int update_angles(an_ctx *a, const char *run_json, unsigned long long data_seed, size_t n_steps,
                         unsigned long long bp_steps_opt)
{
    btsp_net *net = a->net;
    const btsp_dataset *tr = &a->d.train;
    size_t n_snap = 0, n_proj = btsp_net_proj_count(net);
    unsigned long long *snaps = n_steps && tr->n ? cli_list_snapshots(a->run, a->last, &n_snap) : NULL;
    if (!n_snap) {
        free(snaps);
        return 1;
    }
    size_t *pi = malloc(n_proj * sizeof *pi);
    size_t np = 0, total = 0;
    for (size_t i = 0; pi && i < n_proj; i++) {
        const btsp_proj *q = btsp_net_proj_at(net, i);
        if (btsp_proj_rule(q) && btsp_proj_compartment(q) == BTSP_SOMA &&
            btsp_pop_layer(btsp_proj_pre(q)) != btsp_pop_layer(btsp_proj_post(q))) {
            pi[np++] = i;
            total += btsp_pop_size(btsp_proj_pre(q)) * btsp_pop_size(btsp_proj_post(q));
        }
    }
    unsigned bp_steps = grad_window(net, bp_steps_opt);
    double *res = calloc(n_snap * (np ? 2 * np : 1), sizeof *res); /* per snapshot: sum, count */
    int ok = 0;
    char order[4096];
    if (!pi || !res) {
        fprintf(stderr, "btsp: out of memory\n");
        goto done;
    }
    if (np == 0) {
        ok = 1;
        goto done;
    }
    fprintf(stderr, "  update angles vs backprop (%u backward steps, %zu samples per snapshot)\n", bp_steps, n_steps);
    size_t m = a->n_evals < n_snap ? a->n_evals : n_snap;
    angle_job jobs[CLI_MAX_EVAL_THREADS];
    const char *ofile = cli_json_get_string(run_json, "order", order, sizeof order) ? order : NULL;
    {
        /* an --order file that moved or changed: the other analyses do not need it */
        cli_order probe;
        char err[1024];
        if (cli_order_open(&probe, ofile, tr->n, data_seed, run_torch_rng(run_json), err, sizeof err)) {
            fprintf(stderr, "btsp analyze: update angles skipped: they need the run's sample order: %s\n", err);
            ok = 1;
            goto done;
        }
        cli_order_close(&probe);
    }
    for (size_t k = 0; k < m; k++)
        jobs[k] = (angle_job){a->evals[k], a->run, tr, pi, np, total, snaps, n_snap, k, m, n_steps, bp_steps, ofile,
                              data_seed, run_torch_rng(run_json), res, 0, 0, ""};
    cli_parallel(angle_job_run, jobs, sizeof jobs[0], m);
    size_t bad = m; /* report the failure at the earliest snapshot, as one job would */
    for (size_t k = 0; k < m; k++)
        if (!jobs[k].ok && (bad == m || jobs[k].failed_at < jobs[bad].failed_at))
            bad = k;
    if (bad < m) {
        fprintf(stderr, "btsp analyze: %s\n", jobs[bad].msg);
        goto done;
    }
    FILE *f = open_out(a, "update_angles.csv");
    if (!f)
        goto done;
    fputs("samples", f);
    for (size_t j = 0; j < np; j++) {
        const char *name = btsp_proj_name(btsp_net_proj_at(net, pi[j]));
        fprintf(f, ",%s,%s_steps", name, name);
    }
    fputc('\n', f);
    float *series = malloc(n_snap * np * sizeof *series), *xs = malloc(n_snap * sizeof *xs);
    for (size_t s = 0; s < n_snap; s++) {
        fprintf(f, "%llu", snaps[s]);
        if (xs)
            xs[s] = (float)snaps[s];
        for (size_t j = 0; j < np; j++) {
            double n = res[(s * np + j) * 2 + 1], mean = n > 0.0 ? res[(s * np + j) * 2] / n : NAN;
            fputc(',', f);
            cli_csv_number(f, mean);
            fprintf(f, ",%.0f", n);
            if (series)
                series[j * n_snap + s] = (float)mean;
        }
        fputc('\n', f);
    }
    for (size_t j = 0; j < np; j++) { /* per projection: the last snapshot, and the mean over snapshots */
        const char *name = btsp_proj_name(btsp_net_proj_at(net, pi[j]));
        double last = NAN, sum = 0.0;
        size_t cnt = 0;
        for (size_t s = 0; s < n_snap; s++) {
            double n = res[(s * np + j) * 2 + 1], mean = n > 0.0 ? res[(s * np + j) * 2] / n : NAN;
            if (s + 1 == n_snap)
                last = mean;
            if (isfinite(mean)) {
                sum += mean;
                cnt++;
            }
        }
        summary_row(a, "update_angle", name, "last_snapshot", last);
        summary_row(a, "update_angle", name, "mean_over_snapshots", cnt ? sum / (double)cnt : NAN);
    }
    const char **names = malloc(np * sizeof *names);
    if (!names)
        fprintf(stderr, "btsp: out of memory (update_angles.svg gets numbered series)\n");
    for (size_t j = 0; names && j < np; j++)
        names[j] = btsp_proj_name(btsp_net_proj_at(net, pi[j]));
    const btsp_an_plot_labels lb = {"Angle between each projection's update and the backprop update",
                                    "training samples", "angle (degrees)", names};
    ok = close_out(a, f, "update_angles.csv") && series && xs &&
         write_line_plot(a, "update_angles.png", &lb, xs, series, np, n_snap, 0.0, 120.0);
    free(names);
    free(series);
    free(xs);
done:
    free(snaps);
    free(pi);
    free(res);
    return ok;
}

/* Records of a per-sample history (one per `stride` samples) that belong to the samples the run
 * directory is complete for: an interrupted run may have written histories one snapshot past
 * its run.json. */
static size_t complete_records(const an_ctx *a, size_t n, unsigned long long stride)
{
    if (a->last == ULLONG_MAX || a->last < a->first || !stride)
        return n;
    /* records are taken at multiples of the stride of the running count (monitors) */
    unsigned long long k = a->last / stride - a->first / stride;
    return k < n ? (size_t)k : n;
}

/* Bins of a run's per-sample series, aligned to absolute sample counts: the series holds
 * samples first+1 .. first+n (first > 0 for a run resumed with --resume); the first bin is the
 * partial one up to the next multiple of BIN, so that every other bin ends where an
 * uninterrupted run's does. Writes the bin means (NULL: only count) and, if `ends` is not NULL,
 * each bin's last sample; returns the number of bins. */
static size_t aligned_bins(const float *x, size_t n, unsigned long long first, float *means,
                           unsigned long long *ends)
{
    size_t lead = (size_t)((BIN - first % BIN) % BIN), k = 0;
    if (lead > n)
        lead = n;
    if (lead) {
        if (means)
            btsp_an_bin_means(x, lead, lead, means);
        if (ends)
            ends[0] = first + lead;
        k = 1;
    }
    size_t rest = n - lead, nb = rest / BIN + (rest % BIN != 0);
    if (means && rest)
        btsp_an_bin_means(x + lead, rest, BIN, means + k);
    for (size_t i = 0; ends && i < nb; i++)
        ends[k + i] = first + lead + ((i + 1) * BIN < rest ? (i + 1) * BIN : rest);
    return k + nb;
}

/* A per-sample series in bins of BIN samples: `csv` with columns samples (end of the bin) and
 * `column`, and the line plot `png` with y range [lo, hi] (lo = hi: automatic). */
static int binned_series(an_ctx *a, const float *x, size_t n, const char *csv, const char *column, const char *png,
                         const btsp_an_plot_labels *lb, double lo, double hi)
{
    size_t nb = aligned_bins(x, n, a->first, NULL, NULL);
    float *b = malloc((nb ? nb : 1) * 2 * sizeof *b);
    unsigned long long *ends = malloc((nb ? nb : 1) * sizeof *ends);
    FILE *f = b && ends ? open_out(a, csv) : NULL;
    if (!f) {
        if (!b || !ends)
            fprintf(stderr, "btsp: out of memory\n");
        free(b);
        free(ends);
        return 0;
    }
    aligned_bins(x, n, a->first, b, ends);
    fprintf(f, "samples,%s\n", column);
    for (size_t i = 0; i < nb; i++) {
        fprintf(f, "%llu,", ends[i]);
        cli_csv_number(f, b[i]);
        fputc('\n', f);
        b[nb + i] = (float)ends[i];
    }
    int ok = close_out(a, f, csv) && write_line_plot(a, png, lb, b + nb, b, 1, nb, lo, hi);
    free(b);
    free(ends);
    return ok;
}

/* A per-sample record of the run directory, `width` values per sample (0: a 1-D array), or
 * NULL: absent (an older run directory, or a run too long to record it: silently) or unusable
 * (a message on stderr, and the analyses from it are skipped). *n receives the records. */
static float *read_record(const an_ctx *a, const char *name, size_t width, size_t *n)
{
    char path[4096], err[1024];
    float *v = NULL;
    size_t shape[2], nd;
    struct stat sb;
    if (!cli_path(path, sizeof path, a->run, name) || stat(path, &sb) != 0)
        return NULL;
    if (btsp_npy_read_f32(path, &v, shape, &nd, err, sizeof err) != BTSP_OK) {
        fprintf(stderr, "btsp analyze: %s; analyses from it skipped\n", err);
        return NULL;
    }
    if (width ? nd != 2 || shape[1] != width : nd != 1) {
        fprintf(stderr,
                "btsp analyze: %s is a %zu x %zu array, expected one %s per training sample; analyses from it "
                "skipped\n",
                path, shape[0], shape[1], width ? "row of the output's size" : "value");
        btsp_npy_free(v);
        return NULL;
    }
    /* one record per sample the run trained (up to the last complete checkpoint if killed) */
    unsigned long long end = a->last != ULLONG_MAX ? a->last : a->done;
    size_t want = end != ULLONG_MAX && end >= a->first ? (size_t)(end - a->first) : 0;
    if (shape[0] < want) {
        fprintf(stderr, "btsp analyze: %s holds %zu records, the run trained %zu samples (a cut-short file); "
                        "analyses from it skipped\n",
                path, shape[0], want);
        btsp_npy_free(v);
        return NULL;
    }
    *n = complete_records(a, shape[0], 1);
    return v;
}

/* Binned training histories: loss_history.npy and dend_history.csv. */
static int binned_histories(an_ctx *a)
{
    char path[4096];
    size_t n_loss = 0;
    float *loss = read_record(a, "loss_history.npy", 0, &n_loss);
    if (loss) {
        static const char *const loss_name[1] = {"training loss"};
        const btsp_an_plot_labels lb = {"Training loss, mean over bins of 100 samples", "training samples",
                                        "loss (mean squared error)", loss_name};
        int ok = binned_series(a, loss, n_loss, "loss_binned.csv", "train_loss", "loss.png", &lb, 0.0, 0.0);
        btsp_npy_free(loss);
        if (!ok)
            return 0;
    }
    cli_csv_table t;
    if (!cli_path(path, sizeof path, a->run, "dend_history.csv") || !cli_csv_read(path, &t))
        return 1; /* no dendrites */
    size_t nc = t.n_cols - 1, nr = complete_records(a, t.n_rows, 1);
    float *col = malloc((nr ? nr : 1) * sizeof *col);
    size_t nb = col ? aligned_bins(col, nr, a->first, NULL, NULL) : 0;
    float *b = malloc((nb ? nb : 1) * (nc + 1) * sizeof *b);
    unsigned long long *ends = malloc((nb ? nb : 1) * sizeof *ends);
    int ok = 0;
    FILE *f = col && b && ends ? open_out(a, "dend_history_binned.csv") : NULL;
    if (f) {
        for (size_t c = 0; c < nc; c++) {
            for (size_t r = 0; r < nr; r++)
                col[r] = t.v[r * t.n_cols + 1 + c];
            aligned_bins(col, nr, a->first, b + c * nb, NULL);
        }
        aligned_bins(col, nr, a->first, NULL, ends);
        fputs("samples", f);
        for (size_t c = 0; c < nc; c++)
            fprintf(f, ",%s", t.names[1 + c] ? t.names[1 + c] : "?");
        fputc('\n', f);
        for (size_t i = 0; i < nb; i++) {
            b[nc * nb + i] = (float)ends[i];
            fprintf(f, "%llu", ends[i]);
            for (size_t c = 0; c < nc; c++) {
                fputc(',', f);
                cli_csv_number(f, b[c * nb + i]);
            }
            fputc('\n', f);
        }
        const btsp_an_plot_labels lb = {"Mean |forward dendritic state|, bins of 100 samples", "training samples",
                                        "mean |dendritic state|", (const char *const *)(t.names + 1)};
        ok = close_out(a, f, "dend_history_binned.csv") &&
             write_line_plot(a, "dend_history.png", &lb, b + nc * nb, b, nc, nb, 0.0, 0.0);
    }
    free(col);
    free(b);
    free(ends);
    cli_csv_free(&t);
    return ok;
}

/* Metrics of one kind of receptive field of one population (units x input, row-major): a row of
 * rf_metrics.csv with the mean |Moran's I| over units with a non-constant field and the mean
 * spectral peak, and the mean power spectrum in rf_spectrum.csv (square inputs only). */
static int rf_metrics(an_ctx *a, const char *kind, const btsp_pop *p, const float *rf, size_t units, size_t dim)
{
    size_t side = (size_t)lround(sqrt((double)dim));
    int square = side * side == dim && side > 1;
    double sum = 0.0, peak_sum = 0.0;
    size_t k = 0, n_bins = side / 2, kp = 0;
    /* spatial power spectrum (EIANN's compute_PSD): mean over units with a non-zero field */
    float *pw = square ? malloc(n_bins * sizeof *pw) : NULL;
    double *mean_pw = square ? calloc(n_bins, sizeof *mean_pw) : NULL;
    if (square && (!pw || !mean_pw)) {
        free(pw);
        free(mean_pw);
        fprintf(stderr, "btsp: out of memory\n");
        return 0;
    }
    for (size_t u = 0; square && u < units; u++) {
        double mi = btsp_an_morans_i(rf + u * dim, side, side);
        if (isfinite(mi)) {
            sum += fabs(mi);
            k++;
        }
        size_t peak;
        double total = 0.0;
        if (btsp_an_power_spectrum(rf + u * dim, side, pw, n_bins, &peak) == BTSP_OK) {
            for (size_t b = 0; b < n_bins; b++)
                total += pw[b];
            if (total > 0.0) {
                for (size_t b = 0; b < n_bins; b++)
                    mean_pw[b] += pw[b];
                peak_sum += (double)(peak + 1); /* bin b holds frequency b + 1 */
                kp++;
            }
        }
    }
    fprintf(a->rfm, "%s,%s,%zu,%zu,", btsp_pop_full_name(p), kind, units, k);
    cli_csv_number(a->rfm, k ? sum / (double)k : NAN);
    fputc(',', a->rfm);
    cli_csv_number(a->rfm, kp ? peak_sum / (double)kp : NAN);
    fputc('\n', a->rfm);
    for (size_t b = 0; kp && b < n_bins; b++) {
        fprintf(a->rfs, "%s,%s,%zu,", btsp_pop_full_name(p), kind, b + 1);
        cli_csv_number(a->rfs, mean_pw[b] / (double)kp);
        fputc('\n', a->rfs);
    }
    free(pw);
    free(mean_pw);
    return 1;
}

/* Receptive fields (units x input) as image tiles: square inputs (28 x 28 for MNIST) as squares,
 * others as rows; grey = 0 when the fields have both signs, else black = 0. */
static int rf_png(an_ctx *a, const char *name, const float *rf, size_t units, size_t dim)
{
    size_t side = (size_t)lround(sqrt((double)dim));
    int square = side * side == dim && side > 1;
    size_t tw = square ? side : dim, th = square ? side : 1, gcols = (size_t)ceil(sqrt((double)units));
    int symmetric = 0;
    for (size_t i = 0; i < units * dim; i++)
        symmetric |= rf[i] < 0.0f;
    return write_png_gray(a, name, rf, units, tw, th, gcols ? gcols : 1, tw < 28 ? 28 / tw : 1, symmetric);
}

/* First-layer receptive fields: the rows of the soma projection from the input population into
 * the first E population of the next layer (else the first such projection), as image tiles. */
static int receptive_fields(an_ctx *a, double *rf_structure)
{
    btsp_net *net = a->net;
    const btsp_pop *in = btsp_net_input(net);
    const btsp_proj *best = NULL;
    for (size_t i = 0; i < btsp_net_proj_count(net); i++) {
        const btsp_proj *q = btsp_net_proj_at(net, i);
        if (btsp_proj_pre(q) != in || btsp_proj_compartment(q) != BTSP_SOMA)
            continue;
        if (!best || (strcmp(btsp_pop_name(btsp_proj_post(q)), "E") == 0 &&
                      strcmp(btsp_pop_name(btsp_proj_post(best)), "E") != 0))
            best = q;
    }
    *rf_structure = NAN;
    if (!best)
        return 1;
    const float *w;
    size_t rows, cols;
    btsp_proj_weights(best, &w, &rows, &cols);
    size_t side = (size_t)lround(sqrt((double)cols));
    size_t tw = side * side == cols ? side : cols, th = side * side == cols ? side : 1;
    if (th > 1) {
        /* receptive-field structure: |Moran's I| of every unit's weight image (8 neighbours) */
        FILE *f = open_out(a, "rf_structure.csv");
        if (!f)
            return 0;
        fprintf(f, "unit,morans_i,structure\n");
        double sum = 0.0;
        size_t k = 0;
        for (size_t u = 0; u < rows; u++) {
            double mi = btsp_an_morans_i(w + u * cols, tw, th);
            fprintf(f, "%zu,", u);
            cli_csv_number(f, mi);
            fputc(',', f);
            cli_csv_number(f, fabs(mi));
            fputc('\n', f);
            if (isfinite(mi)) {
                sum += fabs(mi);
                k++;
            }
        }
        *rf_structure = k ? sum / (double)k : NAN;
        fputs("mean,,", f);
        cli_csv_number(f, *rf_structure);
        fputc('\n', f);
        if (!close_out(a, f, "rf_structure.csv") || !rf_metrics(a, "weights", btsp_proj_post(best), w, rows, cols))
            return 0;
        fprintf(stderr, "  receptive-field structure (mean |Moran's I|): %.4f\n", *rf_structure);
    }
    fprintf(stderr, "  receptive fields: %s (%zu units, %zux%zu)\n", btsp_proj_name(best), rows, tw, th);
    return rf_png(a, "receptive_fields.png", w, rows, cols);
}

/* Receptive-field populations: every population named E outside the input layer (EIANN's
 * generate_figures computes RFs for exactly these). */
static int rf_population(const btsp_net *net, const btsp_pop *p)
{
    return btsp_pop_layer(p) != btsp_pop_layer(btsp_net_input(net)) && strcmp(btsp_pop_name(p), "E") == 0;
}

/* Outputs of one kind of receptive field of one population: <kind>_rf_<P>.npy,
 * <kind>_rf_<P>.png and its rf_metrics() rows. */
static int rf_outputs(an_ctx *a, const char *kind, const btsp_pop *p, const float *rf, size_t units,
                      size_t dim)
{
    char pname[160], name[256], path[4096];
    cli_pop_file_name(p, pname, sizeof pname);
    snprintf(name, sizeof name, "%s_rf_%s.npy", kind, pname);
    if (!out_path(a, path, sizeof path, name) || !cli_write_npy(path, rf, units, dim) ||
        !rf_metrics(a, kind, p, rf, units, dim))
        return 0;
    a->n_outputs++;
    snprintf(name, sizeof name, "%s_rf_%s.png", kind, pname);
    return rf_png(a, name, rf, units, dim);
}

/* Activation-maximisation receptive fields (EIANN's compute_maxact_receptive_fields): for every
 * RF population, the input gradient d a_j(T) / d x of every unit j (btsp_net_input_gradient with
 * the identity as cotangents, one forward phase and one reverse sweep per unit) averaged over
 * n_img test rows drawn with replacement, row i = btsp_k_rand_u64(seed, RF_STREAM, i) mod rows.
 * EIANN also averages in one uniform(-0.01, 0.01) image; its expected contribution is zero and
 * it is left out. */
#define RF_STREAM 0x7266u /* "rf": a stream of the run's network seed used only here */

/* One image's input gradients on one network (a thread of --jobs). */
typedef struct rf_job {
    btsp_net *net;
    const btsp_pop *pop;
    const float *x, *cot;
    size_t dim, n;
    unsigned window;
    float *g;
    btsp_status st;
} rf_job;

static void *rf_job_run(void *arg)
{
    rf_job *j = arg;
    j->st = btsp_net_input_gradient(j->net, j->x, j->dim, j->pop, j->cot, j->n, j->n, j->window, j->g, j->n * j->dim);
    return NULL;
}

static int maxact_rfs(an_ctx *a, size_t n_img, unsigned window, uint64_t seed)
{
    btsp_net *net = a->net;
    const btsp_dataset *t = &a->test;
    size_t dim = t->dim;
    if (!n_img || !t->n)
        return 1;
    fprintf(stderr, "  activation-maximisation receptive fields (%zu test images, %u backward steps)\n", n_img, window);
    size_t J = a->n_evals; /* --jobs: J images at a time, one per network */
    if (!an_sync_copies(a))
        return 0;
    for (size_t i = 0; i < btsp_net_pop_count(net); i++) {
        const btsp_pop *p = btsp_net_pop_at(net, i);
        if (!rf_population(net, p))
            continue;
        size_t n = btsp_pop_size(p);
        size_t nj = J < n_img ? J : n_img; /* gradient buffers in use at once */
        float *cot = calloc(n * n, sizeof *cot), *g = malloc(nj * n * dim * sizeof *g), *rf = malloc(n * dim * sizeof *rf);
        double *sum = calloc(n * dim, sizeof *sum);
        int ok = cot && g && rf && sum;
        if (!ok)
            fprintf(stderr, "btsp: out of memory\n");
        for (size_t u = 0; ok && u < n; u++)
            cot[u * n + u] = 1.0f;
        for (size_t k0 = 0; ok && k0 < n_img; k0 += nj) {
            size_t m = n_img - k0 < nj ? n_img - k0 : nj;
            rf_job jobs[CLI_MAX_EVAL_THREADS];
            for (size_t q = 0; q < m; q++) {
                size_t row = (size_t)(btsp_k_rand_u64(seed, RF_STREAM, k0 + q) % t->n);
                jobs[q] = (rf_job){a->evals[q], btsp_net_pop_at(a->evals[q], i), t->x + row * dim, cot, dim, n, window,
                                   g + q * n * dim, BTSP_OK};
            }
            cli_parallel(rf_job_run, jobs, sizeof jobs[0], m);
            /* the images in their order, as one thread would add them */
            for (size_t q = 0; ok && q < m; q++) {
                if (jobs[q].st) {
                    fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(jobs[q].net));
                    ok = 0;
                }
                const float *gq = g + q * n * dim;
                for (size_t j = 0; ok && j < n * dim; j++)
                    sum[j] += gq[j];
            }
        }
        for (size_t j = 0; ok && j < n * dim; j++)
            rf[j] = (float)(sum[j] / (double)n_img);
        ok = ok && rf_outputs(a, "maxact", p, rf, n, dim);
        free(cot);
        free(g);
        free(rf);
        free(sum);
        if (!ok)
            return 0;
    }
    return 1;
}

/* Activity-weighted average test input of every unit of the RF populations (EIANN's
 * compute_act_weighted_avg, eps BTSP_AN_WEIGHTED_AVERAGE_EPS), from the test activities. */
static int act_weighted_rfs(an_ctx *a, float **act)
{
    const btsp_dataset *t = &a->test;
    if (!t->n)
        return 1;
    for (size_t i = 0; i < btsp_net_pop_count(a->net); i++) {
        const btsp_pop *p = btsp_net_pop_at(a->net, i);
        if (!act[i] || !rf_population(a->net, p))
            continue;
        size_t n = btsp_pop_size(p);
        float *rf = malloc(n * t->dim * sizeof *rf);
        btsp_status st = rf ? btsp_an_weighted_average_input(act[i], t->n, n, t->x, t->dim,
                                                             BTSP_AN_WEIGHTED_AVERAGE_EPS, rf)
                            : BTSP_E_NOMEM;
        int ok = st == BTSP_OK && rf_outputs(a, "act_weighted", p, rf, n, t->dim);
        if (st)
            fprintf(stderr, "btsp: activity-weighted inputs: %s\n", btsp_status_string(st));
        free(rf);
        if (!ok)
            return 0;
    }
    return 1;
}

/* Somatic input per projection (EIANN's plot_total_input): over the test set, the term W s that
 * each forward-phase somatic projection adds to its population's input at the last forward
 * step, with the reads of the dynamics: s = a_pre(T) for the input and for forward projections
 * from a population earlier in the sweep, a_pre(T-1) otherwise (EIANN's plot averages the last
 * four steps for recurrent projections). total_input.csv: per population and projection the
 * mean over patterns and units of W s and of |W s|, and the fraction of (pattern, unit) pairs
 * where it is positive; then per population the sums over its excitatory (mean > 0) and
 * inhibitory projections. total_input_<P>.npy: projections (in the CSV's order) x units, the
 * per-unit mean over patterns. */
static int total_inputs(an_ctx *a, float **act, float **prev)
{
    btsp_net *net = a->net;
    const btsp_dataset *t = &a->test;
    const btsp_pop *in = btsp_net_input(net);
    size_t P = t->n, nq = btsp_net_proj_count(net);
    if (!P)
        return 1;
    FILE *f = open_out(a, "total_input.csv");
    if (!f)
        return 0;
    fputs("population,projection,mean_input,mean_abs_input,positive_fraction\n", f);
    int ok = 1;
    for (size_t i = 0; ok && i < btsp_net_pop_count(net); i++) {
        const btsp_pop *p = btsp_net_pop_at(net, i);
        if (p == in)
            continue;
        size_t n = btsp_pop_size(p), k = 0;
        float *y = malloc(P * n * sizeof *y), *per_unit = malloc((nq ? nq : 1) * n * sizeof *per_unit);
        if (!y || !per_unit) {
            fprintf(stderr, "btsp: out of memory\n");
            ok = 0;
        }
        double exc = 0.0, inh = 0.0;
        for (size_t j = 0; ok && j < nq; j++) {
            const btsp_proj *q = btsp_net_proj_at(net, j);
            if (btsp_proj_post(q) != p || btsp_proj_compartment(q) != BTSP_SOMA ||
                btsp_proj_phase(q) == BTSP_PHASE_BACKWARD)
                continue;
            const btsp_pop *pre = btsp_proj_pre(q);
            size_t pi = 0;
            while (btsp_net_pop_at(net, pi) != pre)
                pi++;
            const float *S = pre == in ? t->x
                             : btsp_proj_direction(q) == BTSP_DIR_FORWARD && pi < i ? act[pi] : prev[pi];
            const float *w;
            size_t rows, cols;
            btsp_proj_weights(q, &w, &rows, &cols);
            memset(y, 0, P * n * sizeof *y);
            btsp_k_matmat_acc(rows, cols, P, w, cols, S, cols, y, n);
            double sum = 0.0, sum_abs = 0.0;
            size_t pos = 0;
            for (size_t u = 0; u < n; u++) {
                double su = 0.0;
                for (size_t r = 0; r < P; r++) {
                    double v = y[r * n + u];
                    su += v;
                    sum_abs += fabs(v);
                    pos += v > 0.0;
                }
                per_unit[k * n + u] = (float)(su / (double)P);
                sum += su;
            }
            double mean = sum / ((double)P * (double)n);
            if (mean > 0.0)
                exc += mean;
            else
                inh += mean;
            fprintf(f, "%s,%s,", btsp_pop_full_name(p), btsp_proj_name(q));
            cli_csv_number(f, mean);
            fputc(',', f);
            cli_csv_number(f, sum_abs / ((double)P * (double)n));
            fputc(',', f);
            cli_csv_number(f, (double)pos / ((double)P * (double)n));
            fputc('\n', f);
            k++;
        }
        if (ok && k) {
            fprintf(f, "%s,excitatory,", btsp_pop_full_name(p));
            cli_csv_number(f, exc);
            fprintf(f, ",,\n%s,inhibitory,", btsp_pop_full_name(p));
            cli_csv_number(f, inh);
            fputs(",,\n", f);
            char pname[160], name[256], path[4096];
            cli_pop_file_name(p, pname, sizeof pname);
            snprintf(name, sizeof name, "total_input_%s.npy", pname);
            ok = out_path(a, path, sizeof path, name) && cli_write_npy(path, per_unit, k, n);
            a->n_outputs += ok;
        }
        free(y);
        free(per_unit);
    }
    if (!ok) {
        fclose(f);
        return 0;
    }
    return close_out(a, f, "total_input.csv");
}

/* Balanced, class-sorted subset of at most m test rows for the pattern x pattern RSMs. */
static size_t rsm_subset(const btsp_dataset *t, size_t m, size_t *rows)
{
    size_t C = t->n_classes, quota = (m + C - 1) / C, k = 0;
    size_t *count = calloc(C, sizeof *count);
    if (!count)
        return 0;
    for (size_t c = 0; c < C && k < m; c++)
        for (size_t r = 0; r < t->n && k < m; r++)
            if (t->labels[r] == c && count[c] < quota) {
                count[c]++;
                rows[k++] = r;
            }
    free(count);
    return k;
}

/* One thread's share of test_activities(): rows [r0, r0 + n) on one network. */
typedef struct act_part {
    btsp_net *net;
    const btsp_dataset *t;
    size_t r0, n;
    float **act, **prev; /* the caller's arrays (whole test set); this part's rows are offset */
    float **pa, **pp;    /* np pointers each: this part's rows of act / prev (NULL: skipped) */
    btsp_status st;
} act_part;

static void *act_part_run(void *arg)
{
    act_part *p = arg;
    size_t np = btsp_net_pop_count(p->net);
    for (size_t i = 0; i < np; i++) {
        size_t n = btsp_pop_size(btsp_net_pop_at(p->net, i));
        p->pa[i] = p->act[i] ? p->act[i] + p->r0 * n : NULL;
        p->pp[i] = p->prev && p->prev[i] ? p->prev[i] + p->r0 * n : NULL;
    }
    p->st = btsp_net_evaluate_activity(p->net, p->t->x + p->r0 * p->t->dim, p->n, p->t->dim, p->pa,
                                       p->prev ? p->pp : NULL, np);
    return NULL;
}

/* Activities of every non-input population (P x size) after the forward phase of each test row
 * with the current weights, and (if prev is not NULL) the activities one integration step
 * earlier (BTSP_VAR_PREV_ACTIVITY). act[i] / prev[i] are NULL for the input population. The
 * rows are evaluated in blocks (btsp_net_evaluate_activity, bitwise the values of one
 * btsp_net_forward() per row) and split over the networks of --jobs. */
static int test_activities(an_ctx *a, float **act, float **prev)
{
    btsp_net *net = a->net;
    const btsp_dataset *t = &a->test;
    size_t P = t->n, np = btsp_net_pop_count(net);
    const btsp_pop *in = btsp_net_input(net);
    for (size_t i = 0; i < np; i++) {
        const btsp_pop *p = btsp_net_pop_at(net, i);
        if (p == in)
            continue;
        act[i] = malloc((P ? P : 1) * btsp_pop_size(p) * sizeof **act);
        if (prev)
            prev[i] = malloc((P ? P : 1) * btsp_pop_size(p) * sizeof **prev);
        if (!act[i] || (prev && !prev[i])) {
            fprintf(stderr, "btsp: out of memory\n");
            return 0;
        }
    }
    if (!P)
        return 1;
    if (!an_sync_copies(a))
        return 0;
    size_t m = a->n_evals < P ? a->n_evals : P, per = (P + m - 1) / m;
    act_part parts[CLI_MAX_EVAL_THREADS];
    float **ptrs = malloc(2 * m * np * sizeof *ptrs);
    if (!ptrs) {
        fprintf(stderr, "btsp: out of memory\n");
        return 0;
    }
    for (size_t k = 0; k < m; k++) {
        size_t r0 = k * per < P ? k * per : P, r1 = r0 + per < P ? r0 + per : P;
        parts[k] = (act_part){a->evals[k], t, r0, r1 - r0, act, prev, ptrs + 2 * k * np, ptrs + (2 * k + 1) * np,
                              BTSP_OK};
    }
    cli_parallel(act_part_run, parts, sizeof parts[0], m);
    free(ptrs);
    for (size_t k = 0; k < m; k++)
        if (parts[k].st) {
            fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(parts[k].net));
            return 0;
        }
    return 1;
}

static void free_activities(float **act, size_t np)
{
    for (size_t i = 0; act && i < np; i++)
        free(act[i]);
    free(act);
}

/* Mean sparsity, selectivity and discriminability of every population on the test set, per
 * snapshot (rep: n_snap x populations x 3, computed by snapshot_histories()):
 * representation_history.csv. */
static int representation_history(an_ctx *a, const unsigned long long *snaps, size_t n_snap, const double *rep)
{
    btsp_net *net = a->net;
    size_t np = btsp_net_pop_count(net);
    const btsp_pop *in = btsp_net_input(net);
    if (!n_snap || !a->test.n)
        return 1;
    FILE *f = open_out(a, "representation_history.csv");
    if (!f)
        return 0;
    fputs("samples,population,sparsity,selectivity,discriminability\n", f);
    fprintf(stderr, "  representation history: %zu snapshots x %zu test rows\n", n_snap, a->test.n);
    for (size_t s = 0; s < n_snap; s++)
        for (size_t i = 0; i < np; i++) {
            const btsp_pop *p = btsp_net_pop_at(net, i);
            if (p == in)
                continue;
            fprintf(f, "%llu,%s", snaps[s], btsp_pop_full_name(p));
            for (size_t k = 0; k < 3; k++) {
                fputc(',', f);
                cli_csv_number(f, rep[(s * np + i) * 3 + k]);
            }
            fputc('\n', f);
        }
    return close_out(a, f, "representation_history.csv");
}

/* A CSV number that may be infinite (written as inf). */
static void csv_number_inf(FILE *f, double v)
{
    if (isinf(v))
        fputs(v > 0 ? "inf" : "-inf", f);
    else
        cli_csv_number(f, v);
}

/* Equilibration check (EIANN) on the test activities: equilibration.csv, and the residual. */
static int write_equilibration(an_ctx *a, float **act, float **prev, double *residual)
{
    btsp_net *net = a->net;
    size_t np = btsp_net_pop_count(net), P = a->test.n;
    *residual = 0.0;
    FILE *f = open_out(a, "equilibration.csv");
    if (!f)
        return 0;
    fputs("population,mean_activity_last,mean_activity_prev,relative_change,equilibrated\n", f);
    for (size_t i = 0; i < np; i++) {
        if (!act[i] || !P)
            continue;
        const btsp_pop *p = btsp_net_pop_at(net, i);
        size_t n = P * btsp_pop_size(p);
        double rel, m_last = 0.0, m_prev = 0.0;
        if (btsp_an_equilibration(act[i], prev[i], n, BTSP_AN_EQUILIBRATION_THRESHOLD, &rel, residual)) {
            fclose(f);
            return 0;
        }
        for (size_t k = 0; k < n; k++) {
            m_last += act[i][k];
            m_prev += prev[i][k];
        }
        fprintf(f, "%s,", btsp_pop_full_name(p));
        cli_csv_number(f, m_last / (double)n);
        fputc(',', f);
        cli_csv_number(f, m_prev / (double)n);
        fputc(',', f);
        csv_number_inf(f, rel);
        fprintf(f, ",%d\n", rel <= BTSP_AN_EQUILIBRATION_THRESHOLD); /* NaN (diverged): 0 */
    }
    fputs("residual,,,", f);
    csv_number_inf(f, *residual);
    fputs(",\n", f);
    fprintf(stderr, "  equilibration residual %g\n", *residual);
    return close_out(a, f, "equilibration.csv");
}

typedef struct pop_metrics {
    double sparsity, selectivity, discriminability, within, between, pr, pr_rsm;
    size_t active_units, silent_patterns;
} pop_metrics;

static int population_analyses(an_ctx *a, size_t rsm_max, double *eq_residual)
{
    btsp_net *net = a->net;
    const btsp_dataset *t = &a->test;
    size_t P = t->n, C = t->n_classes, np = btsp_net_pop_count(net);
    if (rsm_max > P) /* at most every test row (and no size overflow below) */
        rsm_max = P;
    float **act = calloc(np, sizeof *act), **prev = calloc(np, sizeof *prev);
    pop_metrics *pm = calloc(np, sizeof *pm);
    size_t *sub = malloc((rsm_max ? rsm_max : 1) * sizeof *sub);
    int ok = 0;
    if (!act || !prev || !pm || !sub)
        goto done;
    fprintf(stderr, "  forward pass over %zu test rows for population activities\n", P);
    if (!test_activities(a, act, prev) || !write_equilibration(a, act, prev, eq_residual) ||
        !act_weighted_rfs(a, act) || !total_inputs(a, act, prev))
        goto done;
    size_t M = rsm_max ? rsm_subset(t, rsm_max < P ? rsm_max : P, sub) : 0;
    char path[4096], name[256], pname[160];
    if (M) {
        float *lab = malloc(M * sizeof *lab);
        if (!lab)
            goto done;
        for (size_t k = 0; k < M; k++)
            lab[k] = (float)t->labels[sub[k]];
        int w = out_path(a, path, sizeof path, "rsm_labels.npy") && cli_write_npy(path, lab, M, 0);
        free(lab);
        if (!w)
            goto done;
        a->n_outputs++;
    }
    for (size_t i = 0; i < np; i++) {
        if (!act[i])
            continue;
        const btsp_pop *p = btsp_net_pop_at(net, i);
        size_t N = btsp_pop_size(p);
        const float *A = act[i];
        cli_pop_file_name(p, pname, sizeof pname);
        float *sp = malloc((P ? P : 1) * sizeof *sp), *se = malloc(N * sizeof *se);
        float *cs = malloc(C * N * sizeof *cs), *ord = malloc(N * sizeof *ord), *rc = malloc(C * C * sizeof *rc);
        size_t *order = malloc(N * sizeof *order);
        double *within = malloc(C * sizeof *within), *between = malloc(C * sizeof *between);
        float *sa = M ? malloc(M * N * sizeof *sa) : NULL, *rsm = M ? malloc(M * M * sizeof *rsm) : NULL;
        int good = sp && se && cs && ord && rc && order && within && between && (!M || (sa && rsm));
        pop_metrics *m = pm + i;
        if (good) {
            btsp_an_sparsity(A, P, N, sp);
            btsp_an_selectivity(A, P, N, se);
            double s1 = 0.0, s2 = 0.0;
            for (size_t r = 0; r < P; r++) {
                s1 += sp[r];
                double sum = 0.0;
                for (size_t u = 0; u < N; u++)
                    sum += A[r * N + u];
                m->silent_patterns += sum == 0.0;
            }
            for (size_t u = 0; u < N; u++)
                s2 += se[u];
            m->sparsity = P ? s1 / (double)P : NAN;
            m->selectivity = s2 / (double)N;
            good = !btsp_an_discriminability_mean(A, P, N, &m->discriminability) &&
                   !btsp_an_class_similarity(A, P, N, t->labels, C, within, between) &&
                   !btsp_an_participation_ratio(A, P, N, &m->pr) &&
                   !btsp_an_class_sorted(A, P, N, t->labels, C, cs, order, NULL, &m->active_units) &&
                   !btsp_an_rsm_class(A, P, N, t->labels, C, rc);
        }
        if (good) {
            double wsum = 0.0, bsum = 0.0;
            size_t wn = 0, bn = 0;
            for (size_t c = 0; c < C; c++) {
                if (isfinite(within[c])) {
                    wsum += within[c];
                    wn++;
                }
                if (isfinite(between[c])) {
                    bsum += between[c];
                    bn++;
                }
            }
            m->within = wn ? wsum / (double)wn : NAN;
            m->between = bn ? bsum / (double)bn : NAN;
            for (size_t u = 0; u < N; u++)
                ord[u] = (float)order[u];
            m->pr_rsm = NAN;
            if (M) {
                for (size_t k = 0; k < M; k++)
                    memcpy(sa + k * N, A + sub[k] * N, N * sizeof *sa);
                good = !btsp_an_rsm(sa, M, N, rsm);
                m->pr_rsm = btsp_an_participation_ratio_sym(rsm, M);
            }
        }
        struct {
            const char *prefix;
            const float *data;
            size_t rows, cols;
        } files[] = {
            {"sparsity", sp, P, 0},        {"selectivity", se, N, 0},     {"class_activity", cs, C, N},
            {"class_activity_order", ord, N, 0}, {"rsm_class", rc, C, C}, {"rsm", rsm, M, M},
        };
        for (size_t k = 0; good && k < sizeof files / sizeof files[0]; k++) {
            if (!files[k].data || files[k].rows == 0)
                continue;
            snprintf(name, sizeof name, "%s_%s.npy", files[k].prefix, pname);
            good = out_path(a, path, sizeof path, name) &&
                   cli_write_npy(path, files[k].data, files[k].rows, files[k].cols);
            a->n_outputs += good;
        }
        if (good) {
            /* heat map: every class row repeated so the picture is not a thin strip */
            size_t zoom = N < 600 ? 600 / N : 1, rep = 200 / (C * zoom);
            if (rep < 1)
                rep = 1;
            float *tall = malloc(C * rep * N * sizeof *tall);
            good = tall != NULL;
            for (size_t c = 0; good && c < C; c++)
                for (size_t k = 0; k < rep; k++)
                    memcpy(tall + (c * rep + k) * N, cs + c * N, N * sizeof *tall);
            snprintf(name, sizeof name, "class_activity_%s.png", pname);
            good = good && write_png_gray(a, name, tall, 1, N, C * rep, 1, zoom, 0);
            free(tall);
            snprintf(name, sizeof name, "rsm_class_%s.png", pname);
            good = good && write_png_gray(a, name, rc, 1, C, C, 1, 400 / C ? 400 / C : 1, 0);
            if (good && M) {
                snprintf(name, sizeof name, "rsm_%s.png", pname);
                good = write_png_gray(a, name, rsm, 1, M, M, 1, M < 400 ? 400 / M : 1, 0);
            }
        }
        free(sp);
        free(se);
        free(cs);
        free(ord);
        free(rc);
        free(order);
        free(within);
        free(between);
        free(sa);
        free(rsm);
        if (!good) {
            fprintf(stderr, "btsp: analysing %s failed\n", btsp_pop_full_name(p));
            goto done;
        }
    }
    FILE *f = open_out(a, "representation.csv");
    if (!f)
        goto done;
    fputs("population,units,patterns,mean_sparsity,mean_selectivity,mean_discriminability,"
          "within_class_similarity,between_class_similarity,participation_ratio,rsm_participation_ratio,"
          "active_units,silent_patterns\n",
          f);
    for (size_t i = 0; i < np; i++) {
        if (!act[i])
            continue;
        const btsp_pop *p = btsp_net_pop_at(net, i);
        const pop_metrics *m = pm + i;
        fprintf(f, "%s,%zu,%zu", btsp_pop_full_name(p), btsp_pop_size(p), P);
        const double v[] = {m->sparsity, m->selectivity, m->discriminability, m->within, m->between, m->pr, m->pr_rsm};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            fputc(',', f);
            cli_csv_number(f, v[k]);
        }
        fprintf(f, ",%zu,%zu\n", m->active_units, m->silent_patterns);
        summary_row(a, "representation", btsp_pop_full_name(p), "sparsity", m->sparsity);
        summary_row(a, "representation", btsp_pop_full_name(p), "selectivity", m->selectivity);
        summary_row(a, "representation", btsp_pop_full_name(p), "discriminability", m->discriminability);
        summary_row(a, "representation", btsp_pop_full_name(p), "participation_ratio", m->pr);
        fprintf(stderr, "  %-14s sparsity %.3f selectivity %.3f discriminability %.3f PR %.1f\n",
                btsp_pop_full_name(p), m->sparsity, m->selectivity, m->discriminability, m->pr);
    }
    ok = close_out(a, f, "representation.csv");
done:
    free_activities(act, np);
    free_activities(prev, np);
    free(pm);
    free(sub);
    if (!ok)
        fprintf(stderr, "btsp: population analyses failed\n");
    return ok;
}

/* Labels of the training samples the plateau records were taken after: record k follows
 * sample t = (first / stride + k + 1) * stride - 1 (0-based; first = samples before the run, 0
 * unless it was resumed: monitors record at multiples of the stride of the running count) of
 * the run's order (the fixed --order file, else the
 * seeded permutation of every epoch, as cli_run.c trains). 0 if the order cannot be rebuilt. */
static int record_labels(const an_ctx *a, const char *run_json, unsigned long long data_seed,
                         unsigned long long stride, size_t recs, uint8_t *lab)
{
    const btsp_dataset *tr = &a->d.train;
    char order[4096], err[1024];
    cli_order ord;
    if (!tr->n || !stride)
        return 0;
    const char *ofile = cli_json_get_string(run_json, "order", order, sizeof order) ? order : NULL;
    if (cli_order_open(&ord, ofile, tr->n, data_seed, run_torch_rng(run_json), err, sizeof err)) {
        fprintf(stderr, "btsp analyze: cannot rebuild the sample order: %s\n", err);
        return 0;
    }
    for (size_t k = 0; k < recs; k++)
        lab[k] = tr->labels[cli_order_row(&ord, (a->first / stride + (uint64_t)k + 1) * stride - 1)];
    cli_order_close(&ord);
    return 1;
}

/* Training accuracy in bins of 100 samples (EIANN recomputes it from its output history): the
 * forward output of every training sample (train_output.npy, written by btsp train --out)
 * against the label of that sample in the run's order. train_accuracy_binned.csv:
 * samples (end of the bin), train_accuracy (percent); also drawn into train_accuracy.png. */
static int train_accuracy(an_ctx *a, const char *run_json, unsigned long long data_seed)
{
    size_t w = btsp_pop_size(btsp_net_output(a->net)), n = 0;
    float *out = read_record(a, "train_output.npy", w, &n);
    if (!out)
        return 1; /* absent (an older run directory, or a run too long to record) or said why */
    uint8_t *lab = malloc(n ? n : 1);
    float *correct = malloc((n ? n : 1) * sizeof *correct);
    int ok = lab && correct;
    if (!ok) {
        fprintf(stderr, "btsp: out of memory\n");
    } else if (!record_labels(a, run_json, data_seed, 1, n, lab)) { /* stride 1: sample k's label */
        fprintf(stderr, "btsp analyze: training accuracy skipped\n");
    } else {
        for (size_t k = 0; k < n; k++)
            correct[k] = btsp_an_argmax(out + k * w, w) == lab[k] ? 100.0f : 0.0f;
        static const char *const tr_name[1] = {"training accuracy"};
        const btsp_an_plot_labels lb = {"Accuracy on the training samples as they came, bins of 100 samples",
                                        "training samples", "accuracy (%)", tr_name};
        ok = binned_series(a, correct, n, "train_accuracy_binned.csv", "train_accuracy", "train_accuracy.png", &lb,
                           0.0, 100.0);
    }
    free(lab);
    free(correct);
    btsp_npy_free(out);
    return ok;
}

/* The plateau raster recorded during training, as an image (units x records), and sorted by
 * class (EIANN's plot_sorted_plateaus): records ordered by the label of their training sample
 * (time order within a class), units by preferred class (btsp_an_class_sorted() of the raster).
 * Writes plateaus_sorted_<P>.npy (records x units), plateaus_sorted_labels_<P>.npy,
 * plateaus_sorted_units_<P>.npy and plateaus_sorted_<P>.png. */
static int plateau_picture(an_ctx *a, const char *run_json, unsigned long long data_seed)
{
    char pop[160], path[4096], err[1024], name[256];
    if (!cli_json_get_string(run_json, "plateau_population", pop, sizeof pop))
        return 1;
    btsp_pop *p;
    if (btsp_net_find_pop(a->net, pop, &p))
        return 1;
    char pname[160];
    cli_pop_file_name(p, pname, sizeof pname);
    snprintf(name, sizeof name, "plateaus_%s.npy", pname);
    float *v = NULL;
    size_t shape[2], nd;
    if (!cli_path(path, sizeof path, a->run, name) || btsp_npy_read_f32(path, &v, shape, &nd, err, sizeof err))
        return 1;
    double pstride = 0.0; /* records every pstride samples; unknown in older run directories */
    const int have_stride = cli_json_get_number(run_json, "plateau_stride", &pstride) && pstride >= 1.0;
    const unsigned long long stride = have_stride ? (unsigned long long)pstride : 1;
    size_t n_rec = complete_records(a, shape[0], stride),
           n = nd > 1 ? shape[1] : 1;
    size_t recs = n_rec < 2000 ? n_rec : 2000;
    float *tr = recs && n && a->png ? malloc(recs * n * sizeof *tr) : NULL;
    int ok = 1;
    if (tr) {
        for (size_t r = 0; r < recs; r++)
            for (size_t u = 0; u < n; u++)
                tr[u * recs + r] = v[r * n + u];
        snprintf(name, sizeof name, "plateaus_%s.png", pname);
        ok = write_png_gray(a, name, tr, 1, recs, n, 1, 1, 1);
    }
    free(tr);
    /* class-sorted raster */
    size_t C = a->d.train.n_classes;
    uint8_t *lab = n_rec && n ? malloc(n_rec) : NULL, *slab = lab ? malloc(n_rec) : NULL;
    size_t *rorder = lab ? malloc(n_rec * sizeof *rorder) : NULL, *uorder = lab ? malloc(n * sizeof *uorder) : NULL;
    float *cs = lab ? malloc(C * n * sizeof *cs) : NULL, *sorted = lab ? malloc(n_rec * n * sizeof *sorted) : NULL;
    float *fl = lab ? malloc((n_rec > n ? n_rec : n) * sizeof *fl) : NULL;
    if (ok && n_rec && n && have_stride) {
        if (!lab || !slab || !rorder || !uorder || !cs || !sorted || !fl) {
            fprintf(stderr, "btsp: out of memory\n");
            ok = 0;
        } else if (!record_labels(a, run_json, data_seed, stride, n_rec, lab)) {
            fprintf(stderr, "btsp analyze: no class-sorted plateau raster (the sample order is unknown)\n");
        } else if (btsp_an_class_order(lab, n_rec, C, rorder) ||
                   btsp_an_class_sorted(v, n_rec, n, lab, C, cs, uorder, NULL, NULL)) {
            fprintf(stderr, "btsp analyze: cannot sort the plateau raster by class\n");
            ok = 0;
        } else {
            for (size_t r = 0; r < n_rec; r++) {
                slab[r] = lab[rorder[r]];
                for (size_t u = 0; u < n; u++)
                    sorted[r * n + u] = v[rorder[r] * n + uorder[u]];
            }
            snprintf(name, sizeof name, "plateaus_sorted_%s.npy", pname);
            ok = out_path(a, path, sizeof path, name) && cli_write_npy(path, sorted, n_rec, n);
            a->n_outputs += ok;
            for (size_t r = 0; ok && r < n_rec; r++)
                fl[r] = (float)slab[r];
            snprintf(name, sizeof name, "plateaus_sorted_labels_%s.npy", pname);
            ok = ok && out_path(a, path, sizeof path, name) && cli_write_npy(path, fl, n_rec, 0);
            a->n_outputs += ok;
            for (size_t u = 0; ok && u < n; u++)
                fl[u] = (float)uorder[u];
            snprintf(name, sizeof name, "plateaus_sorted_units_%s.npy", pname);
            ok = ok && out_path(a, path, sizeof path, name) && cli_write_npy(path, fl, n, 0);
            a->n_outputs += ok;
            /* picture: units x (at most 2000 evenly spaced sorted records) */
            size_t step = (n_rec + 1999) / 2000, cols = (n_rec + step - 1) / step;
            float *img = ok && a->png ? malloc(cols * n * sizeof *img) : NULL;
            if (img) {
                for (size_t c = 0; c < cols; c++)
                    for (size_t u = 0; u < n; u++)
                        img[u * cols + c] = sorted[c * step * n + u];
                snprintf(name, sizeof name, "plateaus_sorted_%s.png", pname);
                ok = write_png_gray(a, name, img, 1, cols, n, 1, 1, 1);
            }
            free(img);
        }
    }
    free(lab);
    free(slab);
    free(rorder);
    free(uorder);
    free(cs);
    free(sorted);
    free(fl);
    btsp_npy_free(v);
    return ok;
}

int cli_cmd_analyze(options *o)
{
    an_ctx a;
    memset(&a, 0, sizeof a);
    a.run = o->weights;
    char path[4096], config[4096], data[1024];
    char *run_json = NULL;
    int rc = 1;
    cli_csv_table val;
    int have_val = 0;
    memset(&val, 0, sizeof val);
    if (!cli_path(path, sizeof path, a.run, "run.json") || !(run_json = cli_read_file(path, NULL))) {
        fprintf(stderr, "btsp analyze: cannot read %s/run.json (a directory made by btsp train --out)\n", a.run);
        return 1;
    }
    unsigned long long seed = 0, data_seed = 0; /* exactly: seeds may exceed 2^53 */
    if (!cli_json_get_u64(run_json, "seed", &seed) || !cli_json_get_u64(run_json, "data_seed", &data_seed) ||
        !cli_json_get_string(run_json, "data", data, sizeof data)) {
        fprintf(stderr, "btsp analyze: %s/run.json lacks seed, data_seed or data\n", a.run);
        goto done;
    }
    /* the configuration: the copy in the run directory, else the recorded path */
    char copy[256];
    struct stat sb;
    if (cli_json_get_string(run_json, "config_copy", copy, sizeof copy) &&
        cli_path(config, sizeof config, a.run, copy) && stat(config, &sb) == 0) {
        /* use the copy */
    } else if (!cli_json_get_string(run_json, "config_abs", config, sizeof config) &&
               !cli_json_get_string(run_json, "config", config, sizeof config)) {
        fprintf(stderr, "btsp analyze: %s/run.json names no config\n", a.run);
        goto done;
    }
    if (!cli_json_get_u64(run_json, "first_sample", &a.first))
        a.first = 0; /* a run directory from before --resume */
    /* a run that was interrupted (killed after some snapshot): analyse it up to its last
     * complete snapshot, which run.json was written for */
    a.last = ULLONG_MAX;
    if (!cli_json_get_u64(run_json, "samples_done", &a.done))
        a.done = ULLONG_MAX;
    int complete = 1;
    if (cli_json_get_bool(run_json, "complete", &complete) && !complete &&
        cli_json_get_u64(run_json, "samples_done", &a.last))
        fprintf(stderr, "btsp analyze: %s is an interrupted run: analysing its first %llu samples\n", a.run, a.last);
    unsigned long long gone = 0;
    size_t n_gone = cli_missing_snapshots(a.run, a.last, &gone);
    if (n_gone)
        fprintf(stderr, "btsp analyze: %zu of the snapshots %s/run.json lists are missing (the first: %llu); the "
                        "histories leave them out\n",
                n_gone, a.run, gone);
    const char *dname = o->data ? o->data : data;
    /* the run's draws: with --rng torch the receptive fields are EIANN's, and the update
     * angles' training steps mask with them */
    const int torch = run_torch_rng(run_json);
    a.net = cli_load_net(config, seed, NULL, NULL, 0);
    if (!a.net)
        goto done;
    if (torch)
        btsp_net_set(a.net, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH);
    if (btsp_net_finalize(a.net)) {
        fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(a.net));
        goto done;
    }
    size_t n_evals = o->jobs < CLI_MAX_EVAL_THREADS ? (size_t)o->jobs : CLI_MAX_EVAL_THREADS;
    for (; a.n_evals + 1 < n_evals; a.n_evals++) {
        btsp_net *e = cli_load_net(config, seed, NULL, NULL, 0);
        if (!e)
            goto done;
        if (torch)
            btsp_net_set(e, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH);
        a.evals[a.n_evals] = e;
        if (btsp_net_finalize(e)) {
            fprintf(stderr, "btsp: %s\n", btsp_net_errmsg(e));
            a.n_evals++;
            goto done;
        }
    }
    a.evals[a.n_evals++] = a.net;
    if (!cli_load_data(dname, data_seed, &a.d) || !cli_check_dims(a.net, &a.d))
        goto done;
    size_t n_test = o->max_test && o->max_test < a.d.test.n ? (size_t)o->max_test : a.d.test.n;
    if (btsp_dataset_subset(&a.d.test, 0, n_test, &a.test)) {
        fprintf(stderr, "btsp: out of memory\n");
        goto done;
    }
    if (!cli_path(a.dir, sizeof a.dir, a.run, "analysis") || !cli_make_dir(a.dir))
        goto done;
    a.png = btsp_png_available();
    fprintf(stderr, "btsp analyze: %s (%s, %zu test rows)%s\n", a.run, dname, a.test.n,
            a.png ? "" : "; built without libpng: CSV, .npy and SVG line plots, no PNG figures");
    if (cli_path(path, sizeof path, a.run, "val_history.csv"))
        have_val = cli_csv_read(path, &val);
    if (!(a.sum = open_out(&a, "summary.csv")))
        goto done;
    fputs("kind,item,metric,value\n", a.sum);
    if (!snapshot_histories(&a, have_val ? &val : NULL) || !binned_histories(&a) ||
        !update_angles(&a, run_json, data_seed, (size_t)o->angle_samples, o->bp_steps) ||
        !loss_landscape(&a, (size_t)o->landscape_points, (size_t)o->landscape_rows))
        goto done;
    char err[1024];
    /* final weights: those of the last complete snapshot for an interrupted run (its top-level
     * files may be half replaced by the next one) */
    char wdir[4096], wname[64];
    snprintf(wname, sizeof wname, "snapshots/%llu", a.last);
    if (a.last != ULLONG_MAX && !cli_path(wdir, sizeof wdir, a.run, wname)) {
        fprintf(stderr, "btsp: path too long: %s/snapshots\n", a.run);
        goto done;
    }
    if (btsp_io_load_weights(a.net, a.last != ULLONG_MAX ? wdir : a.run, 1, err, sizeof err)) {
        fprintf(stderr, "btsp: final weights: %s\n", err);
        goto done;
    }
    if (!cli_weights_fit_fields(a.net, "btsp analyze: final weights", err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    size_t n_out = btsp_pop_size(btsp_net_output(a.net));
    float *out = malloc((a.test.n ? a.test.n : 1) * n_out * sizeof *out);
    double loss = NAN;
    double acc = out ? an_accuracy(&a, &a.test, out, &loss) : NAN;
    free(out);
    double eq_residual = NAN;
    double rf_structure = NAN;
    if (!(a.rfm = open_out(&a, "rf_metrics.csv")) || !(a.rfs = open_out(&a, "rf_spectrum.csv")))
        goto done;
    fputs("population,kind,units,structured_units,structure,peak_frequency\n", a.rfm);
    fputs("population,kind,frequency,power\n", a.rfs);
    if (!receptive_fields(&a, &rf_structure) ||
        !maxact_rfs(&a, (size_t)o->rf_images, grad_window(a.net, o->bp_steps), (uint64_t)seed) ||
        !population_analyses(&a, (size_t)o->rsm_patterns, &eq_residual))
        goto done;
    int closed = close_out(&a, a.rfm, "rf_metrics.csv");
    closed &= close_out(&a, a.rfs, "rf_spectrum.csv");
    a.rfm = a.rfs = NULL;
    if (!closed || !plateau_picture(&a, run_json, data_seed) ||
        !train_accuracy(&a, run_json, data_seed))
        goto done;
    summary_row(&a, "test", "all", "accuracy", acc);
    summary_row(&a, "test", "all", "loss", loss);
    summary_row(&a, "receptive_fields", "first_layer", "structure", rf_structure);
    summary_row(&a, "equilibration", "all", "residual", eq_residual);
    closed = close_out(&a, a.sum, "summary.csv");
    a.sum = NULL;
    if (!closed)
        goto done;
    rc = 0;
    if (o->no_json) /* btsp compare --analyze: its own JSON line stays the last */
        goto done;
    printf("{");
    cli_json_string(stdout, "command", "analyze", 0);
    cli_json_string(stdout, "run", a.run, 0);
    cli_json_string(stdout, "analysis", a.dir, 0);
    cli_json_string(stdout, "data", dname, 0);
    printf("\"test_rows\": %zu, ", a.test.n);
    cli_json_number(stdout, "test_accuracy", acc, 0);
    cli_json_number(stdout, "test_loss", loss, 0);
    cli_json_number(stdout, "equilibration_residual", eq_residual, 0);
    cli_json_number(stdout, "rf_structure", rf_structure, 0);
    printf("\"png\": %s, \"files\": %zu}\n", a.png ? "true" : "false", a.n_outputs);
done:
    if (a.sum)
        fclose(a.sum);
    if (a.rfm)
        fclose(a.rfm);
    if (a.rfs)
        fclose(a.rfs);
    cli_csv_free(&val);
    free(run_json);
    for (size_t k = 0; k + 1 < a.n_evals; k++)
        btsp_net_destroy(a.evals[k]);
    if (a.n_evals && a.evals[a.n_evals - 1] != a.net)
        btsp_net_destroy(a.evals[a.n_evals - 1]); /* a copy whose finalize failed */
    btsp_net_destroy(a.net);
    btsp_dataset_free(&a.test);
    cli_split_free(&a.d);
    return rc;
}
