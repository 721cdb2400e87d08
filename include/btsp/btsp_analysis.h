/**
 * @file btsp_analysis.h
 * @brief libbtsp_io, analyses: representation metrics (sparsity, selectivity,
 *        discriminability, similarity, dimensionality), class-sorted activity, angles between
 *        weight matrices or updates, accuracy, and simple raster images (PNG).
 *
 * These are the diagnostics of EIANN (`EIANN/utils/representation_analysis.py`) as pure
 * functions on plain arrays; the `btsp analyze` and `btsp compare` commands are built on them.
 * The formulas, EIANN's conventions they follow and the files the commands write are in
 * \ref analysis "docs/analysis.md".
 *
 * @section an_conventions Conventions
 * - An activity matrix `act` holds `n_patterns` rows of `n_units` floats, row-major
 *   (patterns x units), e.g. the activity of one population for every test image.
 * - Labels are class indices (`uint8_t`, as in ::btsp_dataset), each below `n_classes`.
 * - Sums and products are accumulated in double precision.
 * - A **silent** pattern (row) or unit (column) is one whose activities sum to exactly 0
 *   (EIANN's test; with non-negative rates it means all zeros).
 * - Cosine similarity of two vectors is `a.b / (|a| |b|)`; a zero vector has similarity 0
 *   with everything, itself included (scikit-learn's `cosine_similarity`), except in
 *   discriminability, where silent patterns count as similarity 1.
 * - Functions returning ::btsp_status fail with ::BTSP_E_INVALID_ARG on a NULL pointer (or a
 *   zero size where one is needed), ::BTSP_E_RANGE on a label not below `n_classes`,
 *   ::BTSP_E_NOMEM when scratch memory cannot be allocated; on failure the outputs are
 *   unspecified. Functions returning `double` return NaN when the value is undefined.
 * - Nothing here prints, keeps state or touches a network: every function is reentrant.
 */
