/* libbtsp_io analyses (btsp_analysis.h) against hand-computed values. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include "btsp/btsp_analysis.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOL 1e-6

/* 4 patterns x 4 units:  r0 = [1,0,0,0], r1 = [1,1,1,1], r2 = silent, r3 = [3,1,0,0]. */
static const float A[16] = {1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 3, 1, 0, 0};
static const uint8_t A_LABELS[4] = {0, 0, 1, 1};

static void test_argmax_accuracy_mse(void **state)
{
    (void)state;
    const float v[4] = {0.5f, 2.0f, 2.0f, -1.0f};
    assert_int_equal(btsp_an_argmax(v, 4), 1); /* tie -> lowest index */
    const float z[3] = {0, 0, 0};
    assert_int_equal(btsp_an_argmax(z, 3), 0);
    assert_int_equal(btsp_an_argmax(NULL, 3), 0);
    const float n[3] = {NAN, 1.0f, 0.0f};
    assert_int_equal(btsp_an_argmax(n, 3), 0); /* NaN at 0 stays (no element compares greater) */
    const float m[3] = {0.0f, NAN, 1.0f};
    assert_int_equal(btsp_an_argmax(m, 3), 2);

    /* 3 patterns x 3 outputs: argmax 0 (all zero), 1 (tie 1/2), 2 */
    const float out[9] = {0, 0, 0, 0.1f, 0.5f, 0.5f, 0, 0.2f, 0.9f};
    const uint8_t lab[3] = {0, 2, 2};
    assert_true(fabs(btsp_an_accuracy(out, 3, 3, lab) - 200.0 / 3.0) < TOL);
    assert_true(isnan(btsp_an_accuracy(out, 0, 3, lab)));
    assert_true(isnan(btsp_an_accuracy(NULL, 3, 3, lab)));

    const float o2[4] = {1, 0, 0, 0}, t2[4] = {1, 0, 0, 1};
    assert_true(fabs(btsp_an_mse(o2, t2, 2, 2) - 0.25) < TOL);
    assert_true(isnan(btsp_an_mse(o2, NULL, 2, 2)));
}

static void test_simple_stats(void **state)
{
    (void)state;
    const float v[4] = {-1.0f, 2.0f, -3.0f, 0.0f};
    assert_true(fabs(btsp_an_mean_abs(v, 4) - 1.5) < TOL);
    assert_true(isnan(btsp_an_mean_abs(v, 0)));
    assert_true(fabs(btsp_an_norm(v, 4) - sqrt(14.0)) < TOL);
    assert_true(btsp_an_norm(NULL, 0) == 0.0);

    const float x[5] = {1, 2, 3, 4, 5};
    float b[3];
    assert_int_equal(btsp_an_bin_means(x, 5, 2, NULL), 3);
    assert_int_equal(btsp_an_bin_means(x, 5, 2, b), 3);
    assert_true(fabsf(b[0] - 1.5f) < 1e-6f && fabsf(b[1] - 3.5f) < 1e-6f && fabsf(b[2] - 5.0f) < 1e-6f);
    const float y[4] = {NAN, 2, NAN, NAN};
    assert_int_equal(btsp_an_bin_means(y, 4, 2, b), 2);
    assert_true(b[0] == 2.0f && isnan(b[1]));
    const float z[4] = {1, INFINITY, 3, 5}; /* non-finite values are left out, inf as NaN */
    assert_int_equal(btsp_an_bin_means(z, 4, 2, b), 2);
    assert_true(b[0] == 1.0f && b[1] == 4.0f);
    assert_int_equal(btsp_an_bin_means(x, 5, 0, b), 0);
}

static void test_distinct_rows(void **state)
{
    (void)state;
    /* 5 rows x 3: rows 0, 2 and 4 equal; row 3 differs from row 1 by 1e-5 (the largest
     * magnitude is 2, so 1e-5 is 5e-6 of it). */
    const float W[15] = {1, 2, 0, -1, 0.5f, 0, 1, 2, 0, -1, 0.50001f, 0, 1, 2, 0};
    size_t lab[5];
    assert_int_equal(btsp_an_distinct_rows(W, 5, 3, 0.0, lab), 3);
    const size_t exact[5] = {0, 1, 0, 3, 0};
    for (int i = 0; i < 5; i++)
        assert_int_equal(lab[i], exact[i]);
    assert_int_equal(btsp_an_distinct_rows(W, 5, 3, 1e-5, lab), 2); /* 5e-6 <= 1e-5: rows 1, 3 merge */
    assert_int_equal(lab[3], 1);
    assert_int_equal(btsp_an_distinct_rows(W, 5, 3, 1e-6, NULL), 3);
    /* Closeness is not transitive: 0, 0.6, 1.2 with tolerance 0.5 x 1.2 = 0.6 -> rows 1 and 2
     * join row 0's and row 1's group, which is row 0's: one group. */
    const float chain[3] = {0.0f, 0.6f, 1.2f};
    assert_int_equal(btsp_an_distinct_rows(chain, 3, 1, 0.5, lab), 1);
    assert_true(lab[0] == 0 && lab[1] == 0 && lab[2] == 0);
    /* A collapsed population (all rows equal) is one unit; the zero matrix too. */
    float same[4 * 6];
    for (int k = 0; k < 24; k++)
        same[k] = (float)(k % 6) * 0.25f;
    assert_int_equal(btsp_an_distinct_rows(same, 4, 6, 0.0, NULL), 1);
    const float zero[6] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(btsp_an_distinct_rows(zero, 3, 2, 0.0, NULL), 1);
    /* NaN rows are distinct from everything, themselves included. */
    const float nan[6] = {1, NAN, 1, NAN, 1, 2};
    assert_int_equal(btsp_an_distinct_rows(nan, 3, 2, 0.1, NULL), 3);
    /* So are infinite rows, and they leave the scale to the finite weights: rows 0-1 and 2-3 are
     * two groups at rel_tol 0 and at 1e-4 (an infinite scale would merge everything, a NaN
     * tolerance 0 x inf would split everything). */
    const float inf[10] = {1, 2, 1, 2, 3, 4, 3, 4, INFINITY, 0};
    assert_int_equal(btsp_an_distinct_rows(inf, 5, 2, 0.0, lab), 3);
    assert_true(lab[1] == 0 && lab[3] == 2 && lab[4] == 4);
    assert_int_equal(btsp_an_distinct_rows(inf, 5, 2, 1e-4, NULL), 3);
    /* Misuse. */
    assert_int_equal(btsp_an_distinct_rows(NULL, 5, 3, 0.0, lab), 0);
    assert_int_equal(btsp_an_distinct_rows(W, 0, 3, 0.0, lab), 0);
    assert_int_equal(btsp_an_distinct_rows(W, 5, 0, 0.0, lab), 0);
    assert_int_equal(btsp_an_distinct_rows(W, 5, 3, -1.0, lab), 0);
    assert_int_equal(btsp_an_distinct_rows(W, 5, 3, NAN, lab), 0);
}

