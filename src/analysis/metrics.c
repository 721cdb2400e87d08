/* Analyses: accuracy, loss, simple statistics, Vinje-Gallant sparseness, discriminability,
 * angles, activity-weighted average input (btsp_analysis.h). Pure functions on plain arrays,
 * double accumulation. */
#include "btsp/btsp_analysis.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

size_t btsp_an_argmax(const float *v, size_t n)
{
    size_t best = 0;
    if (!v)
        return 0;
    for (size_t k = 1; k < n; k++)
        if (v[k] > v[best])
            best = k;
    return best;
}

double btsp_an_accuracy(const float *out, size_t n_patterns, size_t n_out, const uint8_t *labels)
{
    if (!out || !labels || n_patterns == 0 || n_out == 0)
        return NAN;
    size_t correct = 0;
    for (size_t r = 0; r < n_patterns; r++)
        correct += btsp_an_argmax(out + r * n_out, n_out) == (size_t)labels[r];
    return 100.0 * (double)correct / (double)n_patterns;
}

double btsp_an_mse(const float *out, const float *target, size_t n_patterns, size_t n_out)
{
    if (!out || !target || n_patterns == 0 || n_out == 0)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n_patterns * n_out; i++) {
        double d = (double)out[i] - (double)target[i];
        s += d * d;
    }
    return s / ((double)n_patterns * (double)n_out);
}

double btsp_an_mean_abs(const float *v, size_t n)
{
    if (!v || n == 0)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += fabs((double)v[i]);
    return s / (double)n;
}

double btsp_an_norm(const float *v, size_t n)
{
    if (n == 0)
        return 0.0;
    if (!v)
        return NAN;
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)v[i] * (double)v[i];
    return sqrt(s);
}

/* Rows a and b (cols values) within tol everywhere; NaN compares as different. */
static int rows_close(const float *a, const float *b, size_t cols, double tol)
{
    for (size_t j = 0; j < cols; j++)
        if (!(fabs((double)a[j] - (double)b[j]) <= tol))
            return 0;
    return 1;
}

size_t btsp_an_distinct_rows(const float *W, size_t rows, size_t cols, double rel_tol, size_t *labels)
{
    if (!W || rows == 0 || cols == 0 || !(rel_tol >= 0.0))
        return 0;
    double wmax = 0.0;
    for (size_t i = 0; i < rows * cols; i++) {
        double v = fabs((double)W[i]);
        if (v > wmax && v < INFINITY)
            wmax = v; /* the scale of the finite weights: NaN never wins, +-inf is left out */
    }
    const double tol = rel_tol * wmax;
    size_t groups = 0;
    for (size_t i = 0; i < rows; i++) {
        size_t k = 0;
        while (k < i && !rows_close(W + i * cols, W + k * cols, cols, tol))
            k++;
        if (labels)
            labels[i] = k < i ? labels[k] : i;
        groups += k == i;
    }
    return groups;
}

size_t btsp_an_bin_means(const float *x, size_t n, size_t bin, float *out)
{
    if (!x || bin == 0)
        return 0;
    size_t nb = n / bin + (n % bin != 0);
    if (!out)
        return nb;
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * bin, hi = lo + bin < n ? lo + bin : n, k = 0;
        double s = 0.0;
        for (size_t i = lo; i < hi; i++)
            if (isfinite(x[i])) {
                s += (double)x[i];
                k++;
            }
        out[b] = k ? (float)(s / (double)k) : NAN;
    }
    return nb;
}

/* ------------------------------------------------------------------------------------------ */
/* Vinje & Gallant */

double btsp_an_vg_sparseness(const float *v, size_t n, size_t stride)
{
    if (!v || stride == 0)
        return NAN;
    if (n < 2)
        return 0.0;
    double s1 = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double a = (double)v[i * stride];
        s1 += a;
        s2 += a * a;
    }
    if (s1 == 0.0 || s2 == 0.0)
        return 0.0;
    double dn = (double)n;
    double frac = (s1 / dn) * (s1 / dn) / (s2 / dn);
    return (1.0 - frac) / (1.0 - 1.0 / dn);
}

