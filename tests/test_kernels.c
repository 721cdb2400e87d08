/* Unit tests of the handle-free kernels (btsp_kernels.h).
 *
 * Every kernel is checked against a straightforward double-precision reference written here
 * (naive loops, closed forms) or against hand-computed numbers, and every test guards against
 * passing trivially (the operation must actually have changed something). Test data come from
 * a small generator local to this file, independent of the library's RNG under test. */
#include "test_support.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "btsp/btsp_kernels.h"

/* ----------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ----------------------------------------------------------------------------------------- */

/* xorshift64* test-data generator (not the library RNG, which is itself under test). */
typedef struct trng {
    uint64_t s;
} trng;

static double trng_uniform(trng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (double)((r->s * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

/* Uniform float in [lo, hi). */
static float trng_range(trng *r, double lo, double hi)
{
    return (float)(lo + (hi - lo) * trng_uniform(r));
}

static float *fvec(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    assert_non_null(p);
    return p;
}

/* Fill n floats with uniform values in [lo, hi); with probability p_zero a value is exactly 0. */
static void fill(trng *r, float *x, size_t n, double lo, double hi, double p_zero)
{
    for (size_t i = 0; i < n; i++)
        x[i] = trng_uniform(r) < p_zero ? 0.0f : trng_range(r, lo, hi);
}

/* |a - b| <= tol, with the values in the failure message. */
#define ASSERT_NEAR(a, b, tol)                                                                      \
    do {                                                                                            \
        const double a_ = (double)(a), b_ = (double)(b), t_ = (double)(tol);                        \
        if (!(fabs(a_ - b_) <= t_))                                                                 \
            fail_msg("%s = %.10g, expected %s = %.10g (tol %.3g)", #a, a_, #b, b_, t_);             \
    } while (0)

/* Bitwise equality of two floats (distinguishes -0 from +0). */
static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Double-precision reference of the scaled rectified sigmoid q (eiann-model.md 1.6), written
 * from the formula independently of the library's q_eval. */
static double ref_logistic(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

static double ref_q(const btsp_k_q_params *p, double x)
{
    const double k = 2.0 / (p->peak - p->th);
    const double xc = x < p->x0 ? p->x0 : (x > p->x1 ? p->x1 : x);
    const double lo = ref_logistic(k * (p->x0 - p->th));
    const double hi = ref_logistic(k * (p->x1 - p->th));
    return p->y0 + (p->y1 - p->y0) * (ref_logistic(k * (xc - p->th)) - lo) / (hi - lo);
}

static double clipd(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Default BTSP_19 parameters with the given eta, w_max, rho, delta and bounds [lo, hi]. */
static btsp_k_btsp_params btsp_params(float eta, float w_max, float rho, float delta, float lo, float hi)
{
    btsp_k_btsp_params p;
    p.learning_rate = eta;
    p.w_max = w_max;
    p.dep_ratio = rho;
    p.discount = delta;
    p.lo = lo;
    p.hi = hi;
    btsp_k_q_default(&p.q);
    return p;
}

/* Reference BTSP_19 update of one synapse, in double (eiann-model.md 3.1). */
static double ref_btsp(const btsp_k_btsp_params *p, double w, double P, double Ph, double pre, double past_pre)
{
    const double e = clipd(pre, 0, 1), eh = clipd(past_pre, 0, 1);
    const double Pp = P > 0 ? P : 0, Pm = P < 0 ? P : 0, Php = Ph > 0 ? Ph : 0;
    const double wm = p->w_max, rho = p->dep_ratio, d = p->discount;
    const double s2 = d * eh, s3 = d * e;
    const double K1 = Pp * ((wm - w) * e - rho * w * ref_q(&p->q, e));
    const double K2 = Pp * ((wm - w) * s2 - rho * w * ref_q(&p->q, s2));
    const double K3 = Php * ((wm - w) * s3 - rho * w * ref_q(&p->q, s3));
    return clipd(w + p->learning_rate * (K1 + K2 + K3 + Pm * e), p->lo, p->hi);
}

/* ----------------------------------------------------------------------------------------- */
/* q: the scaled rectified sigmoid                                                           */
/* ----------------------------------------------------------------------------------------- */

static void test_q_default_table(void **state)
{
    (void)state;
    btsp_k_q_params q;
    btsp_k_q_default(&q);
    assert_true(q.th == 0.01 && q.peak == 0.02 && q.x0 == 0.0 && q.x1 == 1.0 && q.y0 == 0.0 && q.y1 == 1.0);

    /* The table of eiann-model.md 1.6 (defaults th = 0.01, width = 0.01, so k = 200), quoted to
     * three decimals there: hence the 6e-4 tolerance. */
    ASSERT_NEAR(btsp_k_q(&q, 0.005), 0.170, 6e-4);
    ASSERT_NEAR(btsp_k_q(&q, 0.010), 0.432, 6e-4);
    ASSERT_NEAR(btsp_k_q(&q, 0.015), 0.695, 6e-4);
    ASSERT_NEAR(btsp_k_q(&q, 0.020), 0.865, 6e-4);
    ASSERT_NEAR(btsp_k_q(&q, 0.030), 0.980, 6e-4);
    assert_true(btsp_k_q(&q, 0.05) > 0.9995 && btsp_k_q(&q, 0.05) < 1.0);
    assert_true(btsp_k_q(&q, 0.1) > 0.99999);
    /* Exact ends and saturation outside [x0, x1]. */
    assert_true(btsp_k_q(&q, 0.0) == 0.0);
    assert_true(btsp_k_q(&q, -0.5) == 0.0);
    assert_true(btsp_k_q(&q, 1.0) == 1.0);
    assert_true(btsp_k_q(&q, 3.0) == 1.0);
    /* Half-rise at th in closed form: (1/2 - s(-2)) / (s(198) - s(-2)). */
    ASSERT_NEAR(btsp_k_q(&q, 0.01), (0.5 - ref_logistic(-2.0)) / (ref_logistic(198.0) - ref_logistic(-2.0)), 1e-15);

    /* Monotone non-decreasing over [0, 1] and equal to the reference formula. */
    double prev = -1.0;
    for (int i = 0; i <= 10000; i++) {
        const double x = i * 1e-4;
        const double v = btsp_k_q(&q, x);
        assert_true(v >= prev);
        assert_true(v >= 0.0 && v <= 1.0);
        ASSERT_NEAR(v, ref_q(&q, x), 1e-14);
        prev = v;
    }
}

static void test_q_custom_range(void **state)
{
    (void)state;
    /* Non-default window, input range and output range. */
    btsp_k_q_params q = {0.3, 0.5, -1.0, 2.0, -0.5, 1.5};
    assert_true(btsp_k_q(&q, -1.0) == -0.5);
    assert_true(btsp_k_q(&q, -7.0) == -0.5);
    assert_true(btsp_k_q(&q, 2.0) == 1.5);
    assert_true(btsp_k_q(&q, 9.0) == 1.5);
    for (int i = 0; i <= 300; i++) {
        const double x = -1.0 + i * 0.01;
        ASSERT_NEAR(btsp_k_q(&q, x), ref_q(&q, x), 1e-13);
    }
    /* Non-trivial: strictly inside the output range in the middle. */
    assert_true(btsp_k_q(&q, 0.3) > -0.4 && btsp_k_q(&q, 0.3) < 1.4);
}

/* ----------------------------------------------------------------------------------------- */
/* BTSP                                                                                      */
/* ----------------------------------------------------------------------------------------- */

static void test_btsp_term(void **state)
{
    (void)state;
    /* K(A, s) = A ((w_max - w) s - rho w q): 0.8 * ((2 - 0.5) * 0.3 - 1.5 * 0.5 * 0.25)
     * = 0.8 * (0.45 - 0.1875) = 0.21. */
    ASSERT_NEAR(btsp_k_btsp_term(0.8f, 0.5f, 0.3f, 0.25f, 2.0f, 1.5f), 0.21, 1e-7);
    /* No drive, no change; silent input (s = q = 0) gives exactly 0. */
    assert_true(btsp_k_btsp_term(0.0f, 0.5f, 0.3f, 0.25f, 2.0f, 1.5f) == 0.0f);
    assert_true(btsp_k_btsp_term(1.0f, 0.5f, 0.0f, 0.0f, 2.0f, 1.5f) == 0.0f);
}

static void test_btsp_fixed_point_formula(void **state)
{
    (void)state;
    btsp_k_q_params q;
    btsp_k_q_default(&q);
    /* e = 1: q(1) = 1, so W* = w_max / (1 + rho); with rho = 1, w_max / 2. */
    ASSERT_NEAR(btsp_k_btsp_fixed_point(&q, 2.0, 1.0, 1.0), 1.0, 1e-15);
    ASSERT_NEAR(btsp_k_btsp_fixed_point(&q, 3.0, 0.5, 1.0), 2.0, 1e-15);
    /* General s: W* = w_max s / (s + rho q(s)). */
    const double s = 0.012;
    ASSERT_NEAR(btsp_k_btsp_fixed_point(&q, 2.0, 1.0, s), 2.0 * s / (s + ref_q(&q, s)), 1e-15);
    /* No drive: 0. */
    assert_true(btsp_k_btsp_fixed_point(&q, 2.0, 1.0, 0.0) == 0.0);
    assert_true(btsp_k_btsp_fixed_point(&q, 2.0, 1.0, -0.3) == 0.0);
}

/* Repeated current-sample events (plateau 1, no past plateau, no past activity, delta 0) drive
 * every synapse to W* = w_max s / (s + rho q(s)) from below and from above. */
static void test_btsp_converges_to_fixed_point(void **state)
{
    (void)state;
    enum { NPRE = 4, NPOST = 3 };
    const float s[NPRE] = {1.0f, 0.5f, 0.05f, 0.012f};
    const float rhos[] = {1.0f, 0.5f};
    for (size_t t = 0; t < sizeof rhos / sizeof rhos[0]; t++) {
        const float w_max = 2.0f, rho = rhos[t];
        const btsp_k_btsp_params p = btsp_params(0.05f, w_max, rho, 0.0f, 0.0f, w_max);
        /* Rows start at 0, at w_max and in the middle. */
        float W[NPOST * NPRE], work[6 * NPRE];
        const float start[NPOST] = {0.0f, 2.0f, 0.7f};
        for (int i = 0; i < NPOST; i++)
            for (int j = 0; j < NPRE; j++)
                W[i * NPRE + j] = start[i];
        const float plateau[NPOST] = {1.0f, 1.0f, 1.0f}, past_plateau[NPOST] = {0};
        const float past_pre[NPRE] = {0};
        for (int it = 0; it < 4000; it++)
            btsp_k_btsp_update(NPOST, NPRE, W, NPRE, plateau, past_plateau, s, past_pre, &p, work);
        for (int j = 0; j < NPRE; j++) {
            const double wstar = w_max * s[j] / (s[j] + rho * ref_q(&p.q, s[j]));
            ASSERT_NEAR(btsp_k_btsp_fixed_point(&p.q, w_max, rho, s[j]), wstar, 1e-7);
            for (int i = 0; i < NPOST; i++)
                ASSERT_NEAR(W[i * NPRE + j], wstar, 2e-6);
        }
        /* s = 1: exactly half-way for rho = 1 (eiann-model.md 3.1). */
        if (rho == 1.0f)
            ASSERT_NEAR(W[0], w_max / 2, 2e-6);
        /* Non-trivial: the fixed points differ between signals. */
        assert_true(fabs(W[0] - W[3]) > 0.1);
    }
}

/* Hand-computed single synapses: all K terms of a positive event; the negative-event pair. */
static void test_btsp_hand_case(void **state)
{
    (void)state;
    /* eta 0.1, w_max 2, rho 1.5, delta 0.02, bounds [0, 2]; w = 0.5, pre 0.6, past pre 0.5.
     * e = 0.6, q(e) = 1 (to double precision); s2 = 0.02 * 0.5 = 0.01, q(s2) = 0.4323323584;
     * s3 = 0.02 * 0.6 = 0.012, q(s3) = 0.5443759409. */
    const btsp_k_btsp_params p = btsp_params(0.1f, 2.0f, 1.5f, 0.02f, 0.0f, 2.0f);
    float work[6];
    const float pre = 0.6f, past_pre = 0.5f;

    /* (a) plateau 0.8, past plateau 0.6: three K terms, none zero (P- = 0 here; a single plateau
     * value cannot make P+ and P- both non-zero):
     *   K(0.8, e)  = 0.8 * (1.5 * 0.6  - 0.75 * 1)            =  0.12
     *   K(0.8, s2) = 0.8 * (1.5 * 0.01 - 0.75 * 0.4323323584) = -0.2473994150
     *   K(0.6, s3) = 0.6 * (1.5 * 0.012 - 0.75 * 0.5443759409) = -0.2341691734
     *   w' = 0.5 + 0.1 * (0.12 - 0.2473994150 - 0.2341691734) = 0.4638431412 */
    {
        float w = 0.5f;
        const float P = 0.8f, Ph = 0.6f;
        btsp_k_btsp_update(1, 1, &w, 1, &P, &Ph, &pre, &past_pre, &p, work);
        ASSERT_NEAR(w, 0.4638431412, 1e-6);
        ASSERT_NEAR(w, ref_btsp(&p, 0.5, P, Ph, pre, past_pre), 1e-6);
        /* The documented work layout: e, q(e), s2, q(s2), s3, q(s3). */
        ASSERT_NEAR(work[0], 0.6, 1e-7);
        ASSERT_NEAR(work[1], 1.0, 1e-7);
        ASSERT_NEAR(work[2], 0.01, 1e-9);
        ASSERT_NEAR(work[3], 0.4323323584, 1e-6);
        ASSERT_NEAR(work[4], 0.012, 1e-9);
        ASSERT_NEAR(work[5], 0.5443759409, 1e-6);
    }
    /* (b) plateau -0.5, past plateau 0.6: K(P+, .) = 0, the past event still potentiates/depresses
     * through K(0.6, s3), and the linear depression P- e = -0.5 * 0.6 = -0.3 adds:
     *   w' = 0.5 + 0.1 * (-0.2341691734 - 0.3) = 0.4465830827 */
    {
        float w = 0.5f;
        const float P = -0.5f, Ph = 0.6f;
        btsp_k_btsp_update(1, 1, &w, 1, &P, &Ph, &pre, &past_pre, &p, work);
        ASSERT_NEAR(w, 0.4465830827, 1e-6);
        ASSERT_NEAR(w, ref_btsp(&p, 0.5, P, Ph, pre, past_pre), 1e-6);
    }
}

/* A negative plateau alone is a linear, weight-independent depression -eta |P| e, clipped at lo. */
static void test_btsp_negative_plateau(void **state)
{
    (void)state;
    enum { N = 5 };
    const btsp_k_btsp_params p = btsp_params(0.2f, 2.0f, 1.0f, 0.25f, 0.0f, 2.0f);
    const float pre[N] = {0.0f, 0.25f, 0.5f, 1.0f, 3.0f}; /* 3 is clipped to e = 1 */
    const float past_pre[N] = {0.9f, 0.9f, 0.9f, 0.9f, 0.9f}; /* unused: P+ = P^+ = 0 */
    const float P = -0.5f, Ph = -0.7f; /* negative past plateau counts as none */
    float W[2 * N], work[6 * N];
    for (int j = 0; j < N; j++) {
        W[j] = 1.5f;        /* row 0: far from lo */
        W[N + j] = 0.03f;   /* row 1: crosses lo for large e */
    }
    const float plateau[2] = {P, P}, past_plateau[2] = {Ph, Ph};
    btsp_k_btsp_update(2, N, W, N, plateau, past_plateau, pre, past_pre, &p, work);
    for (int j = 0; j < N; j++) {
        const double e = clipd(pre[j], 0, 1);
        ASSERT_NEAR(W[j], 1.5 - 0.2 * 0.5 * e, 1e-6);
        ASSERT_NEAR(W[N + j], clipd(0.03 - 0.2 * 0.5 * e, 0, 2), 1e-7);
    }
    assert_true(W[0] == 1.5f);       /* silent input: untouched */
    assert_true(W[N + 3] == 0.0f);   /* clipped exactly at lo */
    assert_true(W[N + 1] > 0.0f);    /* 0.03 - 0.025 stays positive */
}

/* Silent inputs (e = 0, no past activity) are untouched by positive events because q(0) = 0. */
static void test_btsp_silent_input_untouched(void **state)
{
    (void)state;
    enum { N = 6 };
    const btsp_k_btsp_params p = btsp_params(0.1f, 2.0f, 1.0f, 0.25f, 0.0f, 2.0f);
    const float pre[N] = {0.0f, 0.7f, -0.4f, 0.2f, 0.0f, 1.0f}; /* -0.4 is clipped to silent */
    const float past_pre[N] = {0.0f, 0.3f, 0.0f, 0.0f, -1.0f, 0.5f};
    const float plateau[1] = {1.0f}, past_plateau[1] = {0.5f};
    float W[N], work[6 * N];
    for (int j = 0; j < N; j++)
        W[j] = 0.25f + 0.2f * (float)j;
    float W0[N];
    memcpy(W0, W, sizeof W);
    btsp_k_btsp_update(1, N, W, N, plateau, past_plateau, pre, past_pre, &p, work);
    assert_true(same_bits(W[0], W0[0]));
    assert_true(same_bits(W[2], W0[2]));
    assert_true(same_bits(W[4], W0[4]));
    /* Non-trivial: the active inputs did change, as the reference says. */
    for (int j = 0; j < N; j++)
        ASSERT_NEAR(W[j], ref_btsp(&p, W0[j], plateau[0], past_plateau[0], pre[j], past_pre[j]), 2e-6);
    assert_true(W[1] != W0[1] && W[3] != W0[3] && W[5] != W0[5]);
}

/* Rows with no event (P = 0 and P^ <= 0) are left bit-for-bit alone; others are updated. */
static void test_btsp_rows_without_plateau(void **state)
{
    (void)state;
    enum { NPOST = 5, NPRE = 9, LDW = 12 };
    const btsp_k_btsp_params p = btsp_params(0.05f, 2.0f, 1.0f, 0.25f, 0.0f, 2.0f);
    const float plateau[NPOST] = {0.0f, 0.6f, 0.0f, -0.3f, 0.0f};
    const float past_plateau[NPOST] = {0.0f, 0.0f, -0.4f, 0.0f, 0.9f};
    float W[NPOST * LDW], W0[NPOST * LDW], pre[NPRE], past_pre[NPRE], work[6 * NPRE];
    trng r = {0x1234};
    fill(&r, W, NPOST * LDW, 0.0, 2.0, 0.0);
    /* Padding columns carry a sentinel that must survive. */
    for (int i = 0; i < NPOST; i++)
        for (int j = NPRE; j < LDW; j++)
            W[i * LDW + j] = -77.0f;
    fill(&r, pre, NPRE, 0.0, 1.0, 0.2);
    fill(&r, past_pre, NPRE, 0.0, 1.0, 0.2);
    memcpy(W0, W, sizeof W);
    btsp_k_btsp_update(NPOST, NPRE, W, LDW, plateau, past_plateau, pre, past_pre, &p, work);
    assert_memory_equal(W + 0 * LDW, W0 + 0 * LDW, LDW * sizeof(float));
    assert_memory_equal(W + 2 * LDW, W0 + 2 * LDW, LDW * sizeof(float));
    for (int i = 0; i < NPOST; i++)
        for (int j = NPRE; j < LDW; j++)
            assert_true(W[i * LDW + j] == -77.0f);
    int changed[NPOST] = {0};
    for (int i = 0; i < NPOST; i++)
        for (int j = 0; j < NPRE; j++) {
            const size_t k = (size_t)i * LDW + (size_t)j;
            ASSERT_NEAR(W[k], ref_btsp(&p, W0[k], plateau[i], past_plateau[i], pre[j], past_pre[j]), 2e-6);
            changed[i] += W[k] != W0[k];
        }
    /* Rows 1 (plateau), 3 (negative plateau) and 4 (past plateau only) moved. */
    assert_true(changed[1] > 0 && changed[3] > 0 && changed[4] > 0);
}

/* The update in the kernel's documented float order, written out per synapse with the public
 * pieces (btsp_k_btsp_term, btsp_k_q): the vector path (four lanes) and the scalar tail must
 * give exactly these bits, with bounds that bind. */
static void test_btsp_update_bits(void **state)
{
    (void)state;
    enum { NPOST = 4, NPRE = 45 }; /* 45 = 11 x 4 + 1: four-lane and scalar parts (and room for wider) */
    const btsp_k_btsp_params p = btsp_params(0.4f, 1.5f, 0.8f, 0.3f, 0.0f, 1.2f);
    const float plateau[NPOST] = {0.7f, 1.0f, 0.0f, 0.4f}, past_plateau[NPOST] = {0.0f, 0.5f, 0.9f, 0.2f};
    float W[NPOST * NPRE], W0[NPOST * NPRE], pre[NPRE], past_pre[NPRE], work[6 * NPRE];
    trng r = {0xb175};
    fill(&r, W, NPOST * NPRE, 0.0, 1.3, 0.0);
    fill(&r, pre, NPRE, -0.2, 1.4, 0.3); /* below 0, zeros and above 1: the clip of e acts */
    fill(&r, past_pre, NPRE, -0.2, 1.4, 0.3);
    memcpy(W0, W, sizeof W);
    btsp_k_btsp_update(NPOST, NPRE, W, NPRE, plateau, past_plateau, pre, past_pre, &p, work);
    int clamped = 0;
    for (int i = 0; i < NPOST; i++) {
        const float pp = plateau[i] > 0.0f ? plateau[i] : 0.0f, pm = plateau[i] < 0.0f ? plateau[i] : 0.0f;
        const float ph = past_plateau[i] > 0.0f ? past_plateau[i] : 0.0f;
        for (int j = 0; j < NPRE; j++) {
            const float w = W0[i * NPRE + j];
            const float e = pre[j] < 0.0f ? 0.0f : pre[j] > 1.0f ? 1.0f : pre[j];
            const float eh = past_pre[j] < 0.0f ? 0.0f : past_pre[j] > 1.0f ? 1.0f : past_pre[j];
            const float s2 = p.discount * eh, s3 = p.discount * e;
            const float k1 = btsp_k_btsp_term(pp, w, e, (float)btsp_k_q(&p.q, e), p.w_max, p.dep_ratio);
            const float k2 = btsp_k_btsp_term(pp, w, s2, (float)btsp_k_q(&p.q, s2), p.w_max, p.dep_ratio);
            const float k3 = btsp_k_btsp_term(ph, w, s3, (float)btsp_k_q(&p.q, s3), p.w_max, p.dep_ratio);
            const float sum = ((k1 + k2) + k3) + pm * e;
            float want = w + p.learning_rate * sum;
            clamped += want > p.hi || want < p.lo;
            want = want < p.lo ? p.lo : want;
            want = want > p.hi ? p.hi : want;
            const float got = W[i * NPRE + j];
            if (memcmp(&got, &want, sizeof got) != 0)
                fail_msg("synapse %d,%d: %a, the documented order gives %a", i, j, (double)got, (double)want);
        }
    }
    assert_true(clamped > 0);
}

static void test_btsp_clipping(void **state)
{
    (void)state;
    /* Fixed point w_max / 2 = 1 lies above hi = 0.6: repeated events stop at hi exactly. */
    {
        const btsp_k_btsp_params p = btsp_params(0.5f, 2.0f, 1.0f, 0.0f, 0.0f, 0.6f);
        float w = 0.1f, work[6];
        const float P = 1.0f, Ph = 0.0f, pre = 1.0f, past_pre = 0.0f;
        for (int it = 0; it < 50; it++)
            btsp_k_btsp_update(1, 1, &w, 1, &P, &Ph, &pre, &past_pre, &p, work);
        assert_true(w == 0.6f);
    }
    /* Below lo: a strong negative event from a weight that starts below lo lands on lo; infinite
     * bounds do not clip. */
    {
        btsp_k_btsp_params p = btsp_params(1.0f, 2.0f, 1.0f, 0.0f, -0.25f, 2.0f);
        float w = 0.1f, work[6];
        const float P = -1.0f, Ph = 0.0f, pre = 1.0f, past_pre = 0.0f;
        btsp_k_btsp_update(1, 1, &w, 1, &P, &Ph, &pre, &past_pre, &p, work);
        assert_true(w == -0.25f);
        p.lo = -INFINITY;
        p.hi = INFINITY;
        w = 0.1f;
        btsp_k_btsp_update(1, 1, &w, 1, &P, &Ph, &pre, &past_pre, &p, work);
        ASSERT_NEAR(w, -0.9, 1e-7);
    }
}

/* Random matrix with all kinds of events and out-of-range activities vs the double reference. */
static void test_btsp_random_vs_reference(void **state)
{
    (void)state;
    enum { NPOST = 13, NPRE = 37, LDW = 40 };
    const btsp_k_btsp_params p = btsp_params(0.3f, 1.5f, 0.8f, 0.0162f, 0.0f, 1.5f);
    float W[NPOST * LDW], W0[NPOST * LDW], pre[NPRE], past_pre[NPRE], work[6 * NPRE];
    float plateau[NPOST], past_plateau[NPOST];
    trng r = {77};
    fill(&r, W, NPOST * LDW, 0.0, 1.5, 0.1);
    fill(&r, pre, NPRE, -0.2, 1.3, 0.3);
    fill(&r, past_pre, NPRE, -0.2, 1.3, 0.3);
    fill(&r, plateau, NPOST, -1.0, 1.0, 0.4);
    fill(&r, past_plateau, NPOST, -1.0, 1.0, 0.4);
    memcpy(W0, W, sizeof W);
    btsp_k_btsp_update(NPOST, NPRE, W, LDW, plateau, past_plateau, pre, past_pre, &p, work);
    size_t changed = 0;
    for (int i = 0; i < NPOST; i++) {
        for (int j = 0; j < NPRE; j++) {
            const size_t k = (size_t)i * LDW + (size_t)j;
            ASSERT_NEAR(W[k], ref_btsp(&p, W0[k], plateau[i], past_plateau[i], pre[j], past_pre[j]), 2e-6);
            changed += W[k] != W0[k];
        }
        for (int j = NPRE; j < LDW; j++)
            assert_true(same_bits(W[(size_t)i * LDW + (size_t)j], W0[(size_t)i * LDW + (size_t)j]));
    }
    assert_true(changed > NPOST * NPRE / 4);
}

/* ----------------------------------------------------------------------------------------- */
/* Rate dynamics                                                                             */
/* ----------------------------------------------------------------------------------------- */

/* Constant input I from u = 0: after t steps u = I (1 - (1 - 1/tau)^t). */
static void test_leaky_closed_form(void **state)
{
    (void)state;
    enum { N = 4 };
    const float I[N] = {1.0f, -2.5f, 0.3f, 0.0f};
    const float tau = 7.0f;
    float u[N] = {0};
    for (int t = 1; t <= 200; t++) {
        /* One step is bit-identical to the reference expression u + (I - u) / tau in float. */
        float expect[N];
        for (int i = 0; i < N; i++)
            expect[i] = u[i] + (I[i] - u[i]) / tau;
        btsp_k_leaky(N, I, tau, u);
        for (int i = 0; i < N; i++) {
            assert_true(same_bits(u[i], expect[i]));
            ASSERT_NEAR(u[i], I[i] * (1.0 - pow(1.0 - 1.0 / tau, t)), 1e-5 * fabs(I[i]) + 1e-7);
        }
    }
    assert_true(u[0] > 0.99f && u[3] == 0.0f);
    /* tau = 1: from rest, u jumps to I in one step. */
    float v[N] = {0};
    btsp_k_leaky(N, I, 1.0f, v);
    assert_memory_equal(v, I, sizeof v);
}

static void test_rate_update(void **state)
{
    (void)state;
    enum { N = 6 };
    const float I[N] = {1.0f, -1.0f, 0.5f, 2.0f, -0.2f, 0.05f};
    const float nudge[N] = {0.0f, 2.0f, -1.0f, 0.25f, 0.1f, -0.5f};
    const float tau = 3.0f;
    float u[N] = {0}, u2[N] = {0}, a[N];
    for (int t = 1; t <= 40; t++) {
        btsp_k_rate_update(N, I, tau, BTSP_ACT_RELU, 0, 0, nudge, u, a);
        btsp_k_leaky(N, I, tau, u2);
        for (int i = 0; i < N; i++) {
            /* The nudge never enters u: u follows the plain leaky integration bit for bit. */
            assert_true(same_bits(u[i], u2[i]));
            ASSERT_NEAR(u[i], I[i] * (1.0 - pow(1.0 - 1.0 / tau, t)), 1e-5);
            const float pre = u[i] + nudge[i];
            assert_true(same_bits(a[i], pre > 0.0f ? pre : 0.0f)); /* exact relu, +0 for negatives */
        }
    }
    assert_true(a[2] == 0.0f && a[1] > 0.0f); /* nudged below / above zero */
    /* Without nudge, linear: a == u. */
    float v[N] = {0}, b[N];
    for (int t = 0; t < 5; t++)
        btsp_k_rate_update(N, I, tau, BTSP_ACT_LINEAR, 0, 0, NULL, v, b);
    assert_memory_equal(v, b, sizeof v);
    assert_true(v[0] != 0.0f);
    /* Softmax needs the whole vector: the rate update normalises a over all n. */
    float w[N] = {0}, c[N];
    btsp_k_rate_update(N, I, 1.0f, BTSP_ACT_SOFTMAX, 0, 0, nudge, w, c);
    double sum = 0;
    for (int i = 0; i < N; i++)
        sum += c[i];
    ASSERT_NEAR(sum, 1.0, 1e-6);
    assert_memory_equal(w, I, sizeof w); /* tau = 1: u = I, nudge not integrated */
}

static void test_activations(void **state)
{
    (void)state;
    enum { N = 11 };
    const float u[N] = {-30.0f, -5.0f, -1.0f, -0.0f, 0.0f, 1e-30f, 0.25f, 1.0f, 3.0f, 19.0f, 30.0f};
    float a[N];

    btsp_k_activation(BTSP_ACT_LINEAR, 0, 0, N, u, a);
    assert_memory_equal(a, u, sizeof a);

    btsp_k_activation(BTSP_ACT_RELU, 0, 0, N, u, a);
    for (int i = 0; i < N; i++) {
        if (u[i] > 0)
            assert_true(a[i] == u[i]);
        else
            assert_true(same_bits(a[i], 0.0f)); /* exact +0, also for -0 */
    }

    btsp_k_activation(BTSP_ACT_SIGMOID, 0, 0, N, u, a);
    for (int i = 0; i < N; i++)
        ASSERT_NEAR(a[i], 1.0 / (1.0 + exp(-(double)u[i])), 6e-8 * (1.0 / (1.0 + exp(-(double)u[i]))) + 1e-45);

    btsp_k_activation(BTSP_ACT_SOFTPLUS, 0, 0, N, u, a);
    for (int i = 0; i < N; i++) {
        const double ref = log1p(exp((double)u[i]));
        ASSERT_NEAR(a[i], ref, 6e-8 * ref + 1e-45);
    }
    assert_true(a[N - 1] == 30.0f); /* threshold 20: identity above */
    assert_true(a[0] > 0.0f);       /* 9.4e-14, not flushed */

    btsp_k_activation(BTSP_ACT_TANH, 0, 0, N, u, a);
    for (int i = 0; i < N; i++)
        ASSERT_NEAR(a[i], tanh((double)u[i]), 6e-8 * fabs(tanh((double)u[i])));

    btsp_k_activation(BTSP_ACT_CLAMP, 0.0, 1.0, N, u, a);
    for (int i = 0; i < N; i++)
        assert_true(a[i] == (float)clipd(u[i], 0.0, 1.0));
    btsp_k_activation(BTSP_ACT_CLAMP, -2.0, 0.5, N, u, a);
    for (int i = 0; i < N; i++)
        assert_true(a[i] == (float)clipd(u[i], -2.0, 0.5));

    btsp_k_activation(BTSP_ACT_POLY, 1.0, 2.0, N, u, a);
    for (int i = 0; i < N; i++) {
        const float r = u[i] > 0 ? u[i] : 0.0f;
        assert_true(a[i] == r * r);
    }
    btsp_k_activation(BTSP_ACT_POLY, 0.5, 3.0, N, u, a);
    for (int i = 0; i < N; i++) {
        const double r = u[i] > 0 ? u[i] : 0.0;
        ASSERT_NEAR(a[i], 0.5 * r * r * r, 1.2e-7 * 0.5 * r * r * r + 1.5e-45); /* 1e-30^3 underflows */
    }
    btsp_k_activation(BTSP_ACT_POLY, 2.0, 1.5, N, u, a);
    ASSERT_NEAR(a[8], 2.0 * pow(3.0, 1.5), 1e-5);
    assert_true(a[1] == 0.0f);

    /* In place (u and a the same array). */
    float x[N];
    memcpy(x, u, sizeof x);
    btsp_k_activation(BTSP_ACT_TANH, 0, 0, N, x, x);
    btsp_k_activation(BTSP_ACT_TANH, 0, 0, N, u, a);
    assert_memory_equal(x, a, sizeof x);
}

static void test_softmax(void **state)
{
    (void)state;
    enum { N = 5 };
    const float u[N] = {1.0f, 2.0f, 3.0f, -1.0f, 0.5f};
    float a[N];
    btsp_k_activation(BTSP_ACT_SOFTMAX, 0, 0, N, u, a);
    double z = 0, sum = 0;
    for (int i = 0; i < N; i++)
        z += exp((double)u[i]);
    for (int i = 0; i < N; i++) {
        ASSERT_NEAR(a[i], exp((double)u[i]) / z, 1e-7);
        sum += a[i];
    }
    ASSERT_NEAR(sum, 1.0, 1e-6);
    /* Max subtraction: shifting by 1000 would overflow a naive exp; results agree. */
    float big[N], b[N];
    for (int i = 0; i < N; i++)
        big[i] = u[i] + 1000.0f;
    btsp_k_activation(BTSP_ACT_SOFTMAX, 0, 0, N, big, b);
    for (int i = 0; i < N; i++) {
        assert_true(isfinite(b[i]));
        ASSERT_NEAR(b[i], a[i], 1e-6);
    }
    /* In place, and one element gives exactly 1. */
    btsp_k_activation(BTSP_ACT_SOFTMAX, 0, 0, N, big, big);
    assert_memory_equal(big, b, sizeof b);
    float one = -3.0f;
    btsp_k_activation(BTSP_ACT_SOFTMAX, 0, 0, 1, &one, &one);
    assert_true(one == 1.0f);
    btsp_k_activation(BTSP_ACT_SOFTMAX, 0, 0, 0, NULL, NULL); /* n = 0: nothing */
}

/* ----------------------------------------------------------------------------------------- */
/* Dense products                                                                            */
/* ----------------------------------------------------------------------------------------- */

static const size_t k_sizes[] = {1, 3, 7, 17, 33, 100};
#define N_SIZES (sizeof k_sizes / sizeof k_sizes[0])

/* Tolerance of a float dot product against the double reference: a few ulps of sum |w x|. */
static double dot_tol(size_t n, double abs_sum)
{
    return 4.0 * (double)(n + 2) * 6e-8 * abs_sum + 1e-30;
}

static void test_matvec(void **state)
{
    (void)state;
    trng r = {2024};
    for (size_t a = 0; a < N_SIZES; a++)
        for (size_t b = 0; b < N_SIZES; b++)
            for (int sparse = 0; sparse < 2; sparse++) {
                const size_t rows = k_sizes[a], cols = k_sizes[b], ldw = cols + 3;
                float *W = fvec(rows * ldw), *x = fvec(cols), *y = fvec(rows), *y0 = fvec(rows);
                fill(&r, W, rows * ldw, -1.0, 1.0, 0.0);
                /* NaN in the padding: any read past cols would poison the result. */
                for (size_t i = 0; i < rows; i++)
                    for (size_t j = cols; j < ldw; j++)
                        W[i * ldw + j] = NAN;
                fill(&r, x, cols, -1.0, 2.0, sparse ? 0.8 : 0.0);
                fill(&r, y, rows, -1.0, 1.0, 0.0);
                memcpy(y0, y, rows * sizeof *y);
                btsp_k_matvec_acc(rows, cols, W, ldw, x, y);
                for (size_t i = 0; i < rows; i++) {
                    double ref = y0[i], abs_sum = fabs(y0[i]);
                    for (size_t j = 0; j < cols; j++) {
                        ref += (double)W[i * ldw + j] * x[j];
                        abs_sum += fabs((double)W[i * ldw + j] * x[j]);
                    }
                    ASSERT_NEAR(y[i], ref, dot_tol(cols, abs_sum));
                }
                free(W);
                free(x);
                free(y);
                free(y0);
            }
    /* All-zero x leaves y exactly as it was; x = e_k picks column k exactly. */
    float W[4 * 5] = {0}, x[5] = {0}, y[4] = {1, 2, 3, 4};
    for (int k = 0; k < 20; k++)
        W[k] = (float)k * 0.5f;
    btsp_k_matvec_acc(4, 5, W, 5, x, y);
    assert_true(y[0] == 1 && y[1] == 2 && y[2] == 3 && y[3] == 4);
    x[2] = 1.0f;
    btsp_k_matvec_acc(4, 5, W, 5, x, y);
    for (int i = 0; i < 4; i++)
        assert_true(y[i] == (float)(i + 1) + W[i * 5 + 2]);
}

static void test_matvec_t(void **state)
{
    (void)state;
    trng r = {99};
    for (size_t a = 0; a < N_SIZES; a++)
        for (size_t b = 0; b < N_SIZES; b++)
            for (int sparse = 0; sparse < 2; sparse++) {
                const size_t rows = k_sizes[a], cols = k_sizes[b], ldw = cols + 2;
                float *W = fvec(rows * ldw), *x = fvec(rows), *y = fvec(cols), *y0 = fvec(cols);
                fill(&r, W, rows * ldw, -1.0, 1.0, 0.0);
                for (size_t i = 0; i < rows; i++)
                    for (size_t j = cols; j < ldw; j++)
                        W[i * ldw + j] = NAN;
                fill(&r, x, rows, -1.0, 2.0, sparse ? 0.8 : 0.0);
                fill(&r, y, cols, -1.0, 1.0, 0.0);
                memcpy(y0, y, cols * sizeof *y);
                btsp_k_matvec_t_acc(rows, cols, W, ldw, x, y);
                for (size_t j = 0; j < cols; j++) {
                    double ref = y0[j], abs_sum = fabs(y0[j]);
                    for (size_t i = 0; i < rows; i++) {
                        ref += (double)W[i * ldw + j] * x[i];
                        abs_sum += fabs((double)W[i * ldw + j] * x[i]);
                    }
                    ASSERT_NEAR(y[j], ref, dot_tol(rows, abs_sum));
                }
                free(W);
                free(x);
                free(y);
                free(y0);
            }
}

/* The documented summation order of the dense products (kernels.c): four lane sums over column
 * chunks of four, (l0 + l1) + (l2 + l3), then the trailing columns in order, then added to y.
 * Written out in scalars; every path of the kernels (SSE2 four-lane, AVX two-rows-per-register,
 * AVX two-vectors-at-once in matmat) must give exactly these bits. */
static float order_dot(size_t cols, const float *w, const float *x)
{
    float l[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    const size_t c4 = cols & ~(size_t)3;
    for (size_t j = 0; j < c4; j += 4)
        for (size_t k = 0; k < 4; k++) {
            const float p = w[j + k] * x[j + k];
            l[k] = l[k] + p;
        }
    float s = (l[0] + l[1]) + (l[2] + l[3]);
    for (size_t j = c4; j < cols; j++) {
        const float p = w[j] * x[j];
        s = s + p;
    }
    return s;
}

static void test_product_order(void **state)
{
    (void)state;
    trng r = {4242};
    const size_t cols_list[] = {1, 3, 4, 5, 8, 13, 19, 100, 784};
    for (size_t rows = 1; rows <= 19; rows++)
        for (size_t c = 0; c < sizeof cols_list / sizeof cols_list[0]; c++)
            for (size_t nb = 1; nb <= 5; nb++) {
                const size_t cols = cols_list[c], ldw = cols + 1, ldx = cols + 2, ldy = rows + 1;
                float *W = fvec(rows * ldw), *X = fvec(nb * ldx), *Y = fvec(nb * ldy), *Y0 = fvec(nb * ldy);
                fill(&r, W, rows * ldw, -1.0, 1.0, 0.0);
                fill(&r, X, nb * ldx, -1.0, 2.0, nb == 3 ? 0.6 : 0.0);
                fill(&r, Y, nb * ldy, -1.0, 1.0, 0.0);
                memcpy(Y0, Y, nb * ldy * sizeof *Y);
                btsp_k_matmat_acc(rows, cols, nb, W, ldw, X, ldx, Y, ldy);
                for (size_t v = 0; v < nb; v++)
                    for (size_t i = 0; i < rows; i++) {
                        const float want = Y0[v * ldy + i] + order_dot(cols, W + i * ldw, X + v * ldx);
                        if (memcmp(&want, &Y[v * ldy + i], sizeof want) != 0)
                            fail_msg("matmat %zux%zu nb %zu: row %zu of vector %zu is %.9g, the documented order "
                                     "gives %.9g", rows, cols, nb, i, v, (double)Y[v * ldy + i], (double)want);
                    }
                memcpy(Y, Y0, nb * ldy * sizeof *Y);
                btsp_k_matvec_acc(rows, cols, W, ldw, X, Y);
                for (size_t i = 0; i < rows; i++) {
                    const float want = Y0[i] + order_dot(cols, W + i * ldw, X);
                    if (memcmp(&want, &Y[i], sizeof want) != 0)
                        fail_msg("matvec %zux%zu: row %zu is %.9g, the documented order gives %.9g", rows, cols, i,
                                 (double)Y[i], (double)want);
                }
                free(W);
                free(X);
                free(Y);
                free(Y0);
            }
}

static void test_matmat(void **state)
{
    (void)state;
    trng r = {31337};
    const size_t nbs[] = {1, 2, 5};
    for (size_t a = 0; a < N_SIZES; a++)
        for (size_t b = 0; b < N_SIZES; b++)
            for (size_t c = 0; c < sizeof nbs / sizeof nbs[0]; c++) {
                const size_t rows = k_sizes[a], cols = k_sizes[b], nb = nbs[c];
                const size_t ldw = cols + 1, ldx = cols + 4, ldy = rows + 3;
                float *W = fvec(rows * ldw), *X = fvec(nb * ldx), *Y = fvec(nb * ldy), *Y0 = fvec(nb * ldy);
                float *yv = fvec(rows);
                fill(&r, W, rows * ldw, -1.0, 1.0, 0.0);
                for (size_t i = 0; i < rows; i++)
                    W[i * ldw + cols] = NAN;
                fill(&r, X, nb * ldx, -1.0, 2.0, c == 2 ? 0.7 : 0.0); /* sparse batch for nb = 5 */
                for (size_t v = 0; v < nb; v++)
                    for (size_t j = cols; j < ldx; j++)
                        X[v * ldx + j] = NAN;
                fill(&r, Y, nb * ldy, -1.0, 1.0, 0.0);
                for (size_t v = 0; v < nb; v++)
                    for (size_t i = rows; i < ldy; i++)
                        Y[v * ldy + i] = -55.0f; /* padding sentinel */
                memcpy(Y0, Y, nb * ldy * sizeof *Y);
                btsp_k_matmat_acc(rows, cols, nb, W, ldw, X, ldx, Y, ldy);
                for (size_t v = 0; v < nb; v++) {
                    for (size_t i = 0; i < rows; i++) {
                        double ref = Y0[v * ldy + i], abs_sum = fabs(ref);
                        for (size_t j = 0; j < cols; j++) {
                            ref += (double)W[i * ldw + j] * X[v * ldx + j];
                            abs_sum += fabs((double)W[i * ldw + j] * X[v * ldx + j]);
                        }
                        ASSERT_NEAR(Y[v * ldy + i], ref, dot_tol(cols, abs_sum));
                    }
                    for (size_t i = rows; i < ldy; i++)
                        assert_true(Y[v * ldy + i] == -55.0f);
                    /* Bit-identical to the single-vector product (batched == one-sample). */
                    memcpy(yv, Y0 + v * ldy, rows * sizeof *yv);
                    btsp_k_matvec_acc(rows, cols, W, ldw, X + v * ldx, yv);
                    assert_memory_equal(yv, Y + v * ldy, rows * sizeof *yv);
                }
                free(W);
                free(X);
                free(Y);
                free(Y0);
                free(yv);
            }
}

/* ----------------------------------------------------------------------------------------- */
/* Element-wise helpers, traces, bounds, normalisation                                       */
/* ----------------------------------------------------------------------------------------- */

static void test_clip(void **state)
{
    (void)state;
    enum { N = 7 };
    const float x0[N] = {-INFINITY, -2.0f, -0.5f, 0.0f, 0.5f, 2.0f, INFINITY};
    float x[N];

    memcpy(x, x0, sizeof x);
    btsp_k_clip(N, x, -1.0f, 1.0f);
    const float e1[N] = {-1.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.0f};
    assert_memory_equal(x, e1, sizeof x);

    memcpy(x, x0, sizeof x);
    btsp_k_clip(N, x, 0.0f, INFINITY);
    const float e2[N] = {0.0f, 0.0f, 0.0f, 0.0f, 0.5f, 2.0f, INFINITY};
    assert_memory_equal(x, e2, sizeof x);

    memcpy(x, x0, sizeof x);
    btsp_k_clip(N, x, -INFINITY, 0.0f);
    const float e3[N] = {-INFINITY, -2.0f, -0.5f, 0.0f, 0.0f, 0.0f, 0.0f};
    assert_memory_equal(x, e3, sizeof x);

    memcpy(x, x0, sizeof x);
    btsp_k_clip(N, x, -INFINITY, INFINITY);
    assert_memory_equal(x, x0, sizeof x);

    /* lo == hi pins everything. */
    memcpy(x, x0, sizeof x);
    btsp_k_clip(N, x, 0.25f, 0.25f);
    for (int i = 0; i < N; i++)
        assert_true(x[i] == 0.25f);
}

/* Bit for bit the scalar rule x < lo ? lo : x, then x > hi ? hi : x, in the vector lanes and
 * the tail alike: NaN passes through with its bits, a zero at a zero bound keeps its own sign
 * (-0 clipped at lo = +0 stays -0), and NaN bounds compare false. */
static void test_clip_special_values(void **state)
{
    (void)state;
    enum { N = 19 }; /* four vectors of four and a tail of three */
    const float nan = NAN;
    const float x0[N] = {-0.0f,    0.0f,      nan,        -nan,  -INFINITY, INFINITY, 1e-40f,
                         -1e-40f,  0.25f,     -0.25f,     1.0f,  -1.0f,     2.0f,     -2.0f,
                         FLT_MAX,  -FLT_MAX,  -0.0f,      0.0f,  nan};
    const float los[] = {-0.0f, 0.0f, -1.0f, -INFINITY, nan};
    const float his[] = {0.0f, -0.0f, 1.0f, INFINITY, nan};
    for (size_t a = 0; a < sizeof los / sizeof *los; a++)
        for (size_t b = 0; b < sizeof his / sizeof *his; b++) {
            const float lo = los[a], hi = his[b];
            if (lo > hi)
                continue; /* the kernel's precondition */
            float x[N], e[N];
            memcpy(x, x0, sizeof x);
            for (int i = 0; i < N; i++) {
                float v = x0[i] < lo ? lo : x0[i];
                e[i] = v > hi ? hi : v;
            }
            btsp_k_clip(N, x, lo, hi);
            assert_memory_equal(x, e, sizeof x);
        }
}

static void test_clip_matrix(void **state)
{
    (void)state;
    enum { ROWS = 3, COLS = 4, LDW = 6 };
    float W[ROWS * LDW];
    for (int k = 0; k < ROWS * LDW; k++)
        W[k] = (float)(k - 9) * 0.25f;
    float W0[ROWS * LDW];
    memcpy(W0, W, sizeof W);
    btsp_k_clip_matrix(ROWS, COLS, W, LDW, -1.0f, 0.5f);
    int changed = 0;
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < LDW; j++) {
            const int k = i * LDW + j;
            if (j < COLS)
                assert_true(W[k] == (float)clipd(W0[k], -1.0, 0.5));
            else
                assert_true(W[k] == W0[k]); /* padding untouched */
            changed += W[k] != W0[k];
        }
    assert_true(changed > 0);
    /* One-sided (infinite) bounds. */
    memcpy(W, W0, sizeof W);
    btsp_k_clip_matrix(ROWS, COLS, W, LDW, -INFINITY, 0.0f);
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < COLS; j++)
            assert_true(W[i * LDW + j] == (W0[i * LDW + j] > 0 ? 0.0f : W0[i * LDW + j]));
}

static void test_trace_decay_and_add(void **state)
{
    (void)state;
    ASSERT_NEAR(btsp_k_decay_factor(0.0, 5.0), 1.0, 0.0);
    ASSERT_NEAR(btsp_k_decay_factor(5.0, 5.0), exp(-1.0), 1e-16);
    ASSERT_NEAR(btsp_k_decay_factor(0.1, 20.0), exp(-0.005), 1e-16);

    /* Many small steps of the exact factor reproduce exp(-t / tau) up to float accumulation. */
    enum { N = 3 };
    const double tau = 20.0, dt = 0.5;
    const float f = (float)btsp_k_decay_factor(dt, tau);
    float tr[N] = {1.0f, -3.0f, 0.0f};
    for (int s = 1; s <= 1000; s++) {
        btsp_k_trace_decay(N, f, tr);
        if (s % 100 == 0) {
            const double g = exp(-s * dt / tau);
            ASSERT_NEAR(tr[0], g, 1e-4 * g);
            ASSERT_NEAR(tr[1], -3.0 * g, 3e-4 * g);
            assert_true(tr[2] == 0.0f);
        }
    }
    assert_true(tr[0] < 1e-10f && tr[0] > 0.0f);

    /* trace += gain * x, element-wise, exactly as in float. */
    float t2[N] = {0.5f, 1.0f, -2.0f};
    const float x[N] = {1.0f, -0.25f, 3.0f};
    btsp_k_trace_add(N, t2, x, 0.1f);
    const float e[N] = {0.5f + 0.1f * 1.0f, 1.0f + 0.1f * -0.25f, -2.0f + 0.1f * 3.0f};
    assert_memory_equal(t2, e, sizeof e);
    /* Decay then add: the discrete trace equation reaches its steady state gain x / (1 - f). */
    float t3 = 0.0f;
    const float one = 1.0f;
    for (int s = 0; s < 2000; s++) {
        btsp_k_trace_decay(1, f, &t3);
        btsp_k_trace_add(1, &t3, &one, 0.1f);
    }
    ASSERT_NEAR(t3, 0.1 / (1.0 - f), 1e-3);
}

static void test_row_l1_normalize(void **state)
{
    (void)state;
    enum { ROWS = 5, COLS = 7, LDW = 9 };
    float W[ROWS * LDW], W0[ROWS * LDW];
    trng r = {4242};
    fill(&r, W, ROWS * LDW, -2.0, 3.0, 0.2);
    for (int j = 0; j < LDW; j++)
        W[2 * LDW + j] = 0.0f; /* an all-zero row */
    for (int i = 0; i < ROWS; i++)
        for (int j = COLS; j < LDW; j++)
            W[i * LDW + j] = 123.0f; /* padding, excluded from the norm */
    memcpy(W0, W, sizeof W);
    const float scale = 2.5f;
    btsp_k_row_l1_normalize(ROWS, COLS, W, LDW, scale, 0);
    for (int i = 0; i < ROWS; i++) {
        double s0 = 0, s = 0;
        for (int j = 0; j < COLS; j++) {
            s0 += fabs(W0[i * LDW + j]);
            s += fabs(W[i * LDW + j]);
        }
        for (int j = 0; j < COLS; j++) {
            const float w = W[i * LDW + j], w0 = W0[i * LDW + j];
            /* Sign preserved (zeros stay zero) and W * scale / s. */
            assert_true((w > 0) == (w0 > 0) && (w < 0) == (w0 < 0) && (w == 0) == (w0 == 0));
            if (s0 > 0)
                ASSERT_NEAR(w, w0 * scale / s0, 1e-6);
        }
        for (int j = COLS; j < LDW; j++)
            assert_true(W[i * LDW + j] == 123.0f);
        if (i == 2)
            assert_true(s == 0.0); /* zero row stays zero, no NaN */
        else
            ASSERT_NEAR(s, scale, 1e-5);
    }
    /* Already normalised rows are (nearly) fixed points. */
    float W1[ROWS * LDW];
    memcpy(W1, W, sizeof W);
    btsp_k_row_l1_normalize(ROWS, COLS, W1, LDW, scale, 0);
    for (int k = 0; k < ROWS * LDW; k++)
        ASSERT_NEAR(W1[k], W[k], 1e-6);

    /* zero_diag on a square block: diagonal removed before the norm is taken. */
    enum { N = 6, LD = 8 };
    float S[N * LD], S0[N * LD];
    fill(&r, S, N * LD, 0.1, 1.0, 0.0);
    memcpy(S0, S, sizeof S);
    btsp_k_row_l1_normalize(N, N, S, LD, 1.0f, 1);
    for (int i = 0; i < N; i++) {
        assert_true(S0[i * LD + i] != 0.0f);
        assert_true(S[i * LD + i] == 0.0f);
        double s0 = 0, s = 0;
        for (int j = 0; j < N; j++) {
            s0 += j == i ? 0.0 : fabs(S0[i * LD + j]);
            s += fabs(S[i * LD + j]);
        }
        ASSERT_NEAR(s, 1.0, 1e-6);
        for (int j = 0; j < N; j++)
            if (j != i)
                ASSERT_NEAR(S[i * LD + j], S0[i * LD + j] / s0, 1e-6);
    }
}

/* btsp_k_row_l1_normalize sums each row in PyTorch's CPU order (kernels.c); the order is written
 * out here by hand for three row lengths, one per branch, as the reference. */
static float ref_sum50(const float *x) /* 6 loads of 8 lanes (one group of 4 + 2 left) + 2 tail */
{
    float s = 0.0f, lane[8];
    for (int l = 0; l < 8; l++) {
        float a0 = fabsf(x[l]), a1 = fabsf(x[8 + l]), a2 = fabsf(x[16 + l]), a3 = fabsf(x[24 + l]);
        a0 += fabsf(x[32 + l]);
        a0 += fabsf(x[40 + l]);
        lane[l] = ((a0 + a1) + a2) + a3;
    }
    s += fabsf(x[48]);
    s += fabsf(x[49]);
    for (int l = 0; l < 8; l++)
        s += lane[l];
    return s;
}

static float ref_sum5(const float *x) /* under 8: scalar loads, 4 accumulators, 1 left */
{
    return (((fabsf(x[0]) + fabsf(x[4])) + fabsf(x[1])) + fabsf(x[2])) + fabsf(x[3]);
}

static float ref_sum784(const float *x) /* 98 loads: 24 groups of 4 (a cascade carry after 16) + 2 */
{
    float s = 0.0f, lane[8];
    for (int l = 0; l < 8; l++) {
        float a[4];
        for (int k = 0; k < 4; k++) {
            float hi = 0.0f, lo = 0.0f;
            for (int g = 0; g < 16; g++)
                hi += fabsf(x[(g * 4 + k) * 8 + l]);
            for (int g = 16; g < 24; g++)
                lo += fabsf(x[(g * 4 + k) * 8 + l]);
            a[k] = lo + hi;
        }
        a[0] += fabsf(x[96 * 8 + l]);
        a[0] += fabsf(x[97 * 8 + l]);
        lane[l] = ((a[0] + a[1]) + a[2]) + a[3];
    }
    for (int l = 0; l < 8; l++)
        s += lane[l];
    return s;
}

/* Normalise W (rows x n, zero_diag if square and asked) and check every element against
 * (W / s_ref) * scale with the hand-written row sum; returns how many row sums differ from row 0's. */
static int check_row_order(float *W, size_t rows, size_t n, int zero_diag, float (*ref)(const float *))
{
    static float W0[50 * 784];
    const float scale = 1.8388547f;
    if (zero_diag)
        btsp_k_zero_diag(n, W, n);
    memcpy(W0, W, rows * n * sizeof *W);
    btsp_k_row_l1_normalize(rows, n, W, n, scale, zero_diag);
    int differ = 0;
    const float s0 = ref(W0);
    for (size_t i = 0; i < rows; i++) {
        const float s = ref(W0 + i * n);
        differ += s != s0;
        for (size_t j = 0; j < n; j++)
            assert_true(W[i * n + j] == (W0[i * n + j] / s) * scale);
    }
    return differ;
}

static void test_row_l1_order(void **state)
{
    (void)state;
    trng r = {77};
    static float W[50 * 784];
    /* A collapsed recurrent population: all off-diagonal weights equal, the removed autapse the
     * only difference between rows. For some values the sums differ in the last bit with the
     * position of the zero; that pattern is what EIANN's DendI populations grow from. */
    int differ = 0;
    for (int trial = 0; trial < 100; trial++) {
        const float v = -(float)(0.03 + 0.01 * trng_uniform(&r));
        for (int k = 0; k < 50 * 50; k++)
            W[k] = v;
        differ += check_row_order(W, 50, 50, 1, ref_sum50);
    }
    assert_true(differ > 0); /* the position of the zero does matter, as in the reference */
    fill(&r, W, 50 * 50, 0.0, 0.05, 0.1);
    check_row_order(W, 50, 50, 0, ref_sum50);
    fill(&r, W, 50 * 784, 0.0, 0.01, 0.3);
    check_row_order(W, 50, 784, 0, ref_sum784);
    fill(&r, W, 3 * 5, -1.0, 1.0, 0.0);
    check_row_order(W, 3, 5, 0, ref_sum5);
}

static void test_zero_diag(void **state)
{
    (void)state;
    enum { N = 4, LD = 5 };
    float W[N * LD];
    for (int k = 0; k < N * LD; k++)
        W[k] = (float)(k + 1);
    btsp_k_zero_diag(N, W, LD);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < LD; j++)
            assert_true(W[i * LD + j] == (i == j && j < N ? 0.0f : (float)(i * LD + j + 1)));
}

static void test_outer_acc(void **state)
{
    (void)state;
    enum { ROWS = 9, COLS = 11, LDW = 13 };
    float W[ROWS * LDW], W0[ROWS * LDW], post[ROWS], pre[COLS];
    trng r = {555};
    fill(&r, W, ROWS * LDW, -1.0, 1.0, 0.0);
    fill(&r, post, ROWS, -1.0, 1.0, 0.4);
    fill(&r, pre, COLS, 0.0, 1.0, 0.3);
    post[0] = 0.0f;
    post[1] = 0.7f;
    memcpy(W0, W, sizeof W);
    const float scale = -0.05f;
    btsp_k_outer_acc(ROWS, COLS, W, LDW, scale, post, pre);
    for (int i = 0; i < ROWS; i++) {
        if (post[i] == 0.0f) {
            assert_memory_equal(W + i * LDW, W0 + i * LDW, LDW * sizeof(float)); /* skipped */
            continue;
        }
        for (int j = 0; j < COLS; j++)
            ASSERT_NEAR(W[i * LDW + j], (double)W0[i * LDW + j] + (double)scale * post[i] * pre[j], 2e-7);
        for (int j = COLS; j < LDW; j++)
            assert_true(same_bits(W[i * LDW + j], W0[i * LDW + j]));
    }
    assert_true(W[1 * LDW + 0] != W0[1 * LDW + 0] || pre[0] == 0.0f);
    assert_true(memcmp(W, W0, sizeof W) != 0);
}

/* ----------------------------------------------------------------------------------------- */
/* Counter-based RNG                                                                         */
/* ----------------------------------------------------------------------------------------- */

/* Pinned outputs: any change to the generator (which would silently change every seeded
 * result of the library: weight init, shuffles, stochastic plateaus) fails here. */
static void test_rng_pinned(void **state)
{
    (void)state;
    assert_int_equal(btsp_k_rand_u64(0, 0, 0), UINT64_C(0xFD0C822E52AFCB14));
    assert_int_equal(btsp_k_rand_u64(0, 0, 1), UINT64_C(0x003DBC13FC8879F8));
    assert_int_equal(btsp_k_rand_u64(0, 1, 0), UINT64_C(0x40C798A966412471));
    assert_int_equal(btsp_k_rand_u64(1, 0, 0), UINT64_C(0x0E3DEAB4A6A30AFF));
    assert_int_equal(btsp_k_rand_u64(66049, 7, 123456789), UINT64_C(0x0626D3248E343685));
    assert_int_equal(btsp_k_rand_u64(UINT64_MAX, UINT64_MAX, UINT64_MAX), UINT64_C(0xD33F97CEF1892FD0));
    assert_true(btsp_k_rand_uniform(42, 3, 5) == 0x1.8ab6b3f67cc2fp-1); /* 0.77092516311529902 */
    uint32_t perm[10];
    btsp_k_permutation(42, 0, perm, 10);
    const uint32_t pinned[10] = {9, 4, 7, 8, 2, 6, 5, 0, 1, 3};
    assert_memory_equal(perm, pinned, sizeof perm);
}

/* MT19937 against the C++ standard's own check ([rand.predef]: the 10000th output of
 * std::mt19937 default-seeded with 5489 is 4123659995), and torch's float32 uniform_ and
 * randperm against values printed by PyTorch 1.13.1 (x86-64, AVX2):
 *   torch.manual_seed(66049); torch.empty(6).uniform_(-0.25, 0.0625)   (float bits below)
 *   torch.manual_seed(123); torch.empty(700).uniform_(0.0, 0.0680)[[0, 1, 623, 624, 699]]
 *   g = torch.Generator(); g.manual_seed(257); torch.randperm(10, generator=g) twice
 *   g.manual_seed(2**32 + 257); torch.randperm(10, generator=g)        (low 32 bits only)
 *   g.manual_seed(257); dl = DataLoader(list(range(10)), batch_size=1, shuffle=True,
 *   generator=g); list(dl) twice; and the first 5 of range(50000) (EIANN's order, data seed 257) */
static float f32_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void test_torch_rng(void **state)
{
    (void)state;
    btsp_k_mt19937 g;
    btsp_k_mt19937_seed(&g, 5489);
    uint32_t v = 0;
    for (int i = 0; i < 10000; i++)
        v = btsp_k_mt19937_next(&g);
    assert_int_equal(v, UINT32_C(4123659995));

    const uint32_t u1[6] = {3190284489u, 3188272616u, 3194243568u, 3194337083u, 1028133904u, 3157567376u};
    btsp_k_mt19937_seed(&g, 66049);
    for (int i = 0; i < 6; i++)
        assert_true(btsp_k_torch_uniform(&g, -0.25f, 0.0625f) == f32_bits(u1[i]));
    /* across the regeneration of the state (outputs 623, 624) */
    const uint32_t u2[5] = {1017443185u, 1024450695u, 1001119260u, 1019440503u, 1031733698u};
    const int at[5] = {0, 1, 623, 624, 699};
    btsp_k_mt19937_seed(&g, 123);
    for (int i = 0, k = 0; i < 700; i++) {
        float x = btsp_k_torch_uniform(&g, 0.0f, (float)0.0680);
        if (k < 5 && i == at[k])
            assert_true(x == f32_bits(u2[k++]));
    }

    const uint32_t p1[10] = {8, 5, 0, 4, 1, 7, 9, 2, 3, 6}, p2[10] = {6, 9, 0, 2, 1, 3, 5, 8, 4, 7};
    uint32_t perm[10];
    btsp_k_mt19937_seed(&g, 257);
    btsp_k_torch_randperm(&g, perm, 10);
    assert_memory_equal(perm, p1, sizeof perm);
    btsp_k_torch_randperm(&g, perm, 10); /* the next epoch continues the generator */
    assert_memory_equal(perm, p2, sizeof perm);
    btsp_k_mt19937_seed(&g, (UINT64_C(1) << 32) + 257);
    btsp_k_torch_randperm(&g, perm, 10);
    assert_memory_equal(perm, p1, sizeof perm);
    btsp_k_torch_randperm(&g, perm, 1); /* n = 1 and 0 draw nothing */
    assert_int_equal(perm[0], 0);
    btsp_k_torch_randperm(&g, perm, 0);

    const uint32_t d1[10] = {4, 6, 3, 0, 9, 1, 8, 2, 7, 5}, d2[10] = {8, 2, 3, 9, 1, 4, 7, 5, 6, 0};
    btsp_k_mt19937_seed(&g, 257);
    btsp_k_torch_shuffle_epoch(&g, perm, 10);
    assert_memory_equal(perm, d1, sizeof perm);
    btsp_k_torch_randperm(&g, perm, 10); /* the exhausted iterator's trailing randperm */
    btsp_k_torch_shuffle_epoch(&g, perm, 10);
    assert_memory_equal(perm, d2, sizeof perm);
    uint32_t *big = malloc(50000 * sizeof *big);
    assert_non_null(big);
    const uint32_t e[5] = {11814, 30217, 3279, 40689, 27463};
    btsp_k_mt19937_seed(&g, 257);
    btsp_k_torch_shuffle_epoch(&g, big, 50000);
    assert_memory_equal(big, e, sizeof e);
    free(big);
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_rng_determinism_and_independence(void **state)
{
    (void)state;
    /* Same inputs, same output; each of seed, stream and counter changes it. */
    for (uint64_t c = 0; c < 100; c++) {
        const uint64_t v = btsp_k_rand_u64(5, 9, c);
        assert_true(v == btsp_k_rand_u64(5, 9, c));
        assert_true(v != btsp_k_rand_u64(6, 9, c));
        assert_true(v != btsp_k_rand_u64(5, 10, c));
        assert_true(v != btsp_k_rand_u64(5, 9, c + 1));
    }
    /* No collisions among 4 seeds x 4 streams x 1000 counters (a 64-bit collision among 16000
     * values has probability ~7e-12), and streams are not shifted copies of each other. */
    enum { NS = 4, NC = 1000 };
    uint64_t *v = malloc(NS * NS * NC * sizeof *v);
    assert_non_null(v);
    size_t k = 0;
    for (uint64_t s = 0; s < NS; s++)
        for (uint64_t st = 0; st < NS; st++)
            for (uint64_t c = 0; c < NC; c++)
                v[k++] = btsp_k_rand_u64(s, st, c);
    qsort(v, k, sizeof *v, cmp_u64);
    for (size_t i = 1; i < k; i++)
        assert_true(v[i] != v[i - 1]);
    free(v);
    /* Avalanche: flipping one input bit flips about half of the output bits. */
    double flips = 0;
    int trials = 0;
    for (int bit = 0; bit < 64; bit++)
        for (uint64_t c = 0; c < 20; c++) {
            const uint64_t base = btsp_k_rand_u64(11, 22, c);
            const uint64_t d[3] = {base ^ btsp_k_rand_u64(11 ^ (UINT64_C(1) << bit), 22, c),
                                   base ^ btsp_k_rand_u64(11, 22 ^ (UINT64_C(1) << bit), c),
                                   base ^ btsp_k_rand_u64(11, 22, c ^ (UINT64_C(1) << bit))};
            for (int t = 0; t < 3; t++) {
                uint64_t x = d[t];
                int n = 0;
                while (x) {
                    n += (int)(x & 1u);
                    x >>= 1;
                }
                assert_true(n >= 10 && n <= 54); /* binomial(64, 1/2): way beyond 5 sigma */
                flips += n;
                trials++;
            }
        }
    ASSERT_NEAR(flips / trials, 32.0, 0.5);
}

static void test_rng_uniform(void **state)
{
    (void)state;
    enum { N = 100000 };
    double sum = 0, sum2 = 0;
    int bits[64] = {0};
    int hist[10] = {0};
    for (uint64_t c = 0; c < N; c++) {
        const double u = btsp_k_rand_uniform(2718, 1, c);
        assert_true(u >= 0.0 && u < 1.0);
        /* The documented construction: top 53 bits times 2^-53. */
        assert_true(u == (double)(btsp_k_rand_u64(2718, 1, c) >> 11) * 0x1.0p-53);
        sum += u;
        sum2 += u * u;
        hist[(int)(u * 10)]++;
        const uint64_t x = btsp_k_rand_u64(2718, 2, c);
        for (int b = 0; b < 64; b++)
            bits[b] += (int)((x >> b) & 1u);
    }
    /* Mean 1/2 (sd of the mean 9e-4), variance 1/12, deciles 10000 +- 95 (5 sigma 475). */
    ASSERT_NEAR(sum / N, 0.5, 0.005);
    ASSERT_NEAR(sum2 / N - (sum / N) * (sum / N), 1.0 / 12.0, 0.002);
    for (int d = 0; d < 10; d++)
        ASSERT_NEAR(hist[d], N / 10, 475);
    for (int b = 0; b < 64; b++)
        ASSERT_NEAR(bits[b], N / 2, 800); /* sd 158 */
}

static void test_permutation(void **state)
{
    (void)state;
    /* Valid permutations for assorted n, including the trivial ones. */
    const size_t ns[] = {0, 1, 2, 3, 10, 1000};
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        const size_t n = ns[t];
        uint32_t *p = malloc((n ? n : 1) * sizeof *p);
        unsigned char *seen = calloc(n ? n : 1, 1);
        assert_non_null(p);
        assert_non_null(seen);
        btsp_k_permutation(7, 3, p, n);
        for (size_t i = 0; i < n; i++) {
            assert_true(p[i] < n);
            assert_false(seen[p[i]]);
            seen[p[i]] = 1;
        }
        if (n == 1000) {
            /* Non-trivial: far from the identity, and deterministic. */
            size_t fixed = 0;
            for (size_t i = 0; i < n; i++)
                fixed += p[i] == i;
            assert_true(fixed < 10);
            uint32_t *q = malloc(n * sizeof *q);
            assert_non_null(q);
            btsp_k_permutation(7, 3, q, n);
            assert_memory_equal(p, q, n * sizeof *q);
            btsp_k_permutation(7, 4, q, n);
            assert_true(memcmp(p, q, n * sizeof *q) != 0);
            free(q);
        }
        free(p);
        free(seen);
    }

    /* The documented scheme, re-implemented: Fisher-Yates from the back, draw k uses counter k
     * (rejected draws included), rejection below 2^64 mod m. */
    {
        enum { N = 257 };
        uint32_t p[N], q[N];
        for (uint32_t i = 0; i < N; i++)
            q[i] = i;
        uint64_t counter = 0;
        for (uint64_t m = N; m > 1; m--) {
            const uint64_t threshold = (UINT64_MAX - m + 1) % m;
            uint64_t x;
            do
                x = btsp_k_rand_u64(1, 2, counter++);
            while (x < threshold);
            const uint64_t j = x % m;
            const uint32_t tmp = q[m - 1];
            q[m - 1] = q[j];
            q[j] = tmp;
        }
        btsp_k_permutation(1, 2, p, N);
        assert_memory_equal(p, q, sizeof p);
    }

    /* Uniformity for n = 5 over many streams: each value lands at each position 1/5 of the time
     * (sd 57 around 4000, 6 sigma bound), and all 120 permutations occur about equally often. */
    enum { TRIALS = 20000 };
    int pos[5][5] = {{0}};
    int count[5 * 5 * 5 * 5 * 5] = {0};
    for (uint64_t s = 0; s < TRIALS; s++) {
        uint32_t p[5];
        btsp_k_permutation(99, s, p, 5);
        int code = 0;
        for (int i = 0; i < 5; i++) {
            pos[i][p[i]]++;
            code = code * 5 + (int)p[i];
        }
        count[code]++;
    }
    for (int i = 0; i < 5; i++)
        for (int v = 0; v < 5; v++)
            ASSERT_NEAR(pos[i][v], TRIALS / 5, 340);
    double chi2 = 0;
    int distinct = 0;
    const double expect = TRIALS / 120.0;
    for (int c = 0; c < 5 * 5 * 5 * 5 * 5; c++)
        if (count[c]) {
            distinct++;
            chi2 += (count[c] - expect) * (count[c] - expect) / expect;
        }
    assert_int_equal(distinct, 120);
    /* 119 degrees of freedom: mean 119, sd 15.4; 200 is beyond p = 1e-6. */
    assert_true(chi2 < 200.0);
}

/* ---- Binary synapses (Wu & Maass 2025) ---- */

static int bit_at(const uint64_t *b, size_t i) { return (int)(b[i / 64] >> (i % 64) & 1u); }

static void test_bit_words_and_popcount(void **state)
{
    (void)state;
    assert_int_equal(btsp_k_bit_words(0), 0);
    assert_int_equal(btsp_k_bit_words(1), 1);
    assert_int_equal(btsp_k_bit_words(64), 1);
    assert_int_equal(btsp_k_bit_words(65), 2);
    assert_int_equal(btsp_k_bit_words(128), 2);
    const uint64_t w[3] = {0, ~(uint64_t)0, 0x8000000000000001ull};
    assert_int_equal(btsp_k_popcount(3, w), 66);
    assert_int_equal(btsp_k_popcount(0, w), 0);
}

/* Each bit is its own counter's uniform draw against p; padding bits stay 0; p at and beyond
 * the ends and NaN behave as documented. */
static void test_bernoulli_bits(void **state)
{
    (void)state;
    enum { N = 203 };
    uint64_t b[4];
    memset(b, 0xff, sizeof b);
    btsp_k_bernoulli_bits(5, 9, 1000, N, 0.3, b);
    size_t ones = 0;
    for (size_t i = 0; i < N; i++) {
        int want = btsp_k_rand_uniform(5, 9, 1000 + i) < 0.3;
        assert_int_equal(bit_at(b, i), want);
        ones += (size_t)want;
    }
    for (size_t i = N; i < 256; i++)
        assert_int_equal(bit_at(b, i), 0);
    assert_int_equal(btsp_k_popcount(4, b), ones);
    btsp_k_bernoulli_bits(5, 9, 1000, N, 1.0, b);
    assert_int_equal(btsp_k_popcount(4, b), N);
    btsp_k_bernoulli_bits(5, 9, 1000, N, 0.0, b);
    assert_int_equal(btsp_k_popcount(4, b), 0);
    btsp_k_bernoulli_bits(5, 9, 1000, N, NAN, b);
    assert_int_equal(btsp_k_popcount(4, b), 0);
}

/* Store and read-out against unpacked loops, for sizes around the word boundary, with and
 * without a mask, both rules; rows without a plateau and padding bits stay as they were. */
static void test_binary_store_and_input_vs_reference(void **state)
{
    (void)state;
    static const size_t n_pres[] = {1, 63, 64, 65, 200};
    static const size_t n_posts[] = {1, 5, 70};
    uint64_t ctr = 0;
    for (size_t a = 0; a < sizeof n_pres / sizeof n_pres[0]; a++)
        for (size_t b = 0; b < sizeof n_posts / sizeof n_posts[0]; b++)
            for (int rule = 0; rule < 2; rule++)
                for (int masked = 0; masked < 2; masked++) {
                    size_t n = n_pres[a], m = n_posts[b], words = btsp_k_bit_words(n);
                    uint64_t *W = calloc(m * words, 8), *M = calloc(m * words, 8), *x = calloc(words, 8);
                    uint64_t *pl = calloc(btsp_k_bit_words(m), 8);
                    unsigned char *ref = calloc(m * n, 1), *mref = calloc(m * n, 1);
                    uint32_t *h = calloc(m, 4);
                    assert_true(W && M && x && pl && ref && mref && h);
                    for (size_t i = 0; i < m; i++) {
                        btsp_k_bernoulli_bits(1, 1, ctr, n, 0.5, W + i * words);
                        btsp_k_bernoulli_bits(1, 2, ctr, n, 0.6, M + i * words);
                        ctr += n;
                        for (size_t j = 0; j < n; j++) {
                            ref[i * n + j] = (unsigned char)bit_at(W + i * words, j);
                            mref[i * n + j] = masked ? (unsigned char)bit_at(M + i * words, j) : 1;
                        }
                    }
                    for (int item = 0; item < 4; item++) {
                        btsp_k_bernoulli_bits(2, 1, ctr, n, 0.3, x);
                        btsp_k_bernoulli_bits(2, 2, ctr, m, 0.4, pl);
                        ctr += n + m;
                        btsp_k_binary_store((btsp_k_binary_rule)rule, m, words, W, masked ? M : NULL, x, pl);
                        for (size_t i = 0; i < m; i++)
                            for (size_t j = 0; j < n; j++)
                                if (bit_at(pl, i) && bit_at(x, j) && mref[i * n + j])
                                    ref[i * n + j] = rule == BTSP_K_BINARY_FLIP ? !ref[i * n + j] : 1;
                        for (size_t i = 0; i < m; i++) {
                            for (size_t j = 0; j < n; j++)
                                assert_int_equal(bit_at(W + i * words, j), ref[i * n + j]);
                            for (size_t j = n; j < words * 64; j++)
                                assert_int_equal(bit_at(W + i * words, j), 0);
                        }
                        btsp_k_bernoulli_bits(3, 1, ctr, n, 0.5, x);
                        ctr += n;
                        btsp_k_binary_input(m, words, W, masked ? M : NULL, x, h);
                        for (size_t i = 0; i < m; i++) {
                            uint32_t want = 0;
                            for (size_t j = 0; j < n; j++)
                                want += (uint32_t)(bit_at(x, j) && ref[i * n + j] && mref[i * n + j]);
                            assert_int_equal(h[i], want);
                        }
                    }
                    /* an unknown rule changes nothing */
                    uint64_t before = btsp_k_popcount(m * words, W);
                    memset(pl, 0xff, btsp_k_bit_words(m) * 8);
                    memset(x, 0xff, words * 8);
                    if (n % 64)
                        x[words - 1] &= ((uint64_t)1 << (n % 64)) - 1;
                    btsp_k_binary_store((btsp_k_binary_rule)7, m, words, W, NULL, x, pl);
                    assert_int_equal(btsp_k_popcount(m * words, W), before);
                    free(W);
                    free(M);
                    free(x);
                    free(pl);
                    free(ref);
                    free(mref);
                    free(h);
                }
}

/* Closed form of the weight density after M one-shot items with pattern density f_p and
 * plateau probability p per neuron and item, from w = 0: a synapse changes with probability
 * r = f_p p per item, so FLIP gives P(w = 1) = (1 - (1 - 2r)^M) / 2 (never above 1/2: the
 * weight-dependent direction of BTSP) and SET 1 - (1 - r)^M (saturating at 1, Willshaw). The
 * tolerance is 5 standard errors of the mean over rows (the synapses of a row share its
 * plateaus, so row densities vary more than independent bits would). */
static void test_binary_density_closed_form(void **state)
{
    (void)state;
    enum { N = 512, ROWS = 1024 };
    const double fp = 0.05, p = 0.25;
    size_t words = btsp_k_bit_words(N);
    uint64_t *W[2], x[8], pl[ROWS / 64];
    W[0] = calloc(ROWS * words, 8);
    W[1] = calloc(ROWS * words, 8);
    assert_true(W[0] && W[1]);
    size_t done = 0;
    static const size_t checkpoints[] = {20, 200};
    for (size_t c = 0; c < 2; c++) {
        for (; done < checkpoints[c]; done++) {
            btsp_k_bernoulli_bits(11, 1, done * N, N, fp, x);
            btsp_k_bernoulli_bits(11, 2, done * ROWS, ROWS, p, pl);
            btsp_k_binary_store(BTSP_K_BINARY_FLIP, ROWS, words, W[0], NULL, x, pl);
            btsp_k_binary_store(BTSP_K_BINARY_SET, ROWS, words, W[1], NULL, x, pl);
        }
        double r = fp * p, M = (double)done;
        double want[2] = {(1.0 - pow(1.0 - 2.0 * r, M)) / 2.0, 1.0 - pow(1.0 - r, M)};
        for (int k = 0; k < 2; k++) {
            double sum = 0.0, sum2 = 0.0;
            for (size_t i = 0; i < ROWS; i++) {
                double d = (double)btsp_k_popcount(words, W[k] + i * words) / N;
                sum += d;
                sum2 += d * d;
            }
            double mean = sum / ROWS, se = sqrt((sum2 / ROWS - mean * mean) / ROWS);
            if (!(fabs(mean - want[k]) <= 5.0 * se + 1e-9))
                fail_msg("%s after %zu items: density %.5f, closed form %.5f (se %.5f)", k ? "SET" : "FLIP", done,
                         mean, want[k], se);
        }
    }
    /* after 200 items the two rules are far apart: BTSP stays near 1/2, Willshaw near 0.92 */
    assert_true(btsp_k_popcount(ROWS * words, W[0]) < 0.51 * ROWS * N);
    assert_true(btsp_k_popcount(ROWS * words, W[1]) > 0.90 * ROWS * N);
    free(W[0]);
    free(W[1]);
}

/* ---- Weight-dependent bidirectional BTSP (Milstein et al. 2021) ---- */

/* The documented generic parameters; one step against the formula written out in double. */
static void test_wd_defaults_and_step(void **state)
{
    (void)state;
    btsp_k_wd_params p;
    btsp_k_wd_default(&p);
    assert_true(p.k_pot == 1.11 && p.k_dep == 0.425 && p.tau_et == 1.664 && p.tau_is == 0.437);
    assert_true(p.w_max == 1.0 + 3.68);
    assert_true(p.q_pot.th == 0.415 && p.q_pot.peak == 0.415 + 0.454);
    assert_true(p.q_dep.th == 0.0262 && p.q_dep.peak == 0.0262 + 0.0998);
    const float w[4] = {0.0f, 0.3f, 0.9f, 0.5f}, et[4] = {0.8f, 0.8f, 0.8f, 0.0f};
    float dw[4] = {0.1f, 0.1f, 0.1f, 0.1f};
    const float is = 0.9f;
    const double dt = 0.01;
    btsp_k_wd_rate_acc(&p, 4, w, et, is, dt, dw);
    for (int j = 0; j < 4; j++) {
        double sj = (double)et[j] * is;
        double want = 0.1f + (float)(dt * (p.k_pot * btsp_k_q(&p.q_pot, sj) * (1.0 - w[j]) -
                                           p.k_dep * btsp_k_q(&p.q_dep, sj) * w[j]));
        assert_true(dw[j] == (float)want);
    }
    assert_true(dw[3] == 0.1f); /* no eligibility: no change (q(0) = 0) */
    /* the hand-worked values at s = 0.72: q+ and q- from their closed form */
    double qp = btsp_k_q(&p.q_pot, 0.72), qd = btsp_k_q(&p.q_dep, 0.72);
    assert_true(qp > 0.5 && qp < 1.0 && qd > 0.99); /* s well above q-'s threshold, near q+'s */
    /* the closed form of the scaled sigmoid, written out: k = 2 / half-width, logistic s,
     * q(x) = (s(k (x - th)) - s(-k th)) / (s(k (1 - th)) - s(-k th)) */
    const double kp = 2.0 / 0.454, kd = 2.0 / 0.0998;
#define LOGISTIC(v) (1.0 / (1.0 + exp(-(v))))
    const double qp_hand = (LOGISTIC(kp * (0.72 - 0.415)) - LOGISTIC(-kp * 0.415)) /
                           (LOGISTIC(kp * (1.0 - 0.415)) - LOGISTIC(-kp * 0.415));
    const double qd_hand = (LOGISTIC(kd * (0.72 - 0.0262)) - LOGISTIC(-kd * 0.0262)) /
                           (LOGISTIC(kd * (1.0 - 0.0262)) - LOGISTIC(-kd * 0.0262));
#undef LOGISTIC
    assert_true(fabs(qp - qp_hand) < 1e-12 && fabs(qd - qd_hand) < 1e-12);
    assert_true(fabs(qp - 0.8276823707183241) < 1e-12 && fabs(qd - 0.999998548304963) < 1e-12);
}

/* Bidirectional and weight-dependent: below the fixed point w* = k+ q+ / (k+ q+ + k- q-) a
 * synapse potentiates, above it depresses, and repeated steps converge to it. */
static void test_wd_fixed_point(void **state)
{
    (void)state;
    btsp_k_wd_params p;
    btsp_k_wd_default(&p);
    const double signals[] = {0.2, 0.5, 1.0};
    for (size_t k = 0; k < 3; k++) {
        double s = signals[k], ws = btsp_k_wd_fixed_point(&p, s);
        double a = p.k_pot * btsp_k_q(&p.q_pot, s), b = p.k_dep * btsp_k_q(&p.q_dep, s);
        assert_true(fabs(ws - a / (a + b)) < 1e-12);
        float w[2] = {(float)(ws - 0.1), (float)(ws + 0.1)}, et[2] = {(float)s, (float)s}, dw[2] = {0, 0};
        btsp_k_wd_rate_acc(&p, 2, w, et, 1.0f, 0.01, dw);
        assert_true(dw[0] > 0.0f && dw[1] < 0.0f);
        float v[2] = {0.0f, 1.0f};
        for (int t = 0; t < 20000; t++) {
            float d[2] = {0, 0};
            btsp_k_wd_rate_acc(&p, 2, v, et, 1.0f, 0.01, d);
            v[0] += d[0];
            v[1] += d[1];
        }
        assert_true(fabs(v[0] - ws) < 1e-4 && fabs(v[1] - ws) < 1e-4);
    }
    assert_true(isnan(btsp_k_wd_fixed_point(&p, 0.0))); /* no drive: no fixed point */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_q_default_table),
        cmocka_unit_test(test_q_custom_range),
        cmocka_unit_test(test_btsp_term),
        cmocka_unit_test(test_btsp_fixed_point_formula),
        cmocka_unit_test(test_btsp_converges_to_fixed_point),
        cmocka_unit_test(test_btsp_hand_case),
        cmocka_unit_test(test_btsp_negative_plateau),
        cmocka_unit_test(test_btsp_silent_input_untouched),
        cmocka_unit_test(test_btsp_rows_without_plateau),
        cmocka_unit_test(test_btsp_clipping),
        cmocka_unit_test(test_btsp_random_vs_reference),
        cmocka_unit_test(test_torch_rng),
        cmocka_unit_test(test_leaky_closed_form),
        cmocka_unit_test(test_rate_update),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_matvec),
        cmocka_unit_test(test_matvec_t),
        cmocka_unit_test(test_matmat),
        cmocka_unit_test(test_product_order),
        cmocka_unit_test(test_btsp_update_bits),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_clip_special_values),
        cmocka_unit_test(test_clip_matrix),
        cmocka_unit_test(test_trace_decay_and_add),
        cmocka_unit_test(test_row_l1_normalize),
        cmocka_unit_test(test_row_l1_order),
        cmocka_unit_test(test_zero_diag),
        cmocka_unit_test(test_outer_acc),
        cmocka_unit_test(test_rng_pinned),
        cmocka_unit_test(test_rng_determinism_and_independence),
        cmocka_unit_test(test_rng_uniform),
        cmocka_unit_test(test_permutation),
        cmocka_unit_test(test_bit_words_and_popcount),
        cmocka_unit_test(test_bernoulli_bits),
        cmocka_unit_test(test_binary_store_and_input_vs_reference),
        cmocka_unit_test(test_binary_density_closed_form),
        cmocka_unit_test(test_wd_defaults_and_step),
        cmocka_unit_test(test_wd_fixed_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