#ifndef BTSP_BTSP_ANALYSIS_H
#define BTSP_BTSP_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "btsp/btsp.h"
#include "btsp/btsp_io.h" /* BTSP_IO_API */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/** @name Accuracy, loss and simple statistics
 *  @{ */

/** @brief Index of the largest element; ties go to the lowest index (so an all-zero vector
 *  gives 0). NaN elements are never chosen unless at index 0.
 *  @param v the values. @param n number of values.
 *  @return the index, 0 if `v` is NULL or `n` is 0. @since 0.1 */
BTSP_IO_API size_t btsp_an_argmax(const float *v, size_t n);

/** @brief Classification accuracy in percent: 100 * mean(argmax(out_r) == labels[r]), with
 *  btsp_an_argmax() (ties to the lowest index, as EIANN's `torch.argmax`).
 *  @param out n_patterns x n_out outputs, row-major.
 *  @param n_patterns number of rows. @param n_out outputs per row.
 *  @param labels n_patterns class labels.
 *  @return the percentage, NaN if a pointer is NULL or n_patterns or n_out is 0. @since 0.1 */
BTSP_IO_API double btsp_an_accuracy(const float *out, size_t n_patterns, size_t n_out, const uint8_t *labels);

/** @brief Mean squared error: mean over patterns and outputs of (out - target)^2 (EIANN's
 *  `MSELoss`, equal to the mean of the per-sample losses of btsp_net_last_loss()).
 *  @param out n_patterns x n_out outputs. @param target n_patterns x n_out targets (one-hot).
 *  @param n_patterns number of rows. @param n_out values per row.
 *  @return the loss, NaN if a pointer is NULL or a size is 0. @since 0.1 */
BTSP_IO_API double btsp_an_mse(const float *out, const float *target, size_t n_patterns, size_t n_out);

/** @brief Mean absolute value, e.g. the mean |forward dendritic state| of a population.
 *  @param v the values. @param n number of values.
 *  @return sum |v_i| / n, NaN if v is NULL or n is 0. @since 0.1 */
BTSP_IO_API double btsp_an_mean_abs(const float *v, size_t n);

/** @brief Euclidean (Frobenius, for a flattened matrix) norm sqrt(sum v_i^2).
 *  @param v the values. @param n number of values.
 *  @return the norm (0 for n = 0), NaN if v is NULL and n > 0. @since 0.1 */
BTSP_IO_API double btsp_an_norm(const float *v, size_t n);

/** @brief Number of distinct rows of a row-major rows x cols matrix, e.g. the distinct units of
 *  a population judged by their incoming weights. Rows i and k count as one when
 *  max_j |W[i, j] - W[k, j]| <= rel_tol * max_ij |W[i, j]|. A row that is close to no earlier row
 *  starts a group; any other row joins the group of the first earlier row it is close to (with
 *  rel_tol > 0 closeness is not transitive, so the grouping follows row order; with rel_tol = 0 the
 *  count is the exact number of distinct rows). A NaN or infinite element makes its row distinct
 *  from every other, and the largest magnitude is that of the finite elements. A count below `rows` for a learned projection flags a collapsed population:
 *  units that receive identical updates stay identical unless rounding tells them apart (the
 *  H1.DendI populations of the published BTSP networks, docs/model.md). Cost: O(rows x groups x
 *  cols) in the worst case, usually far less (a comparison stops at the first differing column).
 *  @param W the matrix (contiguous rows). @param rows rows. @param cols columns.
 *  @param rel_tol tolerance relative to the largest magnitude (>= 0; 1e-4 in `btsp analyze`).
 *  @param[out] labels optional (rows values): for every row the index of the first row of its
 *  group (a row that starts a group gets its own index).
 *  @return the number of groups; 0 if W is NULL, a size is 0 or rel_tol is negative or NaN. @since 0.1 */
BTSP_IO_API size_t btsp_an_distinct_rows(const float *W, size_t rows, size_t cols, double rel_tol, size_t *labels);

/** @brief Means of consecutive bins of `bin` values (EIANN bins loss and dendritic-state
 *  histories by 100 samples). The last bin may be shorter and is averaged over its length.
 *  NaN values are skipped; a bin without finite values gives NaN.
 *  @param x the series. @param n its length. @param bin bin width (>= 1).
 *  @param[out] out receives ceil(n / bin) means (may be NULL to only count).
 *  @return the number of bins, 0 if x is NULL or bin is 0. @since 0.1 */
BTSP_IO_API size_t btsp_an_bin_means(const float *x, size_t n, size_t bin, float *out);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Sparsity, selectivity, discriminability
 *  Vinje & Gallant (2000): for values a_1..a_N,
 *  `S = (1 - (sum a / N)^2 / (sum a^2 / N)) / (1 - 1/N)`, 0 when the values sum to 0 (silent)
 *  or N < 2. S is 0 for equal values and 1 when a single value is non-zero.
 *  @{ */

/** @brief Vinje-Gallant sparseness of `n` values read with a stride.
 *  @param v first value. @param n number of values. @param stride distance between values
 *  (1 for a row, n_units for a column of an activity matrix).
 *  @return S in [0, 1] for non-negative values; 0 if silent or n < 2; NaN if v is NULL or
 *  stride is 0. @since 0.1 */
BTSP_IO_API double btsp_an_vg_sparseness(const float *v, size_t n, size_t stride);

/** @brief Population sparsity of every pattern: S over the units of each row.
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param[out] out n_patterns values.
 *  @return ::BTSP_OK or ::BTSP_E_INVALID_ARG. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_sparsity(const float *act, size_t n_patterns, size_t n_units, float *out);

/** @brief Selectivity of every unit: S over the patterns of each column (lifetime sparseness).
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param[out] out n_units values.
 *  @return ::BTSP_OK or ::BTSP_E_INVALID_ARG. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_selectivity(const float *act, size_t n_patterns, size_t n_units, float *out);

/** @brief Discriminability of every pattern pair: 1 - cosine similarity, where a silent
 *  pattern has similarity 1 with every pattern (so its pairs give 0), and a pattern with a
 *  non-finite activity gives NaN for its pairs (as the mean does).
 *
 *  Pairs (i, j) with i > j in row-major order of the strict lower triangle, (1,0), (2,0),
 *  (2,1), (3,0), ... (numpy's `tril_indices(n, -1)`, as EIANN): n_patterns (n_patterns - 1) / 2
 *  values. For large pattern counts use btsp_an_discriminability_mean().
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param[out] out n_patterns (n_patterns - 1) / 2 values.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_discriminability(const float *act, size_t n_patterns, size_t n_units, float *out);

/** @brief Mean of btsp_an_discriminability() over all pairs, in O(patterns x units) time
 *  without forming the pairs: with unit vectors e_i of the m non-silent patterns,
 *  the sum of their pairwise similarities is (|sum e_i|^2 - m) / 2.
 *  @param act n_patterns x n_units activity. @param n_patterns rows (>= 2 for a value).
 *  @param n_units columns.
 *  @param[out] mean receives the mean (NaN if n_patterns < 2 or an activity is not finite).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_discriminability_mean(const float *act, size_t n_patterns, size_t n_units,
                                                      double *mean);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Representational similarity and dimensionality
 *  @{ */

/** @brief Representational similarity matrix: cosine similarity of every pattern pair
 *  (a zero pattern has similarity 0, its diagonal entry included; a pattern with a non-finite
 *  activity has NaN in its row and column).
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param[out] out n_patterns x n_patterns, symmetric.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_rsm(const float *act, size_t n_patterns, size_t n_units, float *out);

/** @brief Class-averaged activity: row c is the mean of the patterns with label c (zeros for a
 *  class without patterns).
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param labels n_patterns labels. @param n_classes number of classes.
 *  @param[out] out n_classes x n_units means.
 *  @param[out] counts n_classes pattern counts, or NULL.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_RANGE. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_class_means(const float *act, size_t n_patterns, size_t n_units,
                                            const uint8_t *labels, size_t n_classes, float *out, size_t *counts);

/** @brief Class-averaged representational similarity matrix: entry (a, b) is the mean of the
 *  pattern RSM (btsp_an_rsm()) over all pairs of a pattern of class a and a different pattern
 *  of class b (the diagonal excludes self-pairs). Computed from normalized class sums in
 *  O(patterns x units). NaN where a class has no patterns (or one, on the diagonal).
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param labels n_patterns labels. @param n_classes number of classes.
 *  @param[out] out n_classes x n_classes, symmetric.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_RANGE, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_rsm_class(const float *act, size_t n_patterns, size_t n_units,
                                          const uint8_t *labels, size_t n_classes, float *out);

/** @brief Within- and between-class pattern similarity per class (EIANN's
 *  `compute_within_class_representational_similarity`, averaged): within[c] = mean cosine
 *  similarity over pairs of distinct patterns of class c; between[c] = mean over pairs of one
 *  pattern of class c and one of another class. NaN where there is no such pair.
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param labels n_patterns labels. @param n_classes number of classes.
 *  @param[out] within n_classes values. @param[out] between n_classes values.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_RANGE, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_class_similarity(const float *act, size_t n_patterns, size_t n_units,
                                                 const uint8_t *labels, size_t n_classes, double *within,
                                                 double *between);

/** @brief Dimensionality as the participation ratio of the activity covariance C (units x
 *  units, patterns centred): PR = (sum lambda)^2 / sum lambda^2 = (tr C)^2 / tr(C^2), which
 *  needs no eigenvalues (tr(C^2) is the squared Frobenius norm of the symmetric C). Computed
 *  from the smaller of the units x units and patterns x patterns Gram matrices of the centred
 *  activity (same non-zero eigenvalues). PR is in [1, min(units, patterns - 1)]; 0 when there is
 *  no variance or fewer than 2 patterns; NaN when an activity is not finite.
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param[out] pr receives the participation ratio.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_participation_ratio(const float *act, size_t n_patterns, size_t n_units,
                                                    double *pr);

/** @brief Participation ratio (tr M)^2 / tr(M^2) of a symmetric positive semi-definite matrix,
 *  e.g. an RSM (EIANN's `compute_dimensionality_from_RSM`); equal to (sum lambda)^2 /
 *  sum lambda^2 of its eigenvalues.
 *  @param m n x n symmetric matrix, row-major. @param n its order.
 *  @return the ratio, 0 if M is zero, NaN if m is NULL, n is 0 or an entry is not finite. @since 0.1 */
BTSP_IO_API double btsp_an_participation_ratio_sym(const float *m, size_t n);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Class-sorted population activity
 *  @{ */

/** @brief Class-averaged activity with units sorted by preferred class (EIANN's "batch
 *  accuracy" heat maps): the preferred class of a unit is the argmax over classes of its class
 *  mean (ties to the lowest class); units are ordered by preferred class, then by index;
 *  silent units (activity summing to 0 over all patterns) come last, in index order.
 *  @param act n_patterns x n_units activity. @param n_patterns rows. @param n_units columns.
 *  @param labels n_patterns labels. @param n_classes number of classes.
 *  @param[out] out n_classes x n_units class means, columns in sorted order.
 *  @param[out] order n_units: order[k] is the unit shown in column k.
 *  @param[out] preferred n_units: preferred class of unit u (in original order), -1 if silent;
 *         may be NULL.
 *  @param[out] n_active number of non-silent units (they fill columns 0 .. n_active - 1); may be
 *         NULL.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_RANGE, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_class_sorted(const float *act, size_t n_patterns, size_t n_units,
                                             const uint8_t *labels, size_t n_classes, float *out, size_t *order,
                                             int *preferred, size_t *n_active);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Angles between weights and weight updates
 *  @{ */

/** @brief Angle in degrees between two flattened arrays (weight matrices or updates):
 *  acos(a.b / (|a| |b|)) (EIANN's `compute_vector_angle`), evaluated as
 *  2 atan2(|a/|a| - b/|b||, |a/|a| + b/|b||), which is accurate near 0 and 180 degrees.
 *  Used for the angle between a local rule's update and the backprop update from the same
 *  weights and sample, and (with btsp_an_angle_transposed_deg()) between W and B^T.
 *  @param a first array. @param b second array. @param n number of elements.
 *  @return the angle in [0, 180]; NaN if a pointer is NULL, n is 0 or a norm is 0. @since 0.1 */
BTSP_IO_API double btsp_an_angle_deg(const float *a, const float *b, size_t n);

/** @brief Angle in degrees between a forward matrix W (rows x cols) and the transpose of a
 *  top-down matrix B (cols x rows), i.e. between W and B^T flattened: 0 for B = k W^T (k > 0).
 *  @param w rows x cols. @param rows rows of W. @param cols columns of W.
 *  @param b cols x rows.
 *  @return the angle, NaN as btsp_an_angle_deg(). @since 0.1 */
BTSP_IO_API double btsp_an_angle_transposed_deg(const float *w, size_t rows, size_t cols, const float *b);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Training diagnostics: representation summaries, equilibration, ordering, receptive fields,
 *  trajectories
 *  @{ */

/** @brief Mean sparsity, mean selectivity and mean discriminability of an activity matrix in
 *  one call (the per-snapshot summaries of `btsp analyze`'s representation history): the mean
 *  of btsp_an_sparsity() over patterns, of btsp_an_selectivity() over units, and
 *  btsp_an_discriminability_mean().
 *  @param act n_patterns x n_units activity. @param n_patterns rows (>= 1). @param n_units
 *  columns (>= 1).
 *  @param[out] sparsity mean sparsity, or NULL. @param[out] selectivity mean selectivity, or
 *  NULL. @param[out] discriminability mean discriminability (NaN for one pattern), or NULL.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_representation_means(const float *act, size_t n_patterns, size_t n_units,
                                                     double *sparsity, double *selectivity,
                                                     double *discriminability);

/** Relative change above which a population counts as not equilibrated (EIANN). @since 0.1 */
#define BTSP_AN_EQUILIBRATION_THRESHOLD 0.2

/** @brief Equilibration check of one population (EIANN): with m_T the mean of the activities
 *  after the last forward step and m_{T-1} the mean after the step before (e.g. over all test
 *  patterns and units), the relative change is |m_T - m_{T-1}| / |m_T| (0 when the means are
 *  equal, infinite when only m_T is 0, NaN when a mean is not finite: a diverged population).
 *  A change above `threshold` (::BTSP_AN_EQUILIBRATION_THRESHOLD), or NaN, is added to
 *  `*residual`, which a diverged population therefore makes NaN.
 *  @param a_last activities after the last step (::BTSP_VAR_ACTIVITY).
 *  @param a_prev the same entries after the step before (::BTSP_VAR_PREV_ACTIVITY).
 *  @param n number of values in each (>= 1). @param threshold relative change tolerated.
 *  @param[out] rel_change receives the relative change.
 *  @param[in,out] residual accumulates changes above the threshold; may be NULL.
 *  @return ::BTSP_OK or ::BTSP_E_INVALID_ARG. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_equilibration(const float *a_last, const float *a_prev, size_t n,
                                              double threshold, double *rel_change, double *residual);

/** @brief Stable ordering by class: the indices 0..n-1 sorted by label, in index (time) order
 *  within a class (the row order of a class-sorted plateau raster).
 *  @param labels n labels. @param n number of labels. @param n_classes number of classes.
 *  @param[out] order n indices.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_RANGE. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_class_order(const uint8_t *labels, size_t n, size_t n_classes, size_t *order);

/** @brief Moran's I spatial autocorrelation of an image with an 8-neighbour binary kernel
 *  (EIANN's receptive-field structure is |I|): with deviations d_i = x_i - mean and
 *  w_ij = 1 for the up to 8 neighbours j of pixel i,
 *  `I = (N / sum w_ij) * sum_ij w_ij d_i d_j / sum_i d_i^2`.
 *  About 1 for smooth images, about 0 for noise, negative for checkerboards.
 *  @param img height x width values, row-major. @param width pixels per row.
 *  @param height rows.
 *  @return I; NaN if img is NULL, a size is 0, the image is constant or 1 x 1. @since 0.1 */
BTSP_IO_API double btsp_an_morans_i(const float *img, size_t width, size_t height);

/** Default `eps` of btsp_an_weighted_average_input(): EIANN's `compute_act_weighted_avg` adds
 *  1e-4 to every unit's total activity. @since 0.2 */
#define BTSP_AN_WEIGHTED_AVERAGE_EPS 1e-4

/** @brief Activity-weighted average input of every unit, a receptive-field estimate (EIANN's
 *  `compute_act_weighted_avg`): `out[u][i] = sum_p act[p][u] X[p][i] / (sum_p act[p][u] + eps)`.
 *
 *  EIANN uses eps = 1e-4 (::BTSP_AN_WEIGHTED_AVERAGE_EPS); eps = 0 gives the exact weighted mean.
 *  Where the denominator is exactly 0 (a silent unit with eps = 0) the unit's row is 0, not NaN.
 *  Sums are accumulated in double; patterns where a unit's activity is 0 are skipped, so the
 *  cost is O(non-zero activities x n_inputs) (sparse hidden layers are cheap).
 *  @param act n_patterns x n_units activity, row-major.
 *  @param n_patterns number of patterns (rows of act and X).
 *  @param n_units number of units (columns of act).
 *  @param X n_patterns x n_inputs inputs (e.g. flattened 28 x 28 images), row-major.
 *  @param n_inputs values per input pattern.
 *  @param eps added to every unit's total activity; finite and >= 0.
 *  @param[out] out n_units x n_inputs averages, row-major (one input-shaped row per unit).
 *  @return ::BTSP_OK; ::BTSP_E_INVALID_ARG for a NULL pointer, a zero size, a negative or
 *  non-finite eps, or sizes whose products overflow; ::BTSP_E_NOMEM when the double
 *  accumulator (n_units x n_inputs) cannot be allocated. @since 0.2 */
BTSP_IO_API btsp_status btsp_an_weighted_average_input(const float *act, size_t n_patterns, size_t n_units,
                                                       const float *X, size_t n_inputs, double eps, float *out);

/** @brief Radially binned spatial power spectrum of a square image (EIANN's `compute_PSD`, after
 *  numpy `fftn` and scipy `binned_statistic`).
 *
 *  With F the 2-D DFT, `F[ky][kx] = sum_y sum_x img[y][x] exp(-2 pi i (ky y + kx x) / side)`, and
 *  P = |F|^2, every frequency has the wave-number norm `k = sqrt(fx^2 + fy^2)`, fx and fy being
 *  numpy's `fftfreq(side) * side` (0, 1, ..., ceil(side/2) - 1, -floor(side/2), ..., -1). The
 *  bin edges are 0.5, 1.5, ..., side/2 + 0.5 (integer division, numpy
 *  `arange(0.5, side//2 + 1, 1.)`): side/2 bins, bin b = [b + 0.5, b + 1.5) (the last one closed,
 *  as in scipy; no integer frequency lies on an edge). The DC term (k = 0) and frequencies
 *  with k > side/2 + 0.5 are in no bin. `power[b] = mean(P over the bin) * pi * (hi^2 - lo^2)`.
 *  The frequency of bin b is b + 1 (numpy's bin centres `kvals`). An empty bin gives 0 (numpy
 *  gives NaN; with integer frequencies no bin is empty for side >= 2).
 *
 *  The DFT is computed directly as a separable transform (rows, then columns) with cos/sin
 *  tables in double: O(side^3), fine for side <= 512 (a 28 x 28 image takes about 44k complex
 *  multiply-adds).
 *  @param img side x side values, row-major.
 *  @param side image width and height (>= 2).
 *  @param[out] power n_bins values.
 *  @param n_bins number of bins, must equal side / 2.
 *  @param[out] peak receives the index of the largest power (ties to the lowest index, as numpy
 *  `argmax`; its frequency is peak + 1); may be NULL.
 *  @return ::BTSP_OK; ::BTSP_E_INVALID_ARG for a NULL img or power, side < 2, n_bins !=
 *  side / 2 or a size overflow; ::BTSP_E_NOMEM. @since 0.2 */
BTSP_IO_API btsp_status btsp_an_power_spectrum(const float *img, size_t side, float *power, size_t n_bins,
                                               size_t *peak);

/** @brief Principal components of a trajectory of points, e.g. parameter snapshots (EIANN's
 *  loss landscape, `plot_loss_landscape`).
 *
 *  Every coordinate d is standardised over the n points, `z = (x - mean_d) / (std_d + 1e-10)`
 *  with the unbiased standard deviation (as torch.std; a constant coordinate gives z = 0), and
 *  the first k principal axes of the standardised points are found (scikit-learn's PCA: the
 *  data are already centred). Outputs: the scores `coords[i][c] = z_i . axes[c]` (the points in
 *  PC space), the unit axes in standardised space, and the ratios of explained variance. A
 *  point with PC coordinates (c_1 .. c_k) maps back to `x = mean + std * sum_c c_c axes[c]`
 *  (element-wise; EIANN's grid of the loss landscape). Signs follow scikit-learn's `svd_flip`:
 *  the largest-magnitude score of every component is positive.
 *
 *  Computed from the n x n Gram matrix of the standardised points (Jacobi eigen-decomposition
 *  in double): O(n^2 dim + n^3) time, O(n^2) extra memory, so dim can be the size of a whole
 *  network while n (snapshots) stays at most a few hundred.
 *  @param X n x dim points, row-major.
 *  @param n number of points (>= 2).
 *  @param dim coordinates per point (>= 1).
 *  @param k number of components (1 <= k <= n).
 *  @param[out] coords n x k scores, row-major.
 *  @param[out] axes k x dim unit axes, row-major (zero for a component of zero variance).
 *  @param[out] mean dim means of the coordinates.
 *  @param[out] std dim unbiased standard deviations.
 *  @param[out] explained k ratios of explained variance (0 if the points are all equal).
 *  @return ::BTSP_OK; ::BTSP_E_INVALID_ARG for a NULL pointer, n < 2, dim = 0, k = 0, k > n or
 *  sizes whose products overflow; ::BTSP_E_NOMEM. @since 0.2 */
BTSP_IO_API btsp_status btsp_an_trajectory_pca(const float *X, size_t n, size_t dim, size_t k, float *coords,
                                               float *axes, float *mean, float *std, double *explained);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Raster images
 *  Minimal pictures without text: image grids (receptive fields, heat maps) and line plots,
 *  rendered into caller-owned pixel buffers, and a PNG writer (libpng, optional at build time).
 *  @{ */

/** Gray level of the separators between grid tiles. @since 0.1 */
#define BTSP_AN_GRID_SEPARATOR 64

/** @brief Size of the image btsp_an_render_grid() draws: tiles of (tile_w * zoom) x
 *  (tile_h * zoom) pixels in min(grid_cols, n_tiles) columns and as many rows as needed, with
 *  1-pixel separators around every tile.
 *  @param n_tiles number of tiles (>= 1). @param tile_w tile width in values (>= 1).
 *  @param tile_h tile height in values (>= 1). @param grid_cols tiles per row (>= 1).
 *  @param zoom pixels per value along each axis (>= 1).
 *  @param[out] width receives the width in pixels. @param[out] height receives the height.
 *  @return ::BTSP_OK or ::BTSP_E_INVALID_ARG (NULL, a zero argument, size overflow). @since 0.1 */
BTSP_IO_API btsp_status btsp_an_grid_size(size_t n_tiles, size_t tile_w, size_t tile_h, size_t grid_cols,
                                          size_t zoom, size_t *width, size_t *height);

/** @brief Draw tiles as 8-bit gray images in a grid (e.g. first-layer weight rows reshaped to
 *  28 x 28 receptive fields; or one tile holding a whole heat map).
 *
 *  Tile t is the tile_h x tile_w values starting at tiles + t * tile_w * tile_h (row-major),
 *  scaled on its own: with `symmetric` 0 its minimum maps to 0 and its maximum to 255; with
 *  `symmetric` 1, -m..m maps to 0..255 with m = max |value| (so 0 is mid-gray, 128). Constant
 *  tiles are drawn mid-gray with `symmetric` 0; with 1 only an all-zero tile is (a constant
 *  c != 0 is drawn at the end of -|c|..|c| it lies at, 0 or 255); NaN values black. Separators and unused cells have the gray level
 *  ::BTSP_AN_GRID_SEPARATOR.
 *  @param tiles the values. @param n_tiles number of tiles. @param tile_w values per tile row.
 *  @param tile_h rows per tile. @param grid_cols tiles per grid row. @param zoom pixels per value.
 *  @param symmetric 0 (min..max) or 1 (-m..m).
 *  @param[out] pixels width x height bytes, row-major.
 *  @param width width of `pixels`, as given by btsp_an_grid_size().
 *  @param height height of `pixels`, as given by btsp_an_grid_size().
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_SHAPE (width or height differs from
 *  btsp_an_grid_size()). @since 0.1 */
BTSP_IO_API btsp_status btsp_an_render_grid(const float *tiles, size_t n_tiles, size_t tile_w, size_t tile_h,
                                            size_t grid_cols, size_t zoom, int symmetric, uint8_t *pixels,
                                            size_t width, size_t height);

/** @brief Draw line plots into an RGB image: white background, a black axes box 8 pixels
 *  inside the border, a gray line at y = 0 when 0 is inside the range, and one polyline per
 *  series in a fixed palette (blue, orange, green, red, purple, brown, pink, gray, repeating).
 *  NaN or infinite points break a line. Images of at least 200 x 120 pixels also get the y
 *  range printed at the left, the x range below the box (a 3 x 5 pixel font, "%.4g") and
 *  numbered colour keys 1, 2, ... for the first 8 series; smaller images carry no text and keep
 *  the box 8 pixels inside the border.
 *  @param x n_points abscissae shared by all series (increasing), or NULL for 0, 1, 2, ...
 *  @param y n_series x n_points ordinates, row-major.
 *  @param n_series number of series (>= 1). @param n_points points per series (>= 1).
 *  @param y_lo lower end of the vertical axis. @param y_hi upper end; if !(y_lo < y_hi) the
 *         range is taken from the finite data, padded by 5%.
 *  @param[out] rgb width x height x 3 bytes, row-major.
 *  @param width image width (>= 32). @param height image height (>= 32).
 *  @return ::BTSP_OK or ::BTSP_E_INVALID_ARG. @since 0.1 */
BTSP_IO_API btsp_status btsp_an_render_lines(const float *x, const float *y, size_t n_series, size_t n_points,
                                             double y_lo, double y_hi, uint8_t *rgb, size_t width, size_t height);

/** Text of a line plot written by btsp_an_write_lines_svg(); every field may be NULL. */
typedef struct btsp_an_plot_labels {
    const char *title;        /**< Above the plot. */
    const char *x_label;      /**< Below the x axis (e.g. "training samples"). */
    const char *y_label;      /**< Beside the y axis, with its unit. */
    const char *const *names; /**< n_series legend names (NULL, or a NULL entry: its number from 1). */
} btsp_an_plot_labels;

/** @brief Write line plots as an SVG file (text: title, axis labels, tick values, a legend with
 *  the series' names), with the data, colours and axis ranges of btsp_an_render_lines(). The
 *  canvas is 900 x 460 units, wider when legend names are long (names are not truncated); a
 *  point between two non-finite ones is drawn as a dot. Needs no library (so also in builds
 *  without libpng). The file is written under a temporary name and renamed into place. Text is
 *  XML-escaped, control characters are dropped, and bytes that are not the UTF-8 of a character
 *  XML allows (also surrogates, overlong forms, U+FFFE) become '?'.
 *  @param path output file.
 *  @param labels title, axis labels and series names, or NULL (no text, numbered legend).
 *  @param x n_points abscissae, or NULL (point indices 0 .. n_points - 1).
 *  @param y n_series x n_points values, series-major; NaN or infinite values break a line.
 *  @param n_series series (>= 1). @param n_points points per series (>= 1).
 *  @param y_lo lower end of the y range.
 *  @param y_hi upper end of the y range; [y_lo, y_hi] is replaced by the data's range plus 5 %
 *  when it is not a finite range. Degenerate ranges (zero, overflowing or subnormal width, or a
 *  few ulps) are widened so that every coordinate is finite.
 *  @param[out] err message buffer, may be NULL; "" on success. @param errlen size of `err`.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG (NULL path or y, no series or points), ::BTSP_E_IO.
 *  @since 0.2 */
BTSP_IO_API btsp_status btsp_an_write_lines_svg(const char *path, const btsp_an_plot_labels *labels, const float *x,
                                                const float *y, size_t n_series, size_t n_points, double y_lo,
                                                double y_hi, char *err, size_t errlen);

/** @brief 1 if this build can write PNG files (libbtsp_io was built with libpng), else 0.
 *  @since 0.1 */
BTSP_IO_API int btsp_png_available(void);

/** @brief Write an 8-bit gray (1 channel) or RGB (3 channels) image as a PNG file. The file is
 *  written under a temporary name and renamed into place.
 *  @param path file name. @param pixels width x height x channels bytes, row-major.
 *  @param width width in pixels (>= 1). @param height height in pixels (>= 1).
 *  @param channels 1 or 3.
 *  @param[out] err message buffer, may be NULL. @param errlen size of `err`.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_IO, ::BTSP_E_UNSUPPORTED (built without
 *  libpng). @since 0.1 */
BTSP_IO_API btsp_status btsp_png_write(const char *path, const uint8_t *pixels, size_t width, size_t height,
                                       size_t channels, char *err, size_t errlen);
/** @} */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BTSP_BTSP_ANALYSIS_H */
