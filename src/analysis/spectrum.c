/* Analyses: radially binned spatial power spectrum of a square image (btsp_analysis.h), as
 * EIANN's compute_PSD (numpy fftn + scipy binned_statistic). Pure function, double accumulation.
 *
 * The 2-D DFT is evaluated directly, as a separable transform (all rows, then all columns) with
 * cos/sin tables: O(side^3). No FFT library is used on purpose: the images analysed are receptive
 * fields of 28 x 28 pixels, about 44k complex multiply-adds each, which an FFT would not
 * noticeably speed up, and this layer keeps its dependencies to libm (plus the optional libpng
 * of the PNG writer). Fine up to side = 512 or so. */
#include "btsp/btsp_analysis.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Bin of the integer frequency (fx, fy) (|fx|, |fy| given): bin b is [b + 0.5, b + 1.5), so the
 * bin is m - 1 with m the integer nearest to k = sqrt(fx^2 + fy^2). k is never a half-integer
 * (k^2 is an integer, (m + 0.5)^2 is not), so whether an edge is open or closed (scipy closes
 * the last bin) cannot matter, and the comparison is done exactly on k^2:
 * (m - 0.5)^2 <= k^2 < (m + 0.5)^2  <=>  m^2 - m < k^2 <= m^2 + m.
 * Returns n_bins for the DC term (m = 0) and for k beyond the last edge (m > n_bins). */
static size_t bin_of(size_t fx, size_t fy, size_t n_bins)
{
    const size_t k2 = fx * fx + fy * fy;
    size_t m = (size_t)floor(sqrt((double)k2) + 0.5);
    while (m * m + m < k2) /* sqrt rounding: at most one step either way */
        m++;
    while (m > 0 && m * m - m >= k2)
        m--;
    return m >= 1 && m <= n_bins ? m - 1 : n_bins;
}

btsp_status btsp_an_power_spectrum(const float *img, size_t side, float *power, size_t n_bins, size_t *peak)
{
    if (!img || !power || side < 2 || n_bins != side / 2)
        return BTSP_E_INVALID_ARG;
    if (side > SIZE_MAX / side) /* img cannot exist */
        return BTSP_E_INVALID_ARG;
    const size_t nn = side * side;
    /* work block: cos and sin tables (side each), the row transforms, real and imaginary parts
     * (nn each), per-bin sums and counts (n_bins each) */
    const size_t max_doubles = SIZE_MAX / sizeof(double);
    if (nn > max_doubles / 2 || 2 * side + 2 * n_bins > max_doubles - 2 * nn)
        return BTSP_E_NOMEM;
    double *work = malloc((2 * nn + 2 * side + 2 * n_bins) * sizeof *work);
    if (!work)
        return BTSP_E_NOMEM;
    double *cs = work, *sn = cs + side, *gre = sn + side, *gim = gre + nn, *sum = gim + nn, *cnt = sum + n_bins;
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t j = 0; j < side; j++) {
        const double t = two_pi * (double)j / (double)side;
        cs[j] = cos(t);
        sn[j] = sin(t);
    }
    for (size_t b = 0; b < n_bins; b++)
        sum[b] = cnt[b] = 0.0;

    /* Rows: G[y][kx] = sum_x img[y][x] exp(-2 pi i kx x / side), stored transposed
     * (g[kx * side + y]) so that the column pass reads contiguously. exp(-i t) = cos t - i sin t;
     * the table index kx * x mod side is advanced by kx per step. */
    for (size_t y = 0; y < side; y++) {
        const float *row = img + y * side;
        for (size_t kx = 0; kx < side; kx++) {
            double re = 0.0, im = 0.0;
            size_t idx = 0;
            for (size_t x = 0; x < side; x++) {
                const double v = (double)row[x];
                re += v * cs[idx];
                im -= v * sn[idx];
                idx += kx;
                if (idx >= side)
                    idx -= side;
            }
            gre[kx * side + y] = re;
            gim[kx * side + y] = im;
        }
    }

    /* Columns: F[ky][kx] = sum_y G[y][kx] exp(-2 pi i ky y / side); P = |F|^2 goes straight into
     * its bin. |fftfreq * side| of index j is min(j, side - j). Frequencies in no bin (DC,
     * corners beyond the last edge) are not computed. */
    for (size_t kx = 0; kx < side; kx++) {
        const double *ar = gre + kx * side, *ai = gim + kx * side;
        const size_t fx = kx <= side - kx ? kx : side - kx;
        for (size_t ky = 0; ky < side; ky++) {
            const size_t fy = ky <= side - ky ? ky : side - ky;
            const size_t b = bin_of(fx, fy, n_bins);
            if (b == n_bins)
                continue;
            double re = 0.0, im = 0.0;
            size_t idx = 0;
            for (size_t y = 0; y < side; y++) {
                /* (a + i c)(cos t - i sin t) = (a cos t + c sin t) + i (c cos t - a sin t) */
                re += ar[y] * cs[idx] + ai[y] * sn[idx];
                im += ai[y] * cs[idx] - ar[y] * sn[idx];
                idx += ky;
                if (idx >= side)
                    idx -= side;
            }
            sum[b] += re * re + im * im;
            cnt[b] += 1.0;
        }
    }

    /* mean over the bin times the annulus area pi (hi^2 - lo^2), hi = b + 1.5, lo = b + 0.5 */
    const double pi = 3.14159265358979323846;
    size_t best = 0;
    for (size_t b = 0; b < n_bins; b++) {
        const double lo = (double)b + 0.5, hi = lo + 1.0;
        sum[b] = cnt[b] > 0.0 ? sum[b] / cnt[b] * pi * (hi * hi - lo * lo) : 0.0;
        power[b] = (float)sum[b];
        if (sum[b] > sum[best]) /* ties to the lowest index; decided in double */
            best = b;
    }
    if (peak)
        *peak = best;
    free(work);
    return BTSP_OK;
}