static void test_sparsity_selectivity(void **state)
{
    (void)state;
    /* rows: [1,0,0,0] -> 1; [1,1,1,1] -> 0; silent -> 0; [3,1,0,0]: frac = 1 / 2.5 = 0.4,
     * S = 0.6 / 0.75 = 0.8 */
    float s[4];
    assert_int_equal(btsp_an_sparsity(A, 4, 4, s), BTSP_OK);
    assert_true(fabsf(s[0] - 1.0f) < 1e-6f);
    assert_true(fabsf(s[1]) < 1e-6f);
    assert_true(s[2] == 0.0f);
    assert_true(fabsf(s[3] - 0.8f) < 1e-6f);
    const float half[4] = {1, 1, 0, 0}; /* frac 1/2, S = (1/2)/(3/4) = 2/3 */
    assert_true(fabs(btsp_an_vg_sparseness(half, 4, 1) - 2.0 / 3.0) < TOL);
    assert_true(btsp_an_vg_sparseness(half, 1, 1) == 0.0); /* N < 2 */
    assert_true(isnan(btsp_an_vg_sparseness(half, 4, 0)));
    /* silent means a zero sum, also for signed values: (1, -1) is silent (sum 0, not sum of
     * squares 0), so 0 rather than (1 - 0) / (1 - 1/2) = 2 */
    const float signed_silent[2] = {1, -1};
    assert_true(btsp_an_vg_sparseness(signed_silent, 2, 1) == 0.0);

    /* columns: [1,1,0,3]: frac = (25/16)/(11/4) = 25/44, S = (19/44)/(3/4) = 19/33;
     * [0,1,0,1] -> 2/3; [0,1,0,0] -> 1 (twice) */
    float sel[4];
    assert_int_equal(btsp_an_selectivity(A, 4, 4, sel), BTSP_OK);
    assert_true(fabs(sel[0] - 19.0 / 33.0) < 1e-6);
    assert_true(fabs(sel[1] - 2.0 / 3.0) < 1e-6);
    assert_true(fabs(sel[2] - 1.0) < 1e-6 && fabs(sel[3] - 1.0) < 1e-6);
    assert_int_equal(btsp_an_sparsity(NULL, 4, 4, s), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_selectivity(A, 4, 4, NULL), BTSP_E_INVALID_ARG);
}

static void test_discriminability(void **state)
{
    (void)state;
    /* pairs (1,0) (2,0) (2,1) (3,0) (3,1) (3,2): cos(r1,r0) = 1/2; pattern 2 silent -> 0;
     * cos(r3,r0) = 3/sqrt(10); cos(r3,r1) = 2/sqrt(10) */
    float d[6];
    assert_int_equal(btsp_an_discriminability(A, 4, 4, d), BTSP_OK);
    const double want[6] = {0.5, 0.0, 0.0, 1.0 - 3.0 / sqrt(10.0), 1.0 - 2.0 / sqrt(10.0), 0.0};
    double sum = 0.0;
    for (int i = 0; i < 6; i++) {
        assert_true(fabs(d[i] - want[i]) < 1e-6);
        sum += want[i];
    }
    double mean = 0.0;
    assert_int_equal(btsp_an_discriminability_mean(A, 4, 4, &mean), BTSP_OK);
    assert_true(fabs(mean - sum / 6.0) < 1e-9);
    assert_int_equal(btsp_an_discriminability_mean(A, 1, 4, &mean), BTSP_OK);
    assert_true(isnan(mean));
    assert_int_equal(btsp_an_discriminability_mean(NULL, 4, 4, &mean), BTSP_E_INVALID_ARG);

    /* identical patterns: discriminability 0; orthogonal: 1 */
    const float same[6] = {1, 2, 3, 2, 4, 6}, orth[4] = {1, 0, 0, 2};
    assert_int_equal(btsp_an_discriminability_mean(same, 2, 3, &mean), BTSP_OK);
    assert_true(fabs(mean) < 1e-9);
    assert_int_equal(btsp_an_discriminability_mean(orth, 2, 2, &mean), BTSP_OK);
    assert_true(fabs(mean - 1.0) < 1e-9);
    /* a signed pattern with a zero sum is silent (0), not 1 - cos = 1 - 1/sqrt(2) */
    const float signed_rows[4] = {1, -1, 1, 0};
    float d1[1];
    assert_int_equal(btsp_an_discriminability(signed_rows, 2, 2, d1), BTSP_OK);
    assert_true(d1[0] == 0.0f);
    /* identical rows whose cosine rounds above 1: clamped, exactly 0 (unclamped -3e-16) */
    const float same3[9] = {5.92f, 7.02f, 8.12f, 5.92f, 7.02f, 8.12f, 5.92f, 7.02f, 8.12f};
    assert_int_equal(btsp_an_discriminability_mean(same3, 3, 3, &mean), BTSP_OK);
    assert_true(mean == 0.0);

    /* a non-finite activity gives NaN, in the pairs and in the mean alike (not the 0 of a
     * silent pattern); the pairs of other patterns keep their values */
    const float bad[9] = {NAN, 1, 0, 1, 0, 0, 0, 1, 0};
    float dp[3];
    assert_int_equal(btsp_an_discriminability(bad, 3, 3, dp), BTSP_OK);
    assert_true(isnan(dp[0]) && isnan(dp[1]) && fabs(dp[2] - 1.0) < 1e-6);
    assert_int_equal(btsp_an_discriminability_mean(bad, 3, 3, &mean), BTSP_OK);
    assert_true(isnan(mean));
}

