/* Analyses: representational similarity, class statistics, participation ratio and
 * class-sorted activity (btsp_analysis.h). */
#include "btsp/btsp_analysis.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* a x b doubles (a zero counts as one) fit in memory's size_t: the tables sized by a caller's
 * class count, or larger than the float input they come from */
static int table_fits(size_t a, size_t b)
{
    a = a ? a : 1;
    b = b ? b : 1;
    return a <= SIZE_MAX / sizeof(double) / b;
}

static btsp_status check_labels(const uint8_t *labels, size_t n_patterns, size_t n_classes)
{
    for (size_t r = 0; r < n_patterns; r++)
        if ((size_t)labels[r] >= n_classes)
            return BTSP_E_RANGE;
    return BTSP_OK;
}

btsp_status btsp_an_rsm(const float *act, size_t n_patterns, size_t n_units, float *out)
{
    if (!act || !out)
        return BTSP_E_INVALID_ARG;
    double *norm = malloc((n_patterns ? n_patterns : 1) * sizeof *norm);
    if (!norm)
        return BTSP_E_NOMEM;
    for (size_t r = 0; r < n_patterns; r++) {
        const float *a = act + r * n_units;
        double s = 0.0;
        for (size_t u = 0; u < n_units; u++)
            s += (double)a[u] * (double)a[u];
        norm[r] = sqrt(s);
    }
    for (size_t i = 0; i < n_patterns; i++)
        for (size_t j = 0; j <= i; j++) {
            double sim = 0.0;
            if (!isfinite(norm[i]) || !isfinite(norm[j])) {
                sim = NAN; /* a non-finite activity has no similarity, not that of a silent row */
            } else if (norm[i] > 0.0 && norm[j] > 0.0) {
                const float *a = act + i * n_units, *b = act + j * n_units;
                double d = 0.0;
                for (size_t u = 0; u < n_units; u++)
                    d += (double)a[u] * (double)b[u];
                sim = d / (norm[i] * norm[j]);
            }
            out[i * n_patterns + j] = out[j * n_patterns + i] = (float)sim;
        }
    free(norm);
    return BTSP_OK;
}

btsp_status btsp_an_class_means(const float *act, size_t n_patterns, size_t n_units, const uint8_t *labels,
                                size_t n_classes, float *out, size_t *counts)
{
    if (!act || !labels || !out || n_classes == 0)
        return BTSP_E_INVALID_ARG;
    if (check_labels(labels, n_patterns, n_classes))
        return BTSP_E_RANGE;
    if (!table_fits(n_classes, n_units))
        return BTSP_E_INVALID_ARG;
    double *sum = calloc(n_classes * (n_units ? n_units : 1), sizeof *sum);
    size_t *cnt = calloc(n_classes, sizeof *cnt);
    if (!sum || !cnt) {
        free(sum);
        free(cnt);
        return BTSP_E_NOMEM;
    }
    for (size_t r = 0; r < n_patterns; r++) {
        size_t c = labels[r];
        cnt[c]++;
        for (size_t u = 0; u < n_units; u++)
            sum[c * n_units + u] += (double)act[r * n_units + u];
    }
    for (size_t c = 0; c < n_classes; c++) {
        for (size_t u = 0; u < n_units; u++)
            out[c * n_units + u] = cnt[c] ? (float)(sum[c * n_units + u] / (double)cnt[c]) : 0.0f;
        if (counts)
            counts[c] = cnt[c];
    }
    free(sum);
    free(cnt);
    return BTSP_OK;
}

/* Per class: s_c = sum of the unit vectors of its patterns (zero patterns add nothing),
 * n_c = number of patterns, m_c = number of non-zero patterns. */
typedef struct class_sums {
    double *s;
    double *n;
    double *m;
} class_sums;

static void class_sums_free(class_sums *cs)
{
    free(cs->s);
    free(cs->n);
    free(cs->m);
}

static btsp_status class_sums_make(const float *act, size_t n_patterns, size_t n_units, const uint8_t *labels,
                                   size_t n_classes, class_sums *cs)
{
    memset(cs, 0, sizeof *cs);
    if (!table_fits(n_classes, n_units))
        return BTSP_E_INVALID_ARG;
    cs->s = calloc(n_classes * (n_units ? n_units : 1), sizeof *cs->s);
    cs->n = calloc(n_classes, sizeof *cs->n);
    cs->m = calloc(n_classes, sizeof *cs->m);
    if (!cs->s || !cs->n || !cs->m) {
        class_sums_free(cs);
        return BTSP_E_NOMEM;
    }
    for (size_t r = 0; r < n_patterns; r++) {
        const float *a = act + r * n_units;
        size_t c = labels[r];
        cs->n[c] += 1.0;
        double q = 0.0;
        for (size_t u = 0; u < n_units; u++)
            q += (double)a[u] * (double)a[u];
        if (q == 0.0)
            continue;
        cs->m[c] += 1.0;
        double inv = 1.0 / sqrt(q);
        for (size_t u = 0; u < n_units; u++)
            cs->s[c * n_units + u] += (double)a[u] * inv;
    }
    return BTSP_OK;
}