btsp_status btsp_an_sparsity(const float *act, size_t n_patterns, size_t n_units, float *out)
{
    if (!act || !out)
        return BTSP_E_INVALID_ARG;
    for (size_t r = 0; r < n_patterns; r++)
        out[r] = (float)btsp_an_vg_sparseness(act + r * n_units, n_units, 1);
    return BTSP_OK;
}

btsp_status btsp_an_selectivity(const float *act, size_t n_patterns, size_t n_units, float *out)
{
    if (!act || !out)
        return BTSP_E_INVALID_ARG;
    for (size_t u = 0; u < n_units; u++)
        out[u] = (float)btsp_an_vg_sparseness(act + u, n_patterns, n_units);
    return BTSP_OK;
}

/* Row norms; norm 0 marks a silent row (activities summing to 0, EIANN's test). */
static double *silent_aware_norms(const float *act, size_t n_patterns, size_t n_units)
{
    double *norm = malloc((n_patterns ? n_patterns : 1) * sizeof *norm);
    if (!norm)
        return NULL;
    for (size_t r = 0; r < n_patterns; r++) {
        const float *a = act + r * n_units;
        double s1 = 0.0, s2 = 0.0;
        for (size_t u = 0; u < n_units; u++) {
            s1 += (double)a[u];
            s2 += (double)a[u] * (double)a[u];
        }
        norm[r] = s1 == 0.0 ? 0.0 : sqrt(s2);
    }
    return norm;
}

static double dot_f(const float *a, const float *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * (double)b[i];
    return s;
}

btsp_status btsp_an_discriminability(const float *act, size_t n_patterns, size_t n_units, float *out)
{
    if (!act || !out)
        return BTSP_E_INVALID_ARG;
    double *norm = silent_aware_norms(act, n_patterns, n_units);
    if (!norm)
        return BTSP_E_NOMEM;
    size_t k = 0;
    for (size_t i = 1; i < n_patterns; i++)
        for (size_t j = 0; j < i; j++) {
            double sim = 1.0;
            if (!isfinite(norm[i]) || !isfinite(norm[j]))
                sim = NAN; /* a non-finite activity: no similarity (as the mean) */
            else if (norm[i] > 0.0 && norm[j] > 0.0)
                sim = dot_f(act + i * n_units, act + j * n_units, n_units) / (norm[i] * norm[j]);
            out[k++] = (float)(1.0 - sim);
        }
    free(norm);
    return BTSP_OK;
}

btsp_status btsp_an_discriminability_mean(const float *act, size_t n_patterns, size_t n_units, double *mean)
{
    if (mean)
        *mean = NAN;
    if (!act || !mean)
        return BTSP_E_INVALID_ARG;
    if (n_patterns < 2)
        return BTSP_OK;
    double *norm = silent_aware_norms(act, n_patterns, n_units);
    double *sum = calloc(n_units ? n_units : 1, sizeof *sum);
    if (!norm || !sum) {
        free(norm);
        free(sum);
        return BTSP_E_NOMEM;
    }
    double m = 0.0;
    for (size_t r = 0; r < n_patterns; r++) {
        if (norm[r] == 0.0)
            continue;
        m += 1.0;
        const float *a = act + r * n_units;
        for (size_t u = 0; u < n_units; u++)
            sum[u] += (double)a[u] / norm[r];
    }
    double s2 = 0.0;
    for (size_t u = 0; u < n_units; u++)
        s2 += sum[u] * sum[u];
    double p = (double)n_patterns;
    double pairs = p * (p - 1.0) / 2.0;
    double active_pairs = m * (m - 1.0) / 2.0;
    double sim_active = (s2 - m) / 2.0; /* sum of similarities over pairs of non-silent patterns */
    double v = (active_pairs - sim_active) / pairs;
    /* rounding of the O(PN) identity can leave a tiny negative value for identical patterns */
    *mean = v < 0.0 ? 0.0 : v > 2.0 ? 2.0 : v;
    free(norm);
    free(sum);
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Angles: 2 atan2(|a/|a| - b/|b||, |a/|a| + b/|b||) (Kahan), equal to acos of the cosine but
 * accurate near 0 and 180 degrees. */

static double angle_kahan(double d2, double s2)
{
    return 2.0 * atan2(sqrt(d2), sqrt(s2)) * (180.0 / 3.14159265358979323846);
}

double btsp_an_angle_deg(const float *a, const float *b, size_t n)
{
    if (!a || !b || n == 0)
        return NAN;
    double na = 0.0, nb = 0.0;
    for (size_t i = 0; i < n; i++) {
        na += (double)a[i] * (double)a[i];
        nb += (double)b[i] * (double)b[i];
    }
    if (!(na > 0.0) || !(nb > 0.0) || !isfinite(na) || !isfinite(nb))
        return NAN;
    double ia = 1.0 / sqrt(na), ib = 1.0 / sqrt(nb), d2 = 0.0, s2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)a[i] * ia, y = (double)b[i] * ib;
        d2 += (x - y) * (x - y);
        s2 += (x + y) * (x + y);
    }
    return angle_kahan(d2, s2);
}