static void test_rsm(void **state)
{
    (void)state;
    float r[16];
    assert_int_equal(btsp_an_rsm(A, 4, 4, r), BTSP_OK);
    const double c30 = 3.0 / sqrt(10.0), c31 = 2.0 / sqrt(10.0);
    const double want[16] = {1, 0.5, 0, c30, 0.5, 1, 0, c31, 0, 0, 0, 0, c30, c31, 0, 1};
    for (int i = 0; i < 16; i++)
        assert_true(fabs(r[i] - want[i]) < 1e-6);
    assert_true(fabs(btsp_an_participation_ratio_sym(r, 4) - 9.0 / (3.0 + 2 * (0.25 + c30 * c30 + c31 * c31))) <
                1e-5);
    /* a non-finite pattern: NaN in its row and column, and a NaN dimensionality (not 0, "no
     * variance") */
    float Abad[16];
    memcpy(Abad, A, sizeof Abad);
    Abad[1] = INFINITY;
    assert_int_equal(btsp_an_rsm(Abad, 4, 4, r), BTSP_OK);
    assert_true(isnan(r[0]) && isnan(r[1]) && isnan(r[4]) && fabs(r[5] - 1.0) < 1e-6);
    assert_true(isnan(r[2]) && isnan(r[8])); /* against silent pattern 2: NaN, not a silent 0 */
    assert_true(isnan(btsp_an_participation_ratio_sym(r, 4)));
    const float inf_off[4] = {1, INFINITY, INFINITY, 1}; /* tr finite, |M|_F infinite: not 0 */
    assert_true(isnan(btsp_an_participation_ratio_sym(inf_off, 2)));
    double prb = 0.0;
    assert_int_equal(btsp_an_participation_ratio(Abad, 4, 4, &prb), BTSP_OK);
    assert_true(isnan(prb));
    Abad[1] = NAN;
    assert_int_equal(btsp_an_participation_ratio(Abad, 4, 4, &prb), BTSP_OK);
    assert_true(isnan(prb));

    /* class means: class 0 = (r0 + r1) / 2, class 1 = (r2 + r3) / 2 */
    float cm[8];
    size_t counts[2];
    assert_int_equal(btsp_an_class_means(A, 4, 4, A_LABELS, 2, cm, counts), BTSP_OK);
    const float want_cm[8] = {1, 0.5f, 0.5f, 0.5f, 1.5f, 0.5f, 0, 0};
    for (int i = 0; i < 8; i++)
        assert_true(fabsf(cm[i] - want_cm[i]) < 1e-6f);
    assert_true(counts[0] == 2 && counts[1] == 2);
    /* an empty class: zero means and count 0, as documented (not NaN) */
    float cm3[12];
    size_t counts3[3];
    assert_int_equal(btsp_an_class_means(A, 4, 4, A_LABELS, 3, cm3, counts3), BTSP_OK);
    assert_true(counts3[2] == 0 && cm3[8] == 0.0f && cm3[9] == 0.0f && cm3[10] == 0.0f && cm3[11] == 0.0f);
    const uint8_t bad[4] = {0, 0, 2, 1};
    assert_int_equal(btsp_an_class_means(A, 4, 4, bad, 2, cm, NULL), BTSP_E_RANGE);
    /* a class count whose table (classes x units doubles) overflows size_t: refused, not a
     * wrapped allocation (2^62 x 4 x 8 bytes wraps to 0) */
    const size_t huge = (SIZE_MAX >> 2) + 1;
    assert_int_equal(btsp_an_class_means(A, 4, 4, A_LABELS, huge, cm, NULL), BTSP_E_INVALID_ARG);
    double wv[2], bv[2];
    assert_int_equal(btsp_an_class_similarity(A, 4, 4, A_LABELS, huge, wv, bv), BTSP_E_INVALID_ARG);
    size_t ord4[4];
    assert_int_equal(btsp_an_class_sorted(A, 4, 4, A_LABELS, huge, cm, ord4, NULL, NULL), BTSP_E_INVALID_ARG);

    /* class RSM: (0,0) = sim(r0,r1) = 0.5; (1,1) = sim(r2,r3) = 0; (0,1) = mean of
     * {sim(r0,r2), sim(r0,r3), sim(r1,r2), sim(r1,r3)} = (c30 + c31) / 4 */
    float rc[4];
    assert_int_equal(btsp_an_rsm_class(A, 4, 4, A_LABELS, 2, rc), BTSP_OK);
    assert_true(fabs(rc[0] - 0.5) < 1e-6 && fabs(rc[3]) < 1e-6);
    assert_true(fabs(rc[1] - (c30 + c31) / 4.0) < 1e-6 && rc[1] == rc[2]);
    /* a class with one pattern: NaN diagonal; an empty class: NaN row */
    const uint8_t lab3[4] = {0, 0, 0, 1};
    float rc3[9];
    assert_int_equal(btsp_an_rsm_class(A, 4, 4, lab3, 3, rc3), BTSP_OK);
    assert_true(isnan(rc3[4]) && isnan(rc3[8]) && isnan(rc3[2]));
    assert_true(fabs(rc3[0] - (0.5 + 0 + 0) / 3.0) < 1e-6);
    /* misuse: NULL pointers, no classes, a label out of range */
    assert_int_equal(btsp_an_rsm(NULL, 4, 4, r), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_rsm(A, 4, 4, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_rsm_class(NULL, 4, 4, A_LABELS, 2, rc), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_rsm_class(A, 4, 4, NULL, 2, rc), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_rsm_class(A, 4, 4, A_LABELS, 2, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_rsm_class(A, 4, 4, A_LABELS, 0, rc), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_rsm_class(A, 4, 4, bad, 2, rc), BTSP_E_RANGE);

    double within[2], between[2];
    assert_int_equal(btsp_an_class_similarity(A, 4, 4, A_LABELS, 2, within, between), BTSP_OK);
    assert_true(fabs(within[0] - 0.5) < 1e-9 && fabs(within[1]) < 1e-9);
    assert_true(fabs(between[0] - (c30 + c31) / 4.0) < 1e-9 && fabs(between[1] - between[0]) < 1e-9);
    assert_int_equal(btsp_an_class_similarity(A, 4, 4, bad, 2, within, between), BTSP_E_RANGE);
}

static void test_participation_ratio(void **state)
{
    (void)state;
    double pr = -1.0;
    /* covariance diag(2, 2) -> PR 2; diag(2, 8) -> 100 / 68; rank 1 -> 1 */
    const float iso[8] = {1, 0, -1, 0, 0, 1, 0, -1};
    assert_int_equal(btsp_an_participation_ratio(iso, 4, 2, &pr), BTSP_OK);
    assert_true(fabs(pr - 2.0) < 1e-9);
    const float aniso[8] = {1, 0, -1, 0, 0, 2, 0, -2};
    assert_int_equal(btsp_an_participation_ratio(aniso, 4, 2, &pr), BTSP_OK);
    assert_true(fabs(pr - 100.0 / 68.0) < 1e-9);
    const float line[6] = {1, 1, 2, 2, 3, 3};
    assert_int_equal(btsp_an_participation_ratio(line, 3, 2, &pr), BTSP_OK);
    assert_true(fabs(pr - 1.0) < 1e-9);
    /* fewer patterns than units (pattern Gram matrix): 3 orthonormal points -> eigenvalues
     * 1, 1, 0 -> PR 2; 2 points -> 1 */
    const float e3[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    assert_int_equal(btsp_an_participation_ratio(e3, 3, 4, &pr), BTSP_OK);
    assert_true(fabs(pr - 2.0) < 1e-9);
    assert_int_equal(btsp_an_participation_ratio(e3, 2, 4, &pr), BTSP_OK);
    assert_true(fabs(pr - 1.0) < 1e-9);
    /* no variance, one pattern -> 0 */
    const float flat[4] = {1, 1, 1, 1};
    assert_int_equal(btsp_an_participation_ratio(flat, 2, 2, &pr), BTSP_OK);
    assert_true(pr == 0.0);
    assert_int_equal(btsp_an_participation_ratio(flat, 1, 2, &pr), BTSP_OK);
    assert_true(pr == 0.0);
    assert_int_equal(btsp_an_participation_ratio(NULL, 2, 2, &pr), BTSP_E_INVALID_ARG);

    const float id3[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, ones[4] = {1, 1, 1, 1}, zero[4] = {0, 0, 0, 0};
    assert_true(fabs(btsp_an_participation_ratio_sym(id3, 3) - 3.0) < 1e-12);
    assert_true(fabs(btsp_an_participation_ratio_sym(ones, 2) - 1.0) < 1e-12);
    assert_true(btsp_an_participation_ratio_sym(zero, 2) == 0.0);
    assert_true(isnan(btsp_an_participation_ratio_sym(NULL, 2)));
}

static void test_class_sorted(void **state)
{
    (void)state;
    /* units: u0 = [0,0,1,1] prefers class 1; u1 silent; u2 = [2,0,1,0] prefers class 0 (means
     * 1 vs 0.5); u3 = [1,1,1,1] ties -> class 0 */
    const float act[16] = {0, 0, 2, 1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0, 1};
    float out[8];
    size_t order[4], n_active = 99;
    int pref[4];
    assert_int_equal(btsp_an_class_sorted(act, 4, 4, A_LABELS, 2, out, order, pref, &n_active), BTSP_OK);
    assert_int_equal(n_active, 3);
    assert_true(order[0] == 2 && order[1] == 3 && order[2] == 0 && order[3] == 1);
    assert_true(pref[0] == 1 && pref[1] == -1 && pref[2] == 0 && pref[3] == 0);
    const float want[8] = {1, 1, 0, 0, 0.5f, 1, 1, 0};
    for (int i = 0; i < 8; i++)
        assert_true(fabsf(out[i] - want[i]) < 1e-6f);
    assert_int_equal(btsp_an_class_sorted(act, 4, 4, A_LABELS, 2, out, order, NULL, NULL), BTSP_OK);
    /* a unit with negative activity is not silent: u0 = [-1,-1,0,0] prefers class 1 (mean 0 >
     * -1); u1 = [1,1,1,1] ties -> class 0 */
    const float neg[8] = {-1, 1, -1, 1, 0, 1, 0, 1};
    float out2[4];
    size_t order2[2], n2 = 99;
    int pref2[2];
    assert_int_equal(btsp_an_class_sorted(neg, 4, 2, A_LABELS, 2, out2, order2, pref2, &n2), BTSP_OK);
    assert_true(n2 == 2 && pref2[0] == 1 && pref2[1] == 0);
    assert_int_equal(btsp_an_class_sorted(act, 4, 4, A_LABELS, 2, out, NULL, NULL, NULL), BTSP_E_INVALID_ARG);
}

static void test_angles(void **state)
{
    (void)state;
    const float x[2] = {1, 0}, y[2] = {0, 1}, d[2] = {1, 1}, m[2] = {-1, 0}, z[2] = {0, 0};
    assert_true(fabs(btsp_an_angle_deg(x, y, 2) - 90.0) < 1e-9);
    assert_true(fabs(btsp_an_angle_deg(x, d, 2) - 45.0) < 1e-9);
    assert_true(fabs(btsp_an_angle_deg(x, m, 2) - 180.0) < 1e-9);
    assert_true(fabs(btsp_an_angle_deg(d, d, 2)) < 1e-6);
    assert_true(isnan(btsp_an_angle_deg(x, z, 2)));
    assert_true(isnan(btsp_an_angle_deg(x, y, 0)));

    const float w[6] = {1, 2, 3, 4, 5, 6};            /* 2 x 3 */
    const float wt[6] = {1, 4, 2, 5, 3, 6};           /* 3 x 2 = W^T */
    const float neg[6] = {-2, -8, -4, -10, -6, -12};  /* -2 W^T */
    const float wrong[6] = {1, 2, 3, 4, 5, 6};        /* W read as 3 x 2: not W^T */
    assert_true(fabs(btsp_an_angle_transposed_deg(w, 2, 3, wt)) < 1e-5);
    assert_true(fabs(btsp_an_angle_transposed_deg(w, 2, 3, neg) - 180.0) < 1e-5);
    /* W.(wrong)^T flattened: wrong^T = [1 3 5; 2 4 6]: dot = 1+6+15+8+20+36 = 86, |.|^2 = 91 */
    assert_true(fabs(btsp_an_angle_transposed_deg(w, 2, 3, wrong) - acos(86.0 / 91.0) * 180.0 / acos(-1.0)) < 1e-5);
    assert_true(isnan(btsp_an_angle_transposed_deg(NULL, 2, 3, wt)));
}

static void test_representation_means(void **state)
{
    (void)state;
    /* A: sparsities 1, 0, 0, 0.8 -> mean 0.45; selectivities of the columns [1,1,0,3] = 19/33,
     * [0,1,0,1] = 2/3, [0,1,0,0] = 1, [0,1,0,0] = 1 -> mean (19/33 + 2/3 + 2) / 4 */
    double sp, se, di, ref;
    assert_int_equal(btsp_an_representation_means(A, 4, 4, &sp, &se, &di), BTSP_OK);
    assert_true(fabs(sp - 0.45) < TOL);
    assert_true(fabs(se - (19.0 / 33.0 + 2.0 / 3.0 + 2.0) / 4.0) < TOL);
    assert_int_equal(btsp_an_discriminability_mean(A, 4, 4, &ref), BTSP_OK);
    assert_true(fabs(di - ref) < TOL);
    assert_int_equal(btsp_an_representation_means(A, 4, 4, NULL, NULL, NULL), BTSP_OK);
    assert_int_equal(btsp_an_representation_means(A, 0, 4, &sp, NULL, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_representation_means(NULL, 4, 4, &sp, NULL, NULL), BTSP_E_INVALID_ARG);
}

static void test_equilibration(void **state)
{
    (void)state;
    /* means: last 2.5, prev 2.0 -> 0.5 / 2.5 = 0.2 (not above 0.2); last 1.0, prev 2.0 -> 1.0 */
    const float last[4] = {1, 2, 3, 4}, prev[4] = {1, 1, 3, 3}, low[2] = {0.5f, 1.5f}, high[2] = {2, 2};
    double rel, residual = 0.0;
    assert_int_equal(btsp_an_equilibration(last, prev, 4, BTSP_AN_EQUILIBRATION_THRESHOLD, &rel, &residual),
                     BTSP_OK);
    assert_true(fabs(rel - 0.2) < TOL && residual == 0.0);
    assert_int_equal(btsp_an_equilibration(low, high, 2, BTSP_AN_EQUILIBRATION_THRESHOLD, &rel, &residual),
                     BTSP_OK);
    assert_true(fabs(rel - 1.0) < TOL && fabs(residual - 1.0) < TOL);
    /* negative means (a linear population): |last - prev| / |last| = |-2 + 1| / 2 = 0.5 */
    const float neg_last[2] = {-2, -2}, neg_prev[2] = {-1, -1};
    residual = 0.0;
    assert_int_equal(btsp_an_equilibration(neg_last, neg_prev, 2, 0.2, &rel, &residual), BTSP_OK);
    assert_true(fabs(rel - 0.5) < TOL && fabs(residual - 0.5) < TOL);
    const float zero[2] = {0, 0};
    assert_int_equal(btsp_an_equilibration(zero, zero, 2, 0.2, &rel, NULL), BTSP_OK);
    assert_true(rel == 0.0);
    assert_int_equal(btsp_an_equilibration(zero, high, 2, 0.2, &rel, &residual), BTSP_OK);
    assert_true(isinf(rel) && isinf(residual));
    /* a diverged population: NaN, not equilibrated, and the residual says so */
    const float diverged[2] = {NAN, 1}, infinite[2] = {INFINITY, 1}, one[2] = {1, 1};
    residual = 0.0;
    assert_int_equal(btsp_an_equilibration(diverged, one, 2, 0.2, &rel, &residual), BTSP_OK);
    assert_true(isnan(rel) && isnan(residual));
    residual = 0.0;
    assert_int_equal(btsp_an_equilibration(infinite, one, 2, 0.2, &rel, &residual), BTSP_OK);
    assert_true(isnan(rel) && isnan(residual));
    assert_int_equal(btsp_an_equilibration(zero, high, 0, 0.2, &rel, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_equilibration(zero, high, 2, 0.2, NULL, NULL), BTSP_E_INVALID_ARG);
}

static void test_class_order(void **state)
{
    (void)state;
    const uint8_t lab[6] = {2, 0, 1, 0, 2, 1};
    size_t order[6];
    assert_int_equal(btsp_an_class_order(lab, 6, 3, order), BTSP_OK);
    const size_t want[6] = {1, 3, 2, 5, 0, 4};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(order[i], want[i]);
    assert_int_equal(btsp_an_class_order(lab, 6, 2, order), BTSP_E_RANGE);
    assert_int_equal(btsp_an_class_order(NULL, 6, 3, order), BTSP_E_INVALID_ARG);
}

static void test_morans_i(void **state)
{
    (void)state;
    /* 2 x 2, one bright pixel: every pixel neighbours the 3 others, N = 4, sum w = 12,
     * d = (3/4, -1/4, -1/4, -1/4), sum d^2 = 3/4, sum_{i != j} d_i d_j = 0 - 3/4:
     * I = (4 / 12) * (-3/4) / (3/4) = -1/3 */
    const float one[4] = {1, 0, 0, 0};
    assert_true(fabs(btsp_an_morans_i(one, 2, 2) + 1.0 / 3.0) < TOL);
    /* 3 x 1 ramp [0, 1, 2]: d = (-1, 0, 1), pairs (0,1), (1,2) both ways: cross = 0, I = 0;
     * 4 x 1 [0, 0, 1, 1]: d = (-1,-1,1,1)/2, cross = 2 (1/4 - 1/4 + 1/4) = 1/2, sum w = 6,
     * sum d^2 = 1: I = (4 / 6) * (1/2) = 1/3 */
    const float ramp[3] = {0, 1, 2}, step[4] = {0, 0, 1, 1};
    assert_true(fabs(btsp_an_morans_i(ramp, 3, 1)) < TOL);
    assert_true(fabs(btsp_an_morans_i(step, 4, 1) - 1.0 / 3.0) < TOL);
    assert_true(isnan(btsp_an_morans_i(ramp, 1, 1)));
    /* 3 x 3 checkerboard, 8 neighbours (diagonals included): 40 directed links, sum d^2 =
     * 20/9; edge pairs give -480/81, diagonal pairs +328/81: I = (9/40) (-152/81) / (20/9) =
     * -0.19 (numpy agrees; with 4 neighbours it would be -1) */
    const float checker[9] = {1, 0, 1, 0, 1, 0, 1, 0, 1};
    assert_true(fabs(btsp_an_morans_i(checker, 3, 3) + 0.19) < TOL);
    const float flat[4] = {2, 2, 2, 2};
    assert_true(isnan(btsp_an_morans_i(flat, 2, 2)));
    assert_true(isnan(btsp_an_morans_i(NULL, 2, 2)));
}

static void test_weighted_average_input(void **state)
{
    (void)state;
    /* 3 patterns x 2 units, inputs [1,2], [3,0], [-1,4].
     * unit 0, activities 1, 2, 1: total 4, sum a x = [1 + 6 - 1, 2 + 0 + 4] = [6, 6] -> [1.5, 1.5];
     * unit 1, activities 0.5, 0, 1.5: total 2, sum a x = [0.5 - 1.5, 1 + 6] = [-1, 7] -> [-0.5, 3.5] */
    const float act[6] = {1, 0.5f, 2, 0, 1, 1.5f};
    const float X[6] = {1, 2, 3, 0, -1, 4};
    float out[4];
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, X, 2, 0.0, out), BTSP_OK);
    assert_true(out[0] == 1.5f && out[1] == 1.5f && out[2] == -0.5f && out[3] == 3.5f);
    /* EIANN's eps: sums divided by total + 1e-4 */
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, X, 2, BTSP_AN_WEIGHTED_AVERAGE_EPS, out), BTSP_OK);
    const double want[4] = {6.0 / 4.0001, 6.0 / 4.0001, -1.0 / 2.0001, 7.0 / 2.0001};
    for (int i = 0; i < 4; i++)
        assert_true(fabs(out[i] - want[i]) <= 1e-7 * fabs(want[i]));

    /* A silent unit (all zeros, or activities summing to exactly 0) gives 0 with eps = 0, not
     * NaN; with eps > 0, 0 / eps = 0 as well. */
    const float act2[9] = {2, 0, 0, 1, 1, 0, 0, -1, 0}; /* 3 patterns x 3 units: u1 sums to 0, u2 silent */
    const float X2[6] = {1, 2, 4, 8, 16, 32};            /* 3 patterns x 2 inputs */
    float out2[6];
    for (int k = 0; k < 2; k++) {
        const double eps = k ? BTSP_AN_WEIGHTED_AVERAGE_EPS : 0.0;
        assert_int_equal(btsp_an_weighted_average_input(act2, 3, 3, X2, 2, eps, out2), BTSP_OK);
        /* unit 0: activities 2, 1, 0: (2 [1,2] + [4,8]) / (3 + eps) */
        assert_true(fabs(out2[0] - 6.0 / (3.0 + eps)) < 1e-6 && fabs(out2[1] - 12.0 / (3.0 + eps)) < 1e-6);
        if (k == 0)
            assert_true(out2[2] == 0.0f && out2[3] == 0.0f); /* 0 / 0 -> 0 */
        else /* ([4,8] - [16,32]) / 1e-4 */
            assert_true(fabs(out2[2] + 12.0 / 1e-4) <= 1e-6 * 12.0 / 1e-4 &&
                        fabs(out2[3] + 24.0 / 1e-4) <= 1e-6 * 24.0 / 1e-4);
        assert_true(out2[4] == 0.0f && out2[5] == 0.0f);
    }

    /* Sparse random activity against the formula evaluated densely. */
    enum { P = 40, U = 6, I = 5 };
    float ra[P * U], rx[P * I], ro[U * I];
    unsigned seed = 12345u;
    for (int k = 0; k < P * U; k++) {
        seed = seed * 1664525u + 1013904223u;
        ra[k] = (seed >> 30) ? 0.0f : (float)(seed >> 8) / 16777216.0f; /* 3 of 4 are 0 */
    }
    for (int k = 0; k < P * I; k++) {
        seed = seed * 1664525u + 1013904223u;
        rx[k] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    assert_int_equal(btsp_an_weighted_average_input(ra, P, U, rx, I, BTSP_AN_WEIGHTED_AVERAGE_EPS, ro), BTSP_OK);
    for (int u = 0; u < U; u++)
        for (int i = 0; i < I; i++) {
            double num = 0.0, den = BTSP_AN_WEIGHTED_AVERAGE_EPS;
            for (int p = 0; p < P; p++) {
                num += (double)ra[p * U + u] * (double)rx[p * I + i];
                den += (double)ra[p * U + u];
            }
            assert_true(fabs(ro[u * I + i] - num / den) <= 1e-6 * (1.0 + fabs(num / den)));
        }

    /* Misuse: NULL pointers, zero sizes, bad eps, sizes whose products overflow. */
    assert_int_equal(btsp_an_weighted_average_input(NULL, 3, 2, X, 2, 0.0, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, NULL, 2, 0.0, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, X, 2, 0.0, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 0, 2, X, 2, 0.0, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 0, X, 2, 0.0, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, X, 0, 0.0, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, X, 2, -1e-4, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, X, 2, NAN, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, 2, X, 2, INFINITY, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, SIZE_MAX / 2, 3, X, 2, 0.0, out), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_weighted_average_input(act, 3, SIZE_MAX / 2, X, 3, 0.0, out), BTSP_E_INVALID_ARG);
}

/* Reference for btsp_an_power_spectrum(): the 2-D DFT summed directly (O(side^4)) and binned
 * with floating-point edges 0.5, 1.5, ..., side/2 + 0.5 as scipy's binned_statistic (last bin
 * closed). */
static void reference_spectrum(const float *img, size_t side, double *ref)
{
    const size_t nb = side / 2;
    double sum[64] = {0}, cnt[64] = {0};
    const double two_pi = 2.0 * acos(-1.0);
    for (size_t ky = 0; ky < side; ky++)
        for (size_t kx = 0; kx < side; kx++) {
            double re = 0.0, im = 0.0;
            for (size_t y = 0; y < side; y++)
                for (size_t x = 0; x < side; x++) {
                    double t = two_pi * (double)((ky * y + kx * x) % side) / (double)side;
                    re += (double)img[y * side + x] * cos(t);
                    im -= (double)img[y * side + x] * sin(t);
                }
            /* numpy fftfreq(side) * side: 0, 1, ..., ceil(side/2) - 1, -floor(side/2), ..., -1 */
            double fx = kx < (side + 1) / 2 ? (double)kx : (double)kx - (double)side;
            double fy = ky < (side + 1) / 2 ? (double)ky : (double)ky - (double)side;
            double k = sqrt(fx * fx + fy * fy);
            for (size_t b = 0; b < nb; b++) {
                double lo = (double)b + 0.5, hi = lo + 1.0;
                if (k >= lo && (k < hi || (b + 1 == nb && k <= hi))) {
                    sum[b] += re * re + im * im;
                    cnt[b] += 1.0;
                    break;
                }
            }
        }
    const double pi = acos(-1.0);
    for (size_t b = 0; b < nb; b++) {
        double lo = (double)b + 0.5, hi = lo + 1.0;
        ref[b] = cnt[b] > 0.0 ? sum[b] / cnt[b] * pi * (hi * hi - lo * lo) : 0.0;
    }
}

/* Trajectory PCA on points whose standardised covariance is known in closed form: columns 0 and
 * 1 are the same zero-mean pattern up to scale and offset (standardised: identical), column 2 an
 * orthogonal pattern, column 3 constant. The standardised covariance (times n - 1 = 3) is
 * [[3,3,0,0],[3,3,0,0],[0,0,3,0],[0,0,0,0]]: eigenvalues 6, 3, 0 -> explained 2/3, 1/3; axis 1
 * = (1,1,0,0)/sqrt2, axis 2 = (0,0,1,0); the scores are the standardised patterns projected. */
static void test_trajectory_pca(void **state)
{
    (void)state;
    const double p1[4] = {-3, -1, 1, 3}, p2[4] = {1, -1, -1, 1};
    float X[4 * 4];
    for (size_t i = 0; i < 4; i++) {
        X[i * 4 + 0] = (float)(10.0 + p1[i]);
        X[i * 4 + 1] = (float)(2.0 * p1[i] - 5.0);
        X[i * 4 + 2] = (float)(5.0 * p2[i]);
        X[i * 4 + 3] = 7.0f;
    }
    float coords[4 * 2], axes[2 * 4], mean[4], sd[4];
    double ex[2];
    assert_int_equal(btsp_an_trajectory_pca(X, 4, 4, 2, coords, axes, mean, sd, ex), BTSP_OK);
    /* the points, means and deviations are floats: agreement to float rounding */
    assert_true(fabs(ex[0] - 2.0 / 3.0) < 1e-6 && fabs(ex[1] - 1.0 / 3.0) < 1e-6);
    const double s1 = sqrt(20.0 / 3.0), s2 = sqrt(4.0 / 3.0); /* unbiased std of p1 and p2 */
    assert_true(fabs(mean[0] - 10.0) < 1e-6 && fabs(mean[1] + 5.0) < 1e-6 && fabs(mean[3] - 7.0) < 1e-6);
    assert_true(fabs(sd[0] - s1) < 1e-6 && fabs(sd[1] - 2.0 * s1) < 1e-6 && fabs(sd[2] - 5.0 * s2) < 1e-5);
    assert_true(sd[3] == 0.0f);
    const double r = sqrt(0.5);
    const double ax1[4] = {r, r, 0, 0}, ax2[4] = {0, 0, 1, 0};
    for (size_t d = 0; d < 4; d++) {
        assert_true(fabs(axes[d] - ax1[d]) < 1e-6);
        assert_true(fabs(axes[4 + d] - ax2[d]) < 1e-6);
    }
    /* scores: z . axis; the largest-magnitude score is positive (svd_flip) */
    for (size_t i = 0; i < 4; i++) {
        assert_true(fabs(coords[i * 2] - 2.0 * r * p1[i] / s1) < 1e-5);
        assert_true(fabs(coords[i * 2 + 1] - p2[i] / s2) < 1e-5);
    }
    /* mapping a point's scores back gives the point */
    for (size_t i = 0; i < 4; i++)
        for (size_t d = 0; d < 4; d++) {
            double x = mean[d] + sd[d] * (coords[i * 2] * axes[d] + coords[i * 2 + 1] * axes[4 + d]);
            assert_true(fabs(x - X[i * 4 + d]) < 1e-4);
        }
    /* all points equal: no variance, zero axes, explained 0 */
    float same[3 * 2] = {1, 2, 1, 2, 1, 2}, c3[3], a3[2], m3[2], s3[2];
    double e3;
    assert_int_equal(btsp_an_trajectory_pca(same, 3, 2, 1, c3, a3, m3, s3, &e3), BTSP_OK);
    assert_true(e3 == 0.0 && a3[0] == 0.0f && a3[1] == 0.0f && c3[0] == 0.0f);
    /* svd_flip on a tie: two points (0) and (1) give scores +-1/sqrt(2) of equal magnitude;
     * numpy's argmax takes the first, so score 0 is the positive one and the axis is -1 */
    const float two[2] = {0, 1};
    float c2[2], a2[1], m2[1], s2v[1];
    double e2;
    assert_int_equal(btsp_an_trajectory_pca(two, 2, 1, 1, c2, a2, m2, s2v, &e2), BTSP_OK);
    assert_true(fabs(c2[0] - sqrt(0.5)) < 1e-6 && fabs(c2[1] + sqrt(0.5)) < 1e-6);
    assert_true(a2[0] == -1.0f && fabs(e2 - 1.0) < 1e-12);
    /* bad arguments */
    assert_int_equal(btsp_an_trajectory_pca(NULL, 4, 4, 2, coords, axes, mean, sd, ex), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_trajectory_pca(X, 1, 4, 1, coords, axes, mean, sd, ex), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_trajectory_pca(X, 4, 0, 2, coords, axes, mean, sd, ex), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_trajectory_pca(X, 4, 4, 0, coords, axes, mean, sd, ex), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_trajectory_pca(X, 4, 4, 5, coords, axes, mean, sd, ex), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_trajectory_pca(X, 4, 4, 2, coords, axes, mean, sd, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_trajectory_pca(X, SIZE_MAX / 2, 4, 2, coords, axes, mean, sd, ex), BTSP_E_INVALID_ARG);
}

/* A random trajectory: the axes are orthonormal, the explained ratios decrease and sum to <= 1,
 * and the scores equal z . axis computed here directly. */
static void test_trajectory_pca_random(void **state)
{
    (void)state;
    enum { N = 7, D = 40, K = 3 };
    float X[N * D], coords[N * K], axes[K * D], mean[D], sd[D];
    double ex[K];
    uint64_t st = 12345;
    for (size_t i = 0; i < N * D; i++) {
        st = st * 6364136223846793005ULL + 1442695040888963407ULL;
        X[i] = (float)((double)(st >> 11) / 9007199254740992.0) * (float)(1 + i % 5);
    }
    assert_int_equal(btsp_an_trajectory_pca(X, N, D, K, coords, axes, mean, sd, ex), BTSP_OK);
    assert_true(ex[0] >= ex[1] && ex[1] >= ex[2] && ex[0] + ex[1] + ex[2] <= 1.0 + 1e-12 && ex[2] > 0.0);
    for (size_t a = 0; a < K; a++)
        for (size_t b = 0; b < K; b++) {
            double dot = 0.0;
            for (size_t d = 0; d < D; d++)
                dot += (double)axes[a * D + d] * axes[b * D + d];
            assert_true(fabs(dot - (a == b)) < 1e-5);
        }
    double var_total = 0.0;
    for (size_t i = 0; i < N; i++)
        for (size_t c = 0; c < K; c++) {
            double score = 0.0;
            for (size_t d = 0; d < D; d++)
                score += (X[i * D + d] - (double)mean[d]) / ((double)sd[d] + 1e-10) * axes[c * D + d];
            assert_true(fabs(score - coords[i * K + c]) < 1e-4);
        }
    /* the explained ratio of component 1 is its score variance over the total variance (= D) */
    for (size_t i = 0; i < N; i++)
        var_total += (double)coords[i * K] * coords[i * K];
    assert_true(fabs(var_total / (double)(N - 1) / D - ex[0]) < 1e-5);
}

static void test_power_spectrum(void **state)
{
    (void)state;
    /* (a) random 6 x 6 and 7 x 7 images against the direct DFT. The result is float: the check
     * allows 1e-9 relative for the double computation plus the float rounding (2^-24 relative). */
    unsigned seed = 777u;
    for (size_t side = 6; side <= 7; side++) {
        float img[49];
        for (size_t i = 0; i < side * side; i++) {
            seed = seed * 1664525u + 1013904223u;
            img[i] = (float)(seed >> 8) / 16777216.0f - 0.3f;
        }
        double ref[3];
        reference_spectrum(img, side, ref);
        float power[3];
        size_t peak = 99, want_peak = 0;
        assert_int_equal(btsp_an_power_spectrum(img, side, power, side / 2, &peak), BTSP_OK);
        for (size_t b = 0; b < side / 2; b++) {
            assert_true(ref[b] > 0.0);
            assert_true(fabs((double)power[b] - ref[b]) <= (1e-9 + 0x1p-24) * ref[b]);
            if (ref[b] > ref[want_peak])
                want_peak = b;
        }
        assert_int_equal(peak, want_peak);
        assert_int_equal(btsp_an_power_spectrum(img, side, power, side / 2, NULL), BTSP_OK);
    }

    /* (b) img[y][x] = cos(2 pi 3 x / 28): F = 28 * 28 / 2 at (kx, ky) = (+-3, 0), 0 elsewhere, so
     * only bin 2 ([2.5, 3.5)) has power: P = 392^2 at 2 of its frequencies, 0 at the others. */
    enum { S = 28 };
    static float wave[S * S];
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            wave[y * S + x] = (float)cos(2.0 * acos(-1.0) * 3.0 * x / S);
    size_t in_bin2 = 0;
    for (int ky = 0; ky < S; ky++)
        for (int kx = 0; kx < S; kx++) {
            int fx = kx < S / 2 ? kx : kx - S, fy = ky < S / 2 ? ky : ky - S;
            double k = sqrt((double)(fx * fx + fy * fy));
            in_bin2 += k >= 2.5 && k < 3.5;
        }
    const double p3 = (S * S / 2.0) * (S * S / 2.0);
    const double want2 = 2.0 * p3 / (double)in_bin2 * acos(-1.0) * (3.5 * 3.5 - 2.5 * 2.5);
    float power[S / 2];
    size_t peak = 99;
    assert_int_equal(btsp_an_power_spectrum(wave, S, power, S / 2, &peak), BTSP_OK);
    assert_int_equal(peak, 2);
    /* 1e-6: the image is stored in float, so the cosine is off by up to half a float ulp */
    assert_true(fabs(power[2] - want2) <= 1e-6 * want2);
    for (int b = 0; b < S / 2; b++)
        if (b != 2)
            assert_true(fabs(power[b]) <= 1e-9 * want2);

    /* a tie (an all-zero image: every bin 0) goes to the lowest index, as numpy's argmax */
    const float zeros4[16] = {0};
    float pz[2];
    peak = 99;
    assert_int_equal(btsp_an_power_spectrum(zeros4, 4, pz, 2, &peak), BTSP_OK);
    assert_true(peak == 0 && pz[0] == 0.0f && pz[1] == 0.0f);

    /* (c) misuse */
    float p1[1];
    assert_int_equal(btsp_an_power_spectrum(wave, 2, p1, 1, &peak), BTSP_OK); /* smallest image */
    assert_int_equal(btsp_an_power_spectrum(NULL, S, power, S / 2, &peak), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_power_spectrum(wave, S, NULL, S / 2, &peak), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_power_spectrum(wave, S, power, S / 2 - 1, &peak), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_power_spectrum(wave, S, power, S / 2 + 1, &peak), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_power_spectrum(wave, 1, p1, 0, &peak), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_power_spectrum(wave, 0, p1, 0, &peak), BTSP_E_INVALID_ARG);
}

static void test_render_grid(void **state)
{
    (void)state;
    size_t w, h;
    assert_int_equal(btsp_an_grid_size(3, 2, 1, 2, 1, &w, &h), BTSP_OK);
    assert_true(w == 7 && h == 5); /* 2 columns of 2+1 pixels + 1; 2 rows of 1+1 + 1 */
    assert_int_equal(btsp_an_grid_size(0, 2, 1, 2, 1, &w, &h), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_grid_size(2, 2, 2, 2, 3, &w, &h), BTSP_OK);
    assert_true(w == 2 * 7 + 1 && h == 7 + 1);

    /* tiles [0, 1], [5, 5] (constant), [-1, 0.5] */
    const float t[6] = {0, 1, 5, 5, -1, 0.5f};
    uint8_t px[7 * 5];
    assert_int_equal(btsp_an_render_grid(t, 3, 2, 1, 2, 1, 0, px, 7, 5), BTSP_OK);
    assert_int_equal(px[0], BTSP_AN_GRID_SEPARATOR);
    assert_int_equal(px[7 + 1], 0);
    assert_int_equal(px[7 + 2], 255);
    assert_int_equal(px[7 + 3], BTSP_AN_GRID_SEPARATOR);
    assert_int_equal(px[7 + 4], 128);
    assert_int_equal(px[7 + 5], 128);
    assert_int_equal(px[3 * 7 + 1], 0);   /* min of tile 2 */
    assert_int_equal(px[3 * 7 + 2], 255); /* max of tile 2 */
    assert_int_equal(px[3 * 7 + 4], BTSP_AN_GRID_SEPARATOR); /* unused cell */
    /* symmetric: [-1, 0.5] over [-1, 1] -> 0 and round(0.75 * 255) = 191 */
    assert_int_equal(btsp_an_render_grid(t, 3, 2, 1, 2, 1, 1, px, 7, 5), BTSP_OK);
    assert_int_equal(px[3 * 7 + 1], 0);
    assert_int_equal(px[3 * 7 + 2], 191);
    assert_int_equal(px[7 + 1], 128); /* 0 in [-1, 1] */
    assert_int_equal(btsp_an_render_grid(t, 3, 2, 1, 2, 1, 0, px, 6, 5), BTSP_E_SHAPE);

    /* zoom 2: every value covers 2 x 2 pixels */
    uint8_t pz[(2 * 5 + 1) * (2 + 1 + 1)];
    assert_int_equal(btsp_an_grid_size(2, 2, 1, 2, 2, &w, &h), BTSP_OK);
    assert_true(w == 11 && h == 4);
    assert_int_equal(btsp_an_render_grid(t, 2, 2, 1, 2, 2, 0, pz, w, h), BTSP_OK);
    assert_true(pz[w + 1] == 0 && pz[w + 2] == 0 && pz[2 * w + 1] == 0 && pz[w + 3] == 255 && pz[2 * w + 4] == 255);
}

static void test_render_lines_png(void **state)
{
    (void)state;
    enum { W = 64, H = 40 };
    uint8_t *rgb = malloc(W * H * 3);
    assert_non_null(rgb);
    const float y[6] = {0, 1, 2, 2, NAN, 0};
    assert_int_equal(btsp_an_render_lines(NULL, y, 2, 3, 0, 0, rgb, W, H), BTSP_OK);
    assert_true(rgb[0] == 255 && rgb[1] == 255 && rgb[2] == 255); /* background */
    const uint8_t *box = rgb + (8 * W + 20) * 3;                   /* top edge of the axes box */
    assert_true(box[0] == 0 && box[1] == 0 && box[2] == 0);
    size_t blue = 0, orange = 0;
    for (size_t i = 0; i < W * H; i++) {
        blue += rgb[3 * i] == 31 && rgb[3 * i + 1] == 119 && rgb[3 * i + 2] == 180;
        orange += rgb[3 * i] == 255 && rgb[3 * i + 1] == 127 && rgb[3 * i + 2] == 14;
    }
    assert_true(blue > 40);  /* a polyline across the plot */
    assert_true(orange > 0); /* an isolated point (the NaN breaks the second series) */
    assert_int_equal(btsp_an_render_lines(NULL, y, 2, 3, 0, 0, rgb, 16, H), BTSP_E_INVALID_ARG);
    const float x[3] = {0, 10, 100};
    assert_int_equal(btsp_an_render_lines(x, y, 1, 3, -1, 3, rgb, W, H), BTSP_OK);
    {
        /* A large plot carries axis numbers: black pixels left of the axes box (the y range)
         * and below it (the x range); a small one has none there. */
        enum { BW = 320, BH = 200 };
        uint8_t *big = malloc(BW * BH * 3);
        assert_non_null(big);
        assert_int_equal(btsp_an_render_lines(x, y, 2, 3, -1, 3, big, BW, BH), BTSP_OK);
        size_t left_ink = 0, below_ink = 0;
        for (size_t r = 0; r < BH; r++)
            for (size_t c = 0; c < BW; c++) {
                const uint8_t *px = big + (r * BW + c) * 3;
                int ink = px[0] == 0 && px[1] == 0 && px[2] == 0;
                left_ink += ink && c < 80;
                below_ink += ink && r > BH - 20 && c > 80;
            }
        assert_true(left_ink > 10);
        assert_true(below_ink > 10);
        free(big);
    }

    char path[256];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/btsp_an_%ld.png", base && *base ? base : "/tmp", (long)getpid());
    char err[256];
    btsp_status st = btsp_png_write(path, rgb, W, H, 3, err, sizeof err);
    if (btsp_png_available()) {
        assert_int_equal(st, BTSP_OK);
        assert_string_equal(err, "");
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        unsigned char sig[8] = {0};
        assert_int_equal(fread(sig, 1, 8, f), 8);
        fclose(f);
        assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
        remove(path);
        assert_int_equal(btsp_png_write(path, rgb, W, H, 2, err, sizeof err), BTSP_E_INVALID_ARG);
        assert_int_equal(btsp_png_write("/nonexistent-dir/x.png", rgb, W, H, 1, err, sizeof err), BTSP_E_IO);
        assert_true(strstr(err, "/nonexistent-dir/x.png") != NULL);
    } else {
        assert_int_equal(st, BTSP_E_UNSUPPORTED);
        assert_true(strlen(err) > 0);
    }
    free(rgb);
}

static size_t count_of(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

/* SVG line plots: the text is there and escaped, one polyline per run of finite points (NaN
 * breaks a line), the fixed y range's ticks, numbered legend entries without names, errors. */
static void test_lines_svg(void **state)
{
    char path[4096], err[512];
    test_tmpdir_file(state, "plot.svg", path, sizeof path);
    const float x[4] = {0, 100, 200, 300};
    const float y[8] = {10, 20, NAN, 40, 50, 60, 70, 100};
    const char *const names[2] = {"test <a&b>", "val \"x\""};
    const btsp_an_plot_labels lb = {"Accuracy", "training samples", "accuracy (%)", names};
    strcpy(err, "stale");
    assert_int_equal(btsp_an_write_lines_svg(path, &lb, x, y, 2, 4, 0.0, 100.0, err, sizeof err), BTSP_OK);
    assert_string_equal(err, ""); /* cleared on success, as btsp_png_write() */
    char *text = test_read_text(path);
    assert_non_null(text);
    /* the plot area is x 80..660, y 44 (top, y = 100) .. 400 (bottom, y = 0): first and last points */
    assert_non_null(strstr(text, "points=\"80.00,364.40 "));
    assert_non_null(strstr(text, " 660.00,44.00\"/>"));
    assert_int_equal(count_of(text, "text-anchor=\"end\""), 6); /* y ticks 0, 20, ..., 100 */
    assert_int_equal(count_of(text, "text-anchor=\"middle\""), 7 + 3); /* x ticks 0, 50, ..., 300; 3 labels */
    assert_non_null(strstr(text, "<circle cx=\"660.00\" cy=\"257.60\"")); /* the point between a NaN and the end */
    assert_non_null(strstr(text, "stroke=\"rgb(31,119,180)\""));
    assert_non_null(strstr(text, "stroke=\"rgb(255,127,14)\""));
    assert_non_null(strstr(text, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(text, ">Accuracy</text>"));
    assert_non_null(strstr(text, ">training samples</text>"));
    assert_non_null(strstr(text, ">accuracy (%)</text>"));
    assert_non_null(strstr(text, ">test &lt;a&amp;b&gt;</text>"));
    assert_non_null(strstr(text, ">val &quot;x&quot;</text>"));
    assert_null(strstr(text, "<a&b>"));
    assert_int_equal(count_of(text, "<polyline"), 2); /* 10,20 | (40: a dot) | 50..100 */
    assert_non_null(strstr(text, ">100</text>"));     /* a tick at the fixed y maximum */
    assert_non_null(strstr(text, ">300</text>"));     /* and at the last x */
    assert_non_null(strstr(text, "</svg>\n"));
    free(text);
    /* no labels: numbered legend, automatic range */
    assert_int_equal(btsp_an_write_lines_svg(path, NULL, NULL, y, 2, 4, 0.0, 0.0, err, sizeof err), BTSP_OK);
    text = test_read_text(path);
    assert_non_null(text);
    assert_non_null(strstr(text, ">1</text>"));
    assert_non_null(strstr(text, ">2</text>"));
    assert_int_equal(count_of(text, "<polyline"), 2);
    assert_int_equal(count_of(text, "<circle"), 1);
    free(text);
    /* a NULL name keeps its number; bytes that are not UTF-8 become '?' (the file stays XML) */
    const char *const partial[2] = {"caf\xc3\xa9 \xff", NULL};
    const btsp_an_plot_labels lp = {NULL, NULL, NULL, partial};
    assert_int_equal(btsp_an_write_lines_svg(path, &lp, x, y, 2, 4, 0.0, 0.0, err, sizeof err), BTSP_OK);
    text = test_read_text(path);
    assert_non_null(text);
    assert_non_null(strstr(text, ">caf\xc3\xa9 ?</text>"));
    assert_non_null(strstr(text, ">2</text>"));
    free(text);
    /* sequences an XML parser rejects although their bytes look like UTF-8: a surrogate, an
     * overlong 3-byte form, a code point above U+10FFFF, an F5 lead byte, U+FFFE; each byte of
     * them is a '?' (a valid 4-byte character, U+1F600, is kept) */
    const char *const odd[2] = {"a\xed\xa0\x80" "b\xe0\x80\xaf" "c\xf4\x90\x80\x80" "d\xf5\x80\x80\x80"
                                "e\xef\xbf\xbe" "f\xf0\x9f\x98\x80", NULL};
    const btsp_an_plot_labels lo = {NULL, NULL, NULL, odd};
    assert_int_equal(btsp_an_write_lines_svg(path, &lo, x, y, 2, 4, 0.0, 0.0, err, sizeof err), BTSP_OK);
    text = test_read_text(path);
    assert_non_null(text);
    assert_non_null(strstr(text, ">a???b???c????d????e???f\xf0\x9f\x98\x80</text>"));
    free(text);
    /* degenerate ranges finish with finite coordinates: x all equal beyond 2^53, a y range whose
     * width overflows, one a few ulps wide, one of subnormal width */
    const float xs_equal[4] = {1e17f, 1e17f, 1e17f, 1e17f};
    const double los[4] = {0.0, -1e308, 1e300, 0.0}, his[4] = {0.0, 1e308, 1.0000000000000002e300, 1e-320};
    for (int k = 0; k < 4; k++) {
        assert_int_equal(btsp_an_write_lines_svg(path, &lb, k ? x : xs_equal, y, 2, 4, los[k], his[k], err, sizeof err),
                         BTSP_OK);
        text = test_read_text(path);
        assert_non_null(text);
        assert_null(strstr(text, "nan"));
        assert_null(strstr(text, "inf"));
        assert_true(count_of(text, "<line") <= 2 * 9 + 2 && strlen(text) < 20000);
        free(text);
    }
    assert_int_equal(btsp_an_write_lines_svg(NULL, &lb, x, y, 2, 4, 0, 0, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_write_lines_svg(path, &lb, x, NULL, 2, 4, 0, 0, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_write_lines_svg(path, &lb, x, y, 0, 4, 0, 0, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_an_write_lines_svg("/nonexistent-dir/p.svg", &lb, x, y, 2, 4, 0, 0, err, sizeof err),
                     BTSP_E_IO);
    assert_non_null(strstr(err, "/nonexistent-dir/p.svg"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax_accuracy_mse),
        cmocka_unit_test(test_simple_stats),
        cmocka_unit_test(test_distinct_rows),
        cmocka_unit_test(test_sparsity_selectivity),
        cmocka_unit_test(test_discriminability),
        cmocka_unit_test(test_rsm),
        cmocka_unit_test(test_participation_ratio),
        cmocka_unit_test(test_class_sorted),
        cmocka_unit_test(test_angles),
        cmocka_unit_test(test_representation_means),
        cmocka_unit_test(test_equilibration),
        cmocka_unit_test(test_class_order),
        cmocka_unit_test(test_morans_i),
        cmocka_unit_test(test_weighted_average_input),
        cmocka_unit_test(test_power_spectrum),
        cmocka_unit_test(test_trajectory_pca),
        cmocka_unit_test(test_trajectory_pca_random),
        cmocka_unit_test(test_render_grid),
        cmocka_unit_test(test_render_lines_png),
        cmocka_unit_test_setup_teardown(test_lines_svg, test_tmpdir_setup, test_tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
