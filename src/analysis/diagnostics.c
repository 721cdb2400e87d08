/* Analyses: representation summaries, equilibration check, class ordering of records, receptive
 * field structure (Moran's I) (btsp_analysis.h). Pure functions on plain arrays. */
#include "btsp/btsp_analysis.h"

#include <math.h>
#include <stdlib.h>

btsp_status btsp_an_representation_means(const float *act, size_t n_patterns, size_t n_units, double *sparsity,
                                         double *selectivity, double *discriminability)
{
    if (!act || n_patterns == 0 || n_units == 0)
        return BTSP_E_INVALID_ARG;
    if (sparsity) {
        double s = 0.0;
        for (size_t r = 0; r < n_patterns; r++)
            s += btsp_an_vg_sparseness(act + r * n_units, n_units, 1);
        *sparsity = s / (double)n_patterns;
    }
    if (selectivity) {
        double s = 0.0;
        for (size_t u = 0; u < n_units; u++)
            s += btsp_an_vg_sparseness(act + u, n_patterns, n_units);
        *selectivity = s / (double)n_units;
    }
    if (discriminability)
        return btsp_an_discriminability_mean(act, n_patterns, n_units, discriminability);
    return BTSP_OK;
}

btsp_status btsp_an_equilibration(const float *a_last, const float *a_prev, size_t n, double threshold,
                                  double *rel_change, double *residual)
{
    if (!a_last || !a_prev || n == 0 || !rel_change)
        return BTSP_E_INVALID_ARG;
    double s_last = 0.0, s_prev = 0.0;
    for (size_t i = 0; i < n; i++) {
        s_last += (double)a_last[i];
        s_prev += (double)a_prev[i];
    }
    double m_last = s_last / (double)n, m_prev = s_prev / (double)n, d = fabs(m_last - m_prev);
    double rel = d == 0.0 ? 0.0 : m_last != 0.0 ? d / fabs(m_last) : INFINITY;
    if (!isfinite(m_last) || !isfinite(m_prev))
        rel = NAN; /* a diverged population: not equilibrated, and no residual to speak of */
    *rel_change = rel;
    if (residual && !(rel <= threshold))
        *residual += rel;
    return BTSP_OK;
}

btsp_status btsp_an_class_order(const uint8_t *labels, size_t n, size_t n_classes, size_t *order)
{
    if (!labels || !order || n_classes == 0)
        return BTSP_E_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= n_classes)
            return BTSP_E_RANGE;
    size_t k = 0;
    for (size_t c = 0; c < n_classes; c++)
        for (size_t i = 0; i < n; i++)
            if (labels[i] == c)
                order[k++] = i;
    return BTSP_OK;
}

double btsp_an_morans_i(const float *img, size_t width, size_t height)
{
    if (!img || width == 0 || height == 0)
        return NAN;
    size_t n = width * height;
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += (double)img[i];
    mean /= (double)n;
    double var = 0.0, cross = 0.0, wsum = 0.0;
    for (size_t y = 0; y < height; y++)
        for (size_t x = 0; x < width; x++) {
            double di = (double)img[y * width + x] - mean;
            var += di * di;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    if (!dx && !dy)
                        continue;
                    if ((dy < 0 && y == 0) || (dy > 0 && y + 1 == height) || (dx < 0 && x == 0) ||
                        (dx > 0 && x + 1 == width))
                        continue;
                    size_t j = (size_t)((ptrdiff_t)(y * width + x) + dy * (ptrdiff_t)width + dx);
                    cross += di * ((double)img[j] - mean);
                    wsum += 1.0;
                }
        }
    if (var == 0.0 || wsum == 0.0)
        return NAN;
    return ((double)n / wsum) * cross / var;
}
