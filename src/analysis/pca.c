/* Principal components of a trajectory of parameter vectors (EIANN's loss landscape,
 * plot_loss_landscape): few points (snapshots, n <= a few hundred) in a high-dimensional space
 * (all weights, dim ~ 10^6). The components come from the n x n Gram matrix of the
 * standardised points, diagonalised by cyclic Jacobi rotations: O(n^2 dim + n^3), no
 * dim x dim covariance and no LAPACK dependency for what is at most a few hundred rows. */
#include "btsp/btsp_analysis.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Eigen-decomposition of the symmetric n x n matrix a (destroyed) by cyclic Jacobi sweeps:
 * eigenvalues on the diagonal of a, eigenvectors in the columns of v. */
static void jacobi(double *a, double *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            v[i * n + j] = i == j;
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0.0, diag = 0.0;
        for (size_t i = 0; i < n; i++) {
            diag += a[i * n + i] * a[i * n + i];
            for (size_t j = i + 1; j < n; j++)
                off += a[i * n + j] * a[i * n + j];
        }
        if (off <= 1e-30 * diag || off == 0.0)
            return;
        for (size_t p = 0; p < n; p++)
            for (size_t q = p + 1; q < n; q++) {
                double apq = a[p * n + q];
                if (apq == 0.0)
                    continue;
                /* rotation that zeroes a[p][q] (Golub & Van Loan, sym.schur2) */
                double tau = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                double t = (tau >= 0 ? 1.0 : -1.0) / (fabs(tau) + sqrt(1.0 + tau * tau));
                double c = 1.0 / sqrt(1.0 + t * t), s = t * c;
                for (size_t k = 0; k < n; k++) { /* columns p, q */
                    double akp = a[k * n + p], akq = a[k * n + q];
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for (size_t k = 0; k < n; k++) { /* rows p, q */
                    double apk = a[p * n + k], aqk = a[q * n + k];
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < n; k++) {
                    double vkp = v[k * n + p], vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
    }
}

btsp_status btsp_an_trajectory_pca(const float *X, size_t n, size_t dim, size_t k, float *coords, float *axes,
                                   float *mean, float *std, double *explained)
{
    if (!X || !coords || !axes || !mean || !std || !explained || n < 2 || dim == 0 || k == 0 || k > n)
        return BTSP_E_INVALID_ARG;
    if (n > SIZE_MAX / dim || n > SIZE_MAX / sizeof(double) / n || k > SIZE_MAX / sizeof(float) / dim)
        return BTSP_E_INVALID_ARG;
    double *g = calloc(n * n, sizeof *g), *v = malloc(n * n * sizeof *v), *z = malloc(n * sizeof *z);
    if (!g || !v || !z) {
        free(g);
        free(v);
        free(z);
        return BTSP_E_NOMEM;
    }
    /* standardise every coordinate over the points (unbiased std, as torch.std; a constant
     * coordinate has std 0 and, with EIANN's + 1e-10, contributes 0) and accumulate the Gram
     * matrix G = Z Z^T one coordinate at a time */
    for (size_t d = 0; d < dim; d++) {
        double m = 0.0, ss = 0.0;
        for (size_t i = 0; i < n; i++)
            m += X[i * dim + d];
        m /= (double)n;
        for (size_t i = 0; i < n; i++) {
            double e = X[i * dim + d] - m;
            ss += e * e;
        }
        mean[d] = (float)m;
        std[d] = (float)sqrt(ss / (double)(n - 1));
        /* the stored (float) mean and std, so that mean + std * (coords . axes) maps back */
        for (size_t i = 0; i < n; i++)
            z[i] = (X[i * dim + d] - (double)mean[d]) / ((double)std[d] + 1e-10);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j <= i; j++)
                g[i * n + j] += z[i] * z[j];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            g[j * n + i] = g[i * n + j];
    jacobi(g, v, n);
    /* order the eigenvalues (variances times n - 1) decreasingly */
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += fmax(g[i * n + i], 0.0);
    for (size_t c = 0; c < k; c++) {
        size_t best = c;
        for (size_t i = c + 1; i < n; i++)
            if (g[i * n + i] > g[best * n + best])
                best = i;
        if (best != c) { /* swap eigenpair best into position c */
            double t = g[c * n + c];
            g[c * n + c] = g[best * n + best];
            g[best * n + best] = t;
            for (size_t r = 0; r < n; r++) {
                t = v[r * n + c];
                v[r * n + c] = v[r * n + best];
                v[r * n + best] = t;
            }
        }
        double lam = fmax(g[c * n + c], 0.0), sigma = sqrt(lam);
        /* sign as scikit-learn's svd_flip: the score of largest magnitude is positive */
        size_t arg = 0;
        for (size_t r = 1; r < n; r++)
            if (fabs(v[r * n + c]) > fabs(v[arg * n + c]))
                arg = r;
        double sign = v[arg * n + c] < 0 ? -1.0 : 1.0;
        explained[c] = total > 0.0 ? lam / total : 0.0;
        for (size_t r = 0; r < n; r++)
            coords[r * k + c] = (float)(sign * v[r * n + c] * sigma); /* score = u sigma */
        /* axis = Z^T u / sigma (a unit vector in standardised space), Z rebuilt per coordinate */
        for (size_t d = 0; d < dim; d++) {
            double acc = 0.0;
            for (size_t r = 0; r < n; r++)
                acc += (X[r * dim + d] - (double)mean[d]) / ((double)std[d] + 1e-10) * v[r * n + c];
            axes[c * dim + d] = sigma > 0.0 ? (float)(sign * acc / sigma) : 0.0f;
        }
    }
    free(g);
    free(v);
    free(z);
    return BTSP_OK;
}