double btsp_an_angle_transposed_deg(const float *w, size_t rows, size_t cols, const float *b)
{
    if (!w || !b || rows == 0 || cols == 0)
        return NAN;
    double na = 0.0, nb = 0.0;
    for (size_t i = 0; i < rows * cols; i++) {
        na += (double)w[i] * (double)w[i];
        nb += (double)b[i] * (double)b[i];
    }
    if (!(na > 0.0) || !(nb > 0.0) || !isfinite(na) || !isfinite(nb))
        return NAN;
    double ia = 1.0 / sqrt(na), ib = 1.0 / sqrt(nb), d2 = 0.0, s2 = 0.0;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            double x = (double)w[r * cols + c] * ia, y = (double)b[c * rows + r] * ib;
            d2 += (x - y) * (x - y);
            s2 += (x + y) * (x + y);
        }
    return angle_kahan(d2, s2);
}

/* ------------------------------------------------------------------------------------------ */
/* Activity-weighted average input (EIANN's compute_act_weighted_avg) */

btsp_status btsp_an_weighted_average_input(const float *act, size_t n_patterns, size_t n_units, const float *X,
                                           size_t n_inputs, double eps, float *out)
{
    if (!act || !X || !out || n_patterns == 0 || n_units == 0 || n_inputs == 0 || !isfinite(eps) || eps < 0.0)
        return BTSP_E_INVALID_ARG;
    /* act, X and out cannot exist when their element counts overflow */
    if (n_units > SIZE_MAX / n_patterns || n_inputs > SIZE_MAX / n_patterns || n_inputs > SIZE_MAX / n_units)
        return BTSP_E_INVALID_ARG;
    const size_t n_acc = n_units * n_inputs;
    /* one block: the accumulator (units x inputs), the totals (units), one input row in double */
    const size_t max_doubles = SIZE_MAX / sizeof(double);
    if (n_acc > max_doubles || n_units > max_doubles - n_acc || n_inputs > max_doubles - n_acc - n_units)
        return BTSP_E_NOMEM;
    double *acc = calloc(n_acc + n_units + n_inputs, sizeof *acc);
    if (!acc)
        return BTSP_E_NOMEM;
    double *total = acc + n_acc, *xrow = total + n_units;
    /* Pattern by pattern: convert the input row once, then add it to the row of every unit that
     * is active for it. Silent (unit, pattern) pairs, most of them in sparse hidden layers, cost
     * one comparison. */
    for (size_t p = 0; p < n_patterns; p++) {
        const float *a = act + p * n_units;
        int converted = 0;
        for (size_t u = 0; u < n_units; u++) {
            if (a[u] == 0.0f)
                continue;
            if (!converted) {
                const float *x = X + p * n_inputs;
                for (size_t i = 0; i < n_inputs; i++)
                    xrow[i] = (double)x[i];
                converted = 1;
            }
            const double w = (double)a[u];
            double *r = acc + u * n_inputs;
            total[u] += w;
            for (size_t i = 0; i < n_inputs; i++)
                r[i] += w * xrow[i];
        }
    }
    for (size_t u = 0; u < n_units; u++) {
        const double den = total[u] + eps;
        const double *r = acc + u * n_inputs;
        float *o = out + u * n_inputs;
        for (size_t i = 0; i < n_inputs; i++)
            o[i] = den == 0.0 ? 0.0f : (float)(r[i] / den);
    }
    free(acc);
    return BTSP_OK;
}