static double dot_d(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

btsp_status btsp_an_rsm_class(const float *act, size_t n_patterns, size_t n_units, const uint8_t *labels,
                              size_t n_classes, float *out)
{
    if (!act || !labels || !out || n_classes == 0)
        return BTSP_E_INVALID_ARG;
    if (check_labels(labels, n_patterns, n_classes))
        return BTSP_E_RANGE;
    class_sums cs;
    btsp_status st = class_sums_make(act, n_patterns, n_units, labels, n_classes, &cs);
    if (st)
        return st;
    for (size_t a = 0; a < n_classes; a++)
        for (size_t b = 0; b <= a; b++) {
            double d = dot_d(cs.s + a * n_units, cs.s + b * n_units, n_units), v;
            if (a == b)
                v = cs.n[a] >= 2.0 ? (d - cs.m[a]) / (cs.n[a] * (cs.n[a] - 1.0)) : NAN;
            else
                v = cs.n[a] > 0.0 && cs.n[b] > 0.0 ? d / (cs.n[a] * cs.n[b]) : NAN;
            out[a * n_classes + b] = out[b * n_classes + a] = (float)v;
        }
    class_sums_free(&cs);
    return BTSP_OK;
}

btsp_status btsp_an_class_similarity(const float *act, size_t n_patterns, size_t n_units, const uint8_t *labels,
                                     size_t n_classes, double *within, double *between)
{
    if (!act || !labels || !within || !between || n_classes == 0)
        return BTSP_E_INVALID_ARG;
    if (check_labels(labels, n_patterns, n_classes))
        return BTSP_E_RANGE;
    class_sums cs;
    btsp_status st = class_sums_make(act, n_patterns, n_units, labels, n_classes, &cs);
    if (st)
        return st;
    double *total = calloc(n_units ? n_units : 1, sizeof *total);
    if (!total) {
        class_sums_free(&cs);
        return BTSP_E_NOMEM;
    }
    for (size_t c = 0; c < n_classes; c++)
        for (size_t u = 0; u < n_units; u++)
            total[u] += cs.s[c * n_units + u];
    double p = (double)n_patterns;
    for (size_t c = 0; c < n_classes; c++) {
        const double *s = cs.s + c * n_units;
        double nc = cs.n[c];
        within[c] = nc >= 2.0 ? (dot_d(s, s, n_units) - cs.m[c]) / (nc * (nc - 1.0)) : NAN;
        /* s . (total - s) = sum of similarities of (class c, other class) pairs */
        double cross = dot_d(s, total, n_units) - dot_d(s, s, n_units);
        between[c] = nc > 0.0 && p - nc > 0.0 ? cross / (nc * (p - nc)) : NAN;
    }
    free(total);
    class_sums_free(&cs);
    return BTSP_OK;
}

btsp_status btsp_an_participation_ratio(const float *act, size_t n_patterns, size_t n_units, double *pr)
{
    if (pr)
        *pr = 0.0;
    if (!act || !pr)
        return BTSP_E_INVALID_ARG;
    if (n_patterns < 2 || n_units == 0)
        return BTSP_OK;
    double *mean = calloc(n_units, sizeof *mean);
    if (!mean)
        return BTSP_E_NOMEM;
    for (size_t r = 0; r < n_patterns; r++)
        for (size_t u = 0; u < n_units; u++)
            mean[u] += (double)act[r * n_units + u];
    for (size_t u = 0; u < n_units; u++)
        mean[u] /= (double)n_patterns;
    /* Gram matrix of the centred activity over the smaller dimension: G = Xc^T Xc (units) or
     * Xc Xc^T (patterns); tr G = sum Xc^2 and tr(G^2) = |G|_F^2 in both cases. */
    int by_units = n_units <= n_patterns;
    size_t g = by_units ? n_units : n_patterns;
    /* act (floats) exists, but twice its bytes in doubles need not fit in size_t */
    if (!table_fits(g, g) || (!by_units && !table_fits(n_units, n_patterns))) {
        free(mean);
        return BTSP_E_INVALID_ARG;
    }
    double *gram = calloc(g * g, sizeof *gram);
    double *row = malloc((by_units ? n_units : n_units * n_patterns) * sizeof *row);
    if (!gram || !row) {
        free(mean);
        free(gram);
        free(row);
        return BTSP_E_NOMEM;
    }
    if (by_units) {
        for (size_t r = 0; r < n_patterns; r++) {
            for (size_t u = 0; u < n_units; u++)
                row[u] = (double)act[r * n_units + u] - mean[u];
            for (size_t j = 0; j < n_units; j++) {
                double x = row[j];
                if (x == 0.0)
                    continue;
                double *gj = gram + j * g;
                for (size_t k = j; k < n_units; k++)
                    gj[k] += x * row[k];
            }
        }
    } else {
        for (size_t r = 0; r < n_patterns; r++)
            for (size_t u = 0; u < n_units; u++)
                row[r * n_units + u] = (double)act[r * n_units + u] - mean[u];
        for (size_t j = 0; j < n_patterns; j++)
            for (size_t k = j; k < n_patterns; k++)
                gram[j * g + k] = dot_d(row + j * n_units, row + k * n_units, n_units);
    }
    double tr = 0.0, fro = 0.0;
    for (size_t j = 0; j < g; j++) {
        tr += gram[j * g + j];
        fro += gram[j * g + j] * gram[j * g + j];
        for (size_t k = j + 1; k < g; k++)
            fro += 2.0 * gram[j * g + k] * gram[j * g + k];
    }
    /* 0 for no variance; NaN (not 0) when an activity is not finite */
    *pr = !isfinite(fro) || !isfinite(tr) ? NAN : fro > 0.0 ? tr * tr / fro : 0.0;
    free(mean);
    free(gram);
    free(row);
    return BTSP_OK;
}

double btsp_an_participation_ratio_sym(const float *m, size_t n)
{
    if (!m || n == 0)
        return NAN;
    double tr = 0.0, fro = 0.0;
    for (size_t i = 0; i < n; i++) {
        tr += (double)m[i * n + i];
        for (size_t j = 0; j < n; j++)
            fro += (double)m[i * n + j] * (double)m[i * n + j];
    }
    return !isfinite(fro) || !isfinite(tr) ? NAN : fro > 0.0 ? tr * tr / fro : 0.0;
}

btsp_status btsp_an_class_sorted(const float *act, size_t n_patterns, size_t n_units, const uint8_t *labels,
                                 size_t n_classes, float *out, size_t *order, int *preferred, size_t *n_active)
{
    if (n_active)
        *n_active = 0;
    if (!act || !labels || !out || !order || n_classes == 0)
        return BTSP_E_INVALID_ARG;
    size_t nu = n_units ? n_units : 1;
    if (!table_fits(n_classes, nu))
        return BTSP_E_INVALID_ARG;
    float *means = malloc(n_classes * nu * sizeof *means);
    int *pref = malloc(nu * sizeof *pref);
    if (!means || !pref) {
        free(means);
        free(pref);
        return BTSP_E_NOMEM;
    }
    btsp_status st = btsp_an_class_means(act, n_patterns, n_units, labels, n_classes, means, NULL);
    if (st) {
        free(means);
        free(pref);
        return st;
    }
    for (size_t u = 0; u < n_units; u++) {
        double col = 0.0;
        for (size_t r = 0; r < n_patterns; r++)
            col += (double)act[r * n_units + u];
        if (col == 0.0) {
            pref[u] = -1;
            continue;
        }
        size_t best = 0;
        for (size_t c = 1; c < n_classes; c++)
            if (means[c * n_units + u] > means[best * n_units + u])
                best = c;
        pref[u] = (int)best;
    }
    size_t k = 0;
    for (size_t c = 0; c < n_classes; c++)
        for (size_t u = 0; u < n_units; u++)
            if (pref[u] == (int)c)
                order[k++] = u;
    if (n_active)
        *n_active = k;
    for (size_t u = 0; u < n_units; u++)
        if (pref[u] < 0)
            order[k++] = u;
    for (size_t c = 0; c < n_classes; c++)
        for (size_t j = 0; j < n_units; j++)
            out[c * n_units + j] = means[c * n_units + order[j]];
    if (preferred)
        memcpy(preferred, pref, n_units * sizeof *pref);
    free(means);
    free(pref);
    return BTSP_OK;
}
