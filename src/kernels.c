/* Handle-free numeric kernels (btsp_kernels.h): rate dynamics, dense products, traces, bounds,
 * row normalisation, the BTSP_19 weight update and the counter-based RNG.
 *
 * Conventions shared by every kernel here:
 * - No allocation, no printing, no global state; only libm.
 * - Element-wise float arithmetic is written in the same order as the PyTorch float32 reference
 *   (eiann-model.md), so results agree to the last bit where the reference does one float op per
 *   step (leaky integration, relu, clamp) and to float rounding elsewhere.
 * - Transcendental functions (exp, log, tanh, pow) are evaluated in double and rounded once to
 *   float, which is never worse than the reference's float evaluation.
 * - Clipping is written as (x < lo ? lo : x), (x > hi ? hi : x): NaN passes through (as in
 *   torch.clamp) and infinite bounds need no special case.
 * - The matrix-sized loops (dot products, axpy, clipping, the BTSP update) are written on a
 *   four-lane type v4f (below): explicit 128-bit vectors with GCC/Clang vector extensions (SSE2
 *   on x86-64 without any -march flag, NEON on AArch64), a plain four-float struct elsewhere.
 *   Explicit vectors keep the code fast at every optimisation level: left to the auto-vectorizer,
 *   gcc -O2 vectorizes no loop of unknown trip count, and gcc -O3 turns lane-wise float
 *   reductions into order-preserving shuffle-heavy code 3x slower than the -O2 code. Lane
 *   arithmetic is IEEE per element, so both v4f implementations give bit-identical results.
 * - On x86-64 CPUs with AVX (detected at run time; CMake option BTSP_AVX=OFF or -DBTSP_K_NO_AVX
 *   removes the path), the eight-row dot products run two rows per 256-bit register with the
 *   same lane arithmetic and summation order, so the results are the same bits as the SSE2 path
 *   (tests/test_kernels.c test_product_order writes the order out; test_btsp_update_bits does
 *   the same for the BTSP update). An eight-lane BTSP update was tried and measured slower
 *   (bench_kernels: 1,100-1,330 vs 1,610-1,720 M synapses/s), so the update stays four-lane.
 */
#include "btsp/btsp_kernels.h"

#include "internal.h" /* btsp__k_btsp_row_active, shared with the rules */

#include <assert.h>
#include <math.h>
#if (defined(__GNUC__) || defined(__clang__)) && !defined(BTSP_K_NO_VECTOR_EXT) && defined(__SSE2__)
#include <emmintrin.h> /* _mm_max_ps, _mm_min_ps for v4_clip */
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ========================================================================================= */
/* Four-lane float vectors                                                                   */
/* ========================================================================================= */

#if (defined(__GNUC__) || defined(__clang__)) && !defined(BTSP_K_NO_VECTOR_EXT)
/* GCC/Clang vector extension: element-wise operators, lane subscripts, bit casts to v4i. */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f v4_load(const float *p) /* unaligned */
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v4_store(float *p, v4f v)
{
    memcpy(p, &v, sizeof v);
}
static inline v4f v4_set1(float a)
{
    const v4f v = {a, a, a, a};
    return v;
}
static inline v4f v4_add(v4f a, v4f b) { return a + b; }
static inline v4f v4_sub(v4f a, v4f b) { return a - b; }
static inline v4f v4_mul(v4f a, v4f b) { return a * b; }
/* (a0 + a1) + (a2 + a3) */
static inline float v4_hsum(v4f a) { return (a[0] + a[1]) + (a[2] + a[3]); }
/* Per lane: x = x < lo ? lo : x, then x > hi ? hi : x, in that order like clipf() (so even lo > hi
 * gives the same lanes); NaN lanes pass through. */
#if defined(__SSE2__)
/* MAXPS(a, b) = a > b ? a : b and MINPS(a, b) = a < b ? a : b, returning b when either is NaN or
 * both are zeros: so MAXPS(lo, x) is x < lo ? lo : x and MINPS(hi, x) is x > hi ? hi : x lane by
 * lane, signed zeros and NaN included. Two instructions instead of the eight of the compare and
 * select below (bench_kernels' clip_matrix line; figures in bench/README.md, "Speed"). */
static inline v4f v4_clip(v4f x, v4f lo, v4f hi)
{
    return (v4f)_mm_min_ps((__m128)hi, _mm_max_ps((__m128)lo, (__m128)x));
}
#else
/* Comparisons give all-ones lanes where true. */
static inline v4f v4_clip(v4f x, v4f lo, v4f hi)
{
    const v4i below = x < lo;
    x = (v4f)(((v4i)lo & below) | ((v4i)x & ~below));
    const v4i above = x > hi;
    return (v4f)(((v4i)hi & above) | ((v4i)x & ~above));
}
#endif
#else
/* Portable fallback with exactly the same per-lane arithmetic. */
typedef struct v4f {
    float v[4];
} v4f;

static inline v4f v4_load(const float *p)
{
    v4f r;
    memcpy(r.v, p, sizeof r.v);
    return r;
}
static inline void v4_store(float *p, v4f a)
{
    memcpy(p, a.v, sizeof a.v);
}
static inline v4f v4_set1(float a)
{
    const v4f r = {{a, a, a, a}};
    return r;
}
static inline v4f v4_add(v4f a, v4f b)
{
    for (int l = 0; l < 4; l++)
        a.v[l] += b.v[l];
    return a;
}
static inline v4f v4_sub(v4f a, v4f b)
{
    for (int l = 0; l < 4; l++)
        a.v[l] -= b.v[l];
    return a;
}
static inline v4f v4_mul(v4f a, v4f b)
{
    for (int l = 0; l < 4; l++)
        a.v[l] *= b.v[l];
    return a;
}
static inline float v4_hsum(v4f a) { return (a.v[0] + a.v[1]) + (a.v[2] + a.v[3]); }
static inline v4f v4_clip(v4f x, v4f lo, v4f hi)
{
    for (int l = 0; l < 4; l++) {
        x.v[l] = x.v[l] < lo.v[l] ? lo.v[l] : x.v[l];
        x.v[l] = x.v[l] > hi.v[l] ? hi.v[l] : x.v[l];
    }
    return x;
}
#endif

/* ========================================================================================= */
/* Small helpers                                                                             */
/* ========================================================================================= */

static inline float clipf(float x, float lo, float hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* max(u, 0) with exact +0 for u <= 0 (including -0) and NaN propagated, like torch.relu. */
static inline float reluf(float u)
{
    return u <= 0.0f ? 0.0f : u;
}

/* ========================================================================================= */
/* Activations and rate dynamics                                                             */
/* ========================================================================================= */

static inline double logistic(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* torch.nn.functional.softplus with its defaults beta = 1, threshold = 20: the identity above
 * the threshold (where log1p(exp(u)) == u in float anyway), log1p(exp(u)) below. */
static inline double softplus(double u)
{
    return u > 20.0 ? u : log1p(exp(u));
}

/* Softmax over n entries: max subtracted, exponentials summed in double. The exponentials are
 * recomputed in the second pass rather than stored, so that u and a may alias without scratch. */
static void softmax(size_t n, const float *u, float *a)
{
    if (n == 0)
        return;
    float m = u[0];
    for (size_t i = 1; i < n; i++)
        m = u[i] > m ? u[i] : m;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += exp((double)u[i] - (double)m);
    const double inv = 1.0 / sum;
    for (size_t i = 0; i < n; i++)
        a[i] = (float)(exp((double)u[i] - (double)m) * inv);
}

void btsp_k_activation(btsp_activation act, double p0, double p1, size_t n, const float *u, float *a)
{
    /* u and a may be the same array: every loop reads u[i] before writing a[i] and never reads
     * u[k] for k < i afterwards (softmax's first two passes only read). */
    switch (act) {
    case BTSP_ACT_LINEAR:
        if (a != u)
            for (size_t i = 0; i < n; i++)
                a[i] = u[i];
        break;
    case BTSP_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            a[i] = reluf(u[i]);
        break;
    case BTSP_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            a[i] = (float)logistic((double)u[i]);
        break;
    case BTSP_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++)
            a[i] = (float)softplus((double)u[i]);
        break;
    case BTSP_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            a[i] = (float)tanh((double)u[i]);
        break;
    case BTSP_ACT_CLAMP: {
        /* torch.clamp with Python-float bounds works on the float-converted bounds. */
        const float lo = (float)p0, hi = (float)p1;
        for (size_t i = 0; i < n; i++)
            a[i] = clipf(u[i], lo, hi);
        break;
    }
    case BTSP_ACT_POLY: {
        const float gain = (float)p0;
        if (p1 == 2.0) {
            /* The default: exact float square (x**2 in torch is x*x). */
            for (size_t i = 0; i < n; i++) {
                const float r = reluf(u[i]);
                a[i] = gain * (r * r);
            }
        } else if (p1 == 1.0) {
            for (size_t i = 0; i < n; i++)
                a[i] = gain * reluf(u[i]);
        } else {
            for (size_t i = 0; i < n; i++)
                a[i] = gain * (float)pow((double)reluf(u[i]), p1);
        }
        break;
    }
    case BTSP_ACT_SOFTMAX:
        softmax(n, u, a);
        break;
    default:
        /* Unknown activation (a violated precondition): behave as linear rather than leave a
         * holding stale values. */
        assert(0 && "unknown btsp_activation");
        if (a != u)
            for (size_t i = 0; i < n; i++)
                a[i] = u[i];
        break;
    }
}

void btsp_k_leaky(size_t n, const float *I, float tau, float *u)
{
    assert(tau >= 1.0f);
    /* Division, not multiplication by 1/tau: bit-identical to the reference (I - u) / tau. */
    for (size_t i = 0; i < n; i++)
        u[i] = u[i] + (I[i] - u[i]) / tau;
}

void btsp_k_rate_update(size_t n, const float *I, float tau, btsp_activation act, double p0, double p1,
                        const float *nudge, float *u, float *a)
{
    assert(tau >= 1.0f);
    /* Integrate u, write the pre-activation u + nudge into a, then apply f in place on a (this
     * handles softmax, which needs the whole vector, the same way as element-wise functions). */
    if (nudge) {
        for (size_t i = 0; i < n; i++) {
            const float ui = u[i] + (I[i] - u[i]) / tau;
            u[i] = ui;
            a[i] = ui + nudge[i];
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const float ui = u[i] + (I[i] - u[i]) / tau;
            u[i] = ui;
            a[i] = ui;
        }
    }
    btsp_k_activation(act, p0, p1, n, a, a);
}

/* ========================================================================================= */
/* Dense products                                                                            */
/*                                                                                           */
/* Every dot product W[i, :] . x is evaluated in one fixed order, whatever kernel computes it: */
/* four lane sums over j = l (mod 4) for j < cols4 = cols rounded down to a multiple of 4,   */
/* combined as (l0 + l1) + (l2 + l3), then the trailing cols - cols4 products added in order; */
/* finally y[i] += dot. Consequences: a row's result does not depend on its position in a    */
/* row block, and btsp_k_matmat_acc() gives bit-identical results to btsp_k_matvec_acc() on   */
/* each batch vector (batched evaluation == one-sample forward).                              */
/*                                                                                           */
/* matvec processes 8 rows at a time: 8 rows x 1 four-lane vector = 8 independent            */
/* accumulators, enough to hide the add latency, and each x[j..j+3] load is reused 8 times.  */
/* No x[j] == 0 shortcut is taken: zeros in x are ordinary operands (the result is the IEEE  */
/* sum, so sparse x needs no special case and non-finite weights behave as in the reference). */
/* ========================================================================================= */

#define BTSP_K_ROWBLOCK 8

/* Trailing columns of one row, in order, onto the combined lanes. */
static inline float dot_tail(float s, size_t cols4, size_t cols, const float *w, const float *x)
{
    for (size_t j = cols4; j < cols; j++)
        s += w[j] * x[j];
    return s;
}

/* One row. */
static inline float dot_row(size_t cols, const float *w, const float *x)
{
    const size_t cols4 = cols & ~(size_t)3;
    v4f a = v4_set1(0.0f);
    for (size_t j = 0; j < cols4; j += 4)
        a = v4_add(a, v4_mul(v4_load(w + j), v4_load(x + j)));
    return dot_tail(v4_hsum(a), cols4, cols, w, x);
}

/* Four rows at once (W points at the first of them); out[r] = dot of row r with x. */
static inline void dot_rows4(size_t cols, const float *W, size_t ldw, const float *x, float out[4])
{
    const size_t cols4 = cols & ~(size_t)3;
    const float *w0 = W, *w1 = W + ldw, *w2 = W + 2 * ldw, *w3 = W + 3 * ldw;
    v4f a0 = v4_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (size_t j = 0; j < cols4; j += 4) {
        const v4f xv = v4_load(x + j);
        a0 = v4_add(a0, v4_mul(v4_load(w0 + j), xv));
        a1 = v4_add(a1, v4_mul(v4_load(w1 + j), xv));
        a2 = v4_add(a2, v4_mul(v4_load(w2 + j), xv));
        a3 = v4_add(a3, v4_mul(v4_load(w3 + j), xv));
    }
    out[0] = dot_tail(v4_hsum(a0), cols4, cols, w0, x);
    out[1] = dot_tail(v4_hsum(a1), cols4, cols, w1, x);
    out[2] = dot_tail(v4_hsum(a2), cols4, cols, w2, x);
    out[3] = dot_tail(v4_hsum(a3), cols4, cols, w3, x);
}

/* Eight rows at once; same per-row order as dot_row(). */
static void dot_rows8_v4(size_t cols, const float *W, size_t ldw, const float *x, float out[8])
{
    const size_t cols4 = cols & ~(size_t)3;
    const float *w0 = W, *w1 = W + ldw, *w2 = W + 2 * ldw, *w3 = W + 3 * ldw;
    const float *w4 = W + 4 * ldw, *w5 = W + 5 * ldw, *w6 = W + 6 * ldw, *w7 = W + 7 * ldw;
    v4f a0 = v4_set1(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (size_t j = 0; j < cols4; j += 4) {
        const v4f xv = v4_load(x + j);
        a0 = v4_add(a0, v4_mul(v4_load(w0 + j), xv));
        a1 = v4_add(a1, v4_mul(v4_load(w1 + j), xv));
        a2 = v4_add(a2, v4_mul(v4_load(w2 + j), xv));
        a3 = v4_add(a3, v4_mul(v4_load(w3 + j), xv));
        a4 = v4_add(a4, v4_mul(v4_load(w4 + j), xv));
        a5 = v4_add(a5, v4_mul(v4_load(w5 + j), xv));
        a6 = v4_add(a6, v4_mul(v4_load(w6 + j), xv));
        a7 = v4_add(a7, v4_mul(v4_load(w7 + j), xv));
    }
    out[0] = dot_tail(v4_hsum(a0), cols4, cols, w0, x);
    out[1] = dot_tail(v4_hsum(a1), cols4, cols, w1, x);
    out[2] = dot_tail(v4_hsum(a2), cols4, cols, w2, x);
    out[3] = dot_tail(v4_hsum(a3), cols4, cols, w3, x);
    out[4] = dot_tail(v4_hsum(a4), cols4, cols, w4, x);
    out[5] = dot_tail(v4_hsum(a5), cols4, cols, w5, x);
    out[6] = dot_tail(v4_hsum(a6), cols4, cols, w6, x);
    out[7] = dot_tail(v4_hsum(a7), cols4, cols, w7, x);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(BTSP_K_NO_VECTOR_EXT) && \
    !defined(BTSP_K_NO_AVX)
/* The same eight dot products with 256-bit AVX registers, for CPUs that have them (checked at
 * run time, so the library stays an SSE2 baseline build). Each register holds the four lanes of
 * two rows (rows 0|1, 2|3, 4|5, 6|7) and x[j..j+3] is broadcast into both halves, so every lane
 * does exactly the multiply and add of dot_rows8_v4() (no FMA: target "avx" only) and the
 * horizontal sums and tails are the same: the results are bit-identical, in half the
 * arithmetic instructions. */
#include <immintrin.h>

__attribute__((target("avx"))) static inline __m256 load_pair(const float *p, const float *q)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)), _mm_loadu_ps(q), 1);
}

__attribute__((target("avx"))) static void dot_rows8_avx(size_t cols, const float *W, size_t ldw, const float *x,
                                                         float out[8])
{
    const size_t cols4 = cols & ~(size_t)3;
    const float *w[8];
    for (int r = 0; r < 8; r++)
        w[r] = W + (size_t)r * ldw;
    __m256 a01 = _mm256_setzero_ps(), a23 = a01, a45 = a01, a67 = a01;
    for (size_t j = 0; j < cols4; j += 4) {
        const __m256 xv = _mm256_broadcast_ps((const __m128 *)(const void *)(x + j));
        a01 = _mm256_add_ps(a01, _mm256_mul_ps(load_pair(w[0] + j, w[1] + j), xv));
        a23 = _mm256_add_ps(a23, _mm256_mul_ps(load_pair(w[2] + j, w[3] + j), xv));
        a45 = _mm256_add_ps(a45, _mm256_mul_ps(load_pair(w[4] + j, w[5] + j), xv));
        a67 = _mm256_add_ps(a67, _mm256_mul_ps(load_pair(w[6] + j, w[7] + j), xv));
    }
    float lanes[32];
    _mm256_storeu_ps(lanes, a01);
    _mm256_storeu_ps(lanes + 8, a23);
    _mm256_storeu_ps(lanes + 16, a45);
    _mm256_storeu_ps(lanes + 24, a67);
    for (int r = 0; r < 8; r++) {
        const float *l = lanes + 4 * r;
        out[r] = dot_tail((l[0] + l[1]) + (l[2] + l[3]), cols4, cols, w[r], x);
    }
}

/* dot_rows8_avx() for two vectors at once (out0 for x0, out1 for x1): every pair of weight rows
 * loaded serves both vectors, which halves the loads per product in btsp_k_matmat_acc(). Each
 * (row, vector) accumulates exactly as in dot_rows8_v4(). */
__attribute__((target("avx"))) static void dot_rows8x2_avx(size_t cols, const float *W, size_t ldw, const float *x0,
                                                           const float *x1, float out0[8], float out1[8])
{
    const size_t cols4 = cols & ~(size_t)3;
    const float *w[8];
    for (int r = 0; r < 8; r++)
        w[r] = W + (size_t)r * ldw;
    __m256 a01 = _mm256_setzero_ps(), a23 = a01, a45 = a01, a67 = a01;
    __m256 b01 = a01, b23 = a01, b45 = a01, b67 = a01;
    for (size_t j = 0; j < cols4; j += 4) {
        const __m256 xa = _mm256_broadcast_ps((const __m128 *)(const void *)(x0 + j));
        const __m256 xb = _mm256_broadcast_ps((const __m128 *)(const void *)(x1 + j));
        __m256 p = load_pair(w[0] + j, w[1] + j);
        a01 = _mm256_add_ps(a01, _mm256_mul_ps(p, xa));
        b01 = _mm256_add_ps(b01, _mm256_mul_ps(p, xb));
        p = load_pair(w[2] + j, w[3] + j);
        a23 = _mm256_add_ps(a23, _mm256_mul_ps(p, xa));
        b23 = _mm256_add_ps(b23, _mm256_mul_ps(p, xb));
        p = load_pair(w[4] + j, w[5] + j);
        a45 = _mm256_add_ps(a45, _mm256_mul_ps(p, xa));
        b45 = _mm256_add_ps(b45, _mm256_mul_ps(p, xb));
        p = load_pair(w[6] + j, w[7] + j);
        a67 = _mm256_add_ps(a67, _mm256_mul_ps(p, xa));
        b67 = _mm256_add_ps(b67, _mm256_mul_ps(p, xb));
    }
    float lanes[64];
    _mm256_storeu_ps(lanes, a01);
    _mm256_storeu_ps(lanes + 8, a23);
    _mm256_storeu_ps(lanes + 16, a45);
    _mm256_storeu_ps(lanes + 24, a67);
    _mm256_storeu_ps(lanes + 32, b01);
    _mm256_storeu_ps(lanes + 40, b23);
    _mm256_storeu_ps(lanes + 48, b45);
    _mm256_storeu_ps(lanes + 56, b67);
    for (int r = 0; r < 8; r++) {
        const float *l = lanes + 4 * r, *m = lanes + 32 + 4 * r;
        out0[r] = dot_tail((l[0] + l[1]) + (l[2] + l[3]), cols4, cols, w[r], x0);
        out1[r] = dot_tail((m[0] + m[1]) + (m[2] + m[3]), cols4, cols, w[r], x1);
    }
}

static int have_avx(void)
{
#if defined(__AVX__)
    return 1;
#else
    return __builtin_cpu_supports("avx");
#endif
}
#define BTSP_K_HAVE_AVX_PATH 1
#endif

static void dot_rows8(size_t cols, const float *W, size_t ldw, const float *x, float out[8])
{
#ifdef BTSP_K_HAVE_AVX_PATH
    if (have_avx()) {
        dot_rows8_avx(cols, W, ldw, x, out);
        return;
    }
#endif
    dot_rows8_v4(cols, W, ldw, x, out);
}

/* y[i] += W[i, :] . x for i in [r0, rows): the tail of at most 7 rows after the 8-row blocks. */
static void matvec_tail(size_t r0, size_t rows, size_t cols, const float *W, size_t ldw, const float *x, float *y)
{
    size_t i = r0;
    if (rows - i >= 4) {
        float t[4];
        dot_rows4(cols, W + i * ldw, ldw, x, t);
        for (size_t r = 0; r < 4; r++)
            y[i + r] += t[r];
        i += 4;
    }
    for (; i < rows; i++)
        y[i] += dot_row(cols, W + i * ldw, x);
}

void btsp_k_matvec_acc(size_t rows, size_t cols, const float *W, size_t ldw, const float *x, float *y)
{
    assert(ldw >= cols);
    size_t i = 0;
    for (; i + BTSP_K_ROWBLOCK <= rows; i += BTSP_K_ROWBLOCK) {
        float t[BTSP_K_ROWBLOCK];
        dot_rows8(cols, W + i * ldw, ldw, x, t);
        for (size_t r = 0; r < BTSP_K_ROWBLOCK; r++)
            y[i + r] += t[r];
    }
    matvec_tail(i, rows, cols, W, ldw, x, y);
}

void btsp_k_matmat_acc(size_t rows, size_t cols, size_t nb, const float *W, size_t ldw, const float *X, size_t ldx,
                       float *Y, size_t ldy)
{
    assert(ldw >= cols);
    assert(nb <= 1 || ldx >= cols);
    assert(nb <= 1 || ldy >= rows);
    /* Cache blocking: one 8-row panel of W (8 * cols floats, 25 KB for cols = 784) is loaded once
     * and reused from L1 for all nb batch vectors, which stream through it; W as a whole is read
     * once per call instead of nb times. Per (row, vector) the arithmetic is that of
     * btsp_k_matvec_acc(). */
    size_t i = 0;
    for (; i + BTSP_K_ROWBLOCK <= rows; i += BTSP_K_ROWBLOCK) {
        const float *panel = W + i * ldw;
        size_t b = 0;
#ifdef BTSP_K_HAVE_AVX_PATH
        if (have_avx())
            for (; b + 2 <= nb; b += 2) {
                float t0[BTSP_K_ROWBLOCK], t1[BTSP_K_ROWBLOCK];
                float *y0 = Y + b * ldy + i, *y1 = y0 + ldy;
                dot_rows8x2_avx(cols, panel, ldw, X + b * ldx, X + (b + 1) * ldx, t0, t1);
                for (size_t r = 0; r < BTSP_K_ROWBLOCK; r++) {
                    y0[r] += t0[r];
                    y1[r] += t1[r];
                }
            }
#endif
        for (; b < nb; b++) {
            float t[BTSP_K_ROWBLOCK];
            float *yb = Y + b * ldy + i;
            dot_rows8(cols, panel, ldw, X + b * ldx, t);
            for (size_t r = 0; r < BTSP_K_ROWBLOCK; r++)
                yb[r] += t[r];
        }
    }
    if (i < rows)
        for (size_t b = 0; b < nb; b++)
            matvec_tail(i, rows, cols, W, ldw, X + b * ldx, Y + b * ldy);
}

/* y[j] += ((x0 w0[j] + x1 w1[j]) + x2 w2[j]) + x3 w3[j]: four rows of the transposed product in
 * one pass over y (y is loaded and stored once per four rows). */
static void axpy_rows4(size_t cols, const float *w0, const float *w1, const float *w2, const float *w3, float x0,
                       float x1, float x2, float x3, float *y)
{
    const size_t cols4 = cols & ~(size_t)3;
    const v4f c0 = v4_set1(x0), c1 = v4_set1(x1), c2 = v4_set1(x2), c3 = v4_set1(x3);
    for (size_t j = 0; j < cols4; j += 4) {
        v4f t = v4_add(v4_mul(c0, v4_load(w0 + j)), v4_mul(c1, v4_load(w1 + j)));
        t = v4_add(t, v4_mul(c2, v4_load(w2 + j)));
        t = v4_add(t, v4_mul(c3, v4_load(w3 + j)));
        v4_store(y + j, v4_add(v4_load(y + j), t));
    }
    for (size_t j = cols4; j < cols; j++)
        y[j] += ((x0 * w0[j] + x1 * w1[j]) + x2 * w2[j]) + x3 * w3[j];
}

/* y[j] += a * w[j] (one row; also the row kernel of btsp_k_outer_acc()). */
static void axpy_row(size_t cols, const float *w, float a, float *y)
{
    const size_t cols4 = cols & ~(size_t)3;
    const v4f av = v4_set1(a);
    for (size_t j = 0; j < cols4; j += 4)
        v4_store(y + j, v4_add(v4_load(y + j), v4_mul(av, v4_load(w + j))));
    for (size_t j = cols4; j < cols; j++)
        y[j] += a * w[j];
}

void btsp_k_matvec_t_acc(size_t rows, size_t cols, const float *W, size_t ldw, const float *x, float *y)
{
    assert(ldw >= cols);
    /* Row-wise axpy, four rows per pass over y (y stays in L1). Rows with x[i] == 0 are not
     * skipped: IEEE semantics as in matvec. */
    size_t i = 0;
    for (; i + 4 <= rows; i += 4) {
        const float *w0 = W + i * ldw;
        axpy_rows4(cols, w0, w0 + ldw, w0 + 2 * ldw, w0 + 3 * ldw, x[i], x[i + 1], x[i + 2], x[i + 3], y);
    }
    for (; i < rows; i++)
        axpy_row(cols, W + i * ldw, x[i], y);
}

/* ========================================================================================= */
/* Element-wise helpers, traces, bounds, normalisation                                       */
/* ========================================================================================= */

void btsp_k_clip(size_t n, float *x, float lo, float hi)
{
    assert(!(lo > hi));
    /* Vectorized: clip_matrix runs over whole weight matrices after every update. */
    const size_t n4 = n & ~(size_t)3;
    const v4f lov = v4_set1(lo), hiv = v4_set1(hi);
    for (size_t i = 0; i < n4; i += 4)
        v4_store(x + i, v4_clip(v4_load(x + i), lov, hiv));
    for (size_t i = n4; i < n; i++)
        x[i] = clipf(x[i], lo, hi);
}

void btsp_k_clip_matrix(size_t rows, size_t cols, float *W, size_t ldw, float lo, float hi)
{
    assert(ldw >= cols);
    for (size_t i = 0; i < rows; i++)
        btsp_k_clip(cols, W + i * ldw, lo, hi);
}

double btsp_k_decay_factor(double dt, double tau)
{
    assert(tau > 0.0 && dt >= 0.0);
    return exp(-dt / tau);
}

void btsp_k_trace_decay(size_t n, float factor, float *trace)
{
    for (size_t i = 0; i < n; i++)
        trace[i] *= factor;
}

void btsp_k_trace_add(size_t n, float *trace, const float *x, float gain)
{
    for (size_t i = 0; i < n; i++)
        trace[i] += gain * x[i];
}

void btsp_k_zero_diag(size_t n, float *W, size_t ldw)
{
    assert(ldw >= n);
    for (size_t i = 0; i < n; i++)
        W[i * ldw + i] = 0.0f;
}

/* Multiplying by 0.0f (rather than storing 0) keeps EIANN's bits: -0.0 for negative weights. The
 * patch is side columns wide in each of its side image rows per channel, so a row's cost is one
 * pass over its cols weights. */
void btsp_k_rf_mask(size_t rows, float *W, size_t ldw, const uint32_t *corner, size_t side, size_t channels,
                    size_t height, size_t width)
{
    assert(ldw >= channels * height * width);
    for (size_t i = 0; i < rows; i++) {
        const size_t r0 = corner[2 * i], c0 = corner[2 * i + 1];
        assert(side >= 1 && r0 + side <= height && c0 + side <= width);
        float *w = W + i * ldw;
        for (size_t ch = 0; ch < channels; ch++)
            for (size_t y = 0; y < height; y++) {
                float *line = w + (ch * height + y) * width;
                if (y < r0 || y >= r0 + side) {
                    for (size_t x = 0; x < width; x++)
                        line[x] *= 0.0f;
                    continue;
                }
                for (size_t x = 0; x < c0; x++)
                    line[x] *= 0.0f;
                for (size_t x = c0 + side; x < width; x++)
                    line[x] *= 0.0f;
            }
    }
}

/* ceil(log2(n)) for n >= 1. */
static size_t ceil_log2(size_t n)
{
    size_t k = 0;
    while (((size_t)1 << k) < n)
        k++;
    return k;
}

/* sum_j |x[j]| in float32, evaluated in exactly the order of PyTorch's CPU sum over a contiguous
 * row (torch.sum(torch.abs(W), axis=1) in EIANN's normalize_weight; torch 1.13 cascade_sum, 8-float
 * vectors as in its AVX2 and default builds):
 *  - n >= 8: loads of 8 lanes; groups of 4 loads go to 4 vector accumulators, summed in a cascade of
 *    up to 4 levels of max(4, ceil_log2(groups) / 4) bits; leftover whole loads are added to
 *    accumulator 0, accumulators 1..3 are then added to it; the scalar tail (n mod 8 values, from 0)
 *    is summed first and the 8 lanes are added to it in lane order;
 *  - n < 8: the same with 1-float loads and no tail.
 * Why not a plain or double sum: the order decides the last bit of the sum, and for a row whose
 * only asymmetry is where its zero (the removed autapse) sits, that bit is the only thing that
 * makes the rows of a collapsed population differ. EIANN relies on it (docs/model.md). */
static float sum_abs_reference_order(const float *x, size_t n)
{
    enum { V = 8, ILP = 4, LEVELS = 4 };
    const size_t width = n >= V ? V : 1;
    const size_t nload = n / width, ngroup = nload / ILP;
    float acc[LEVELS][ILP * V];
    memset(acc, 0, sizeof acc);
    size_t power = ceil_log2(ngroup ? ngroup : 1) / LEVELS;
    if (power < 4)
        power = 4;
    const size_t step = (size_t)1 << power, mask = step - 1;
    size_t g = 0;
    while (g + step <= ngroup) {
        for (size_t t = 0; t < step; t++, g++)
            for (size_t i = 0; i < ILP * width; i++)
                acc[0][i] += fabsf(x[g * ILP * width + i]);
        for (size_t lv = 1; lv < LEVELS; lv++) {
            for (size_t i = 0; i < ILP * width; i++) {
                acc[lv][i] += acc[lv - 1][i];
                acc[lv - 1][i] = 0.0f;
            }
            if (g & (mask << (lv * power)))
                break;
        }
    }
    for (; g < ngroup; g++)
        for (size_t i = 0; i < ILP * width; i++)
            acc[0][i] += fabsf(x[g * ILP * width + i]);
    for (size_t lv = 1; lv < LEVELS; lv++)
        for (size_t i = 0; i < ILP * width; i++)
            acc[0][i] += acc[lv][i];
    for (size_t t = ngroup * ILP; t < nload; t++) /* whole loads left after the groups */
        for (size_t l = 0; l < width; l++)
            acc[0][l] += fabsf(x[t * width + l]);
    for (size_t k = 1; k < ILP; k++)
        for (size_t l = 0; l < width; l++)
            acc[0][l] += acc[0][k * width + l];
    if (width == 1)
        return acc[0][0];
    float s = 0.0f;
    for (size_t j = nload * width; j < n; j++)
        s += fabsf(x[j]);
    for (size_t l = 0; l < width; l++)
        s += acc[0][l];
    return s;
}

void btsp_k_row_l1_normalize(size_t rows, size_t cols, float *W, size_t ldw, float scale, int zero_diag)
{
    assert(ldw >= cols);
    assert(!zero_diag || rows == cols);
    if (zero_diag)
        btsp_k_zero_diag(rows < cols ? rows : cols, W, ldw);
    for (size_t i = 0; i < rows; i++) {
        float *w = W + i * ldw;
        const float s = sum_abs_reference_order(w, cols);
        if (s == 0.0f)
            continue; /* an all-zero row stays zero (no 0/0) */
        /* Two float roundings, divide then scale, as the reference does. */
        for (size_t j = 0; j < cols; j++)
            w[j] = (w[j] / s) * scale;
    }
}

/* ========================================================================================= */
/* BTSP                                                                                      */
/* ========================================================================================= */

void btsp_k_q_default(btsp_k_q_params *p)
{
    p->th = 0.01;
    p->peak = 0.02;
    p->x0 = 0.0;
    p->x1 = 1.0;
    p->y0 = 0.0;
    p->y1 = 1.0;
}

/* The x-independent parts of q, computed once per BTSP update rather than once per synapse. */
typedef struct q_consts {
    double k;           /* slope 2 / (peak - th) */
    double th;          /* half-rise point */
    double x0, x1;      /* input range */
    double y0, dy;      /* y0 and y1 - y0 */
    double y1;          /* exact output at and above x1 */
    double s0, inv_den; /* s(k (x0 - th)) and 1 / [s(k (x1 - th)) - s0] */
} q_consts;

static q_consts q_prepare(const btsp_k_q_params *p)
{
    q_consts c;
    c.k = 2.0 / (p->peak - p->th);
    c.th = p->th;
    c.x0 = p->x0;
    c.x1 = p->x1;
    c.y0 = p->y0;
    c.y1 = p->y1;
    c.dy = p->y1 - p->y0;
    c.s0 = logistic(c.k * (p->x0 - p->th));
    c.inv_den = 1.0 / (logistic(c.k * (p->x1 - p->th)) - c.s0);
    return c;
}

static inline double q_eval(const q_consts *c, double x)
{
    /* The ends are returned exactly (y0 + dy * 1 need not round to y1); NaN falls through. */
    if (x <= c->x0)
        return c->y0;
    if (x >= c->x1)
        return c->y1;
    return c->y0 + c->dy * ((logistic(c->k * (x - c->th)) - c->s0) * c->inv_den);
}

double btsp_k_q(const btsp_k_q_params *p, double x)
{
    const q_consts c = q_prepare(p);
    return q_eval(&c, x);
}

/* K(A, s) in float, in the order of the reference expression A * ((w_max - w) * s - rho * w * q). */
static inline float btsp_kernel(float A, float w, float s, float qs, float w_max, float rho)
{
    return A * ((w_max - w) * s - (rho * w) * qs);
}

float btsp_k_btsp_term(float A, float w, float s, float qs, float w_max, float rho)
{
    return btsp_kernel(A, w, s, qs, w_max, rho);
}

/* Per-presynaptic precomputation, laid out in `work` as six arrays of n_pre floats. */
enum { BTSP_W_E, BTSP_W_QE, BTSP_W_S2, BTSP_W_QS2, BTSP_W_S3, BTSP_W_QS3, BTSP_W_COUNT };

/* Row constants of one post unit, broadcast to four lanes. */
typedef struct btsp_row {
    v4f pp, pm, ph; /* P+, P-, past P+ */
    v4f eta, w_max, rho, lo, hi;
} btsp_row;

/* Four synapses of one row. Per lane exactly the scalar expression
 *   dW = eta * (((K(P+, e) + K(P+, s2)) + K(P^+, s3)) + P- e),  w = clip(w + dW, lo, hi),
 * with K(A, s) = A * ((w_max - w) * s - (rho * w) * q(s)) as in btsp_kernel(). */
static inline v4f btsp_synapses4(const btsp_row *r, v4f w, v4f e, v4f qe, v4f s2, v4f qs2, v4f s3, v4f qs3)
{
    const v4f wmw = v4_sub(r->w_max, w); /* w_max - w */
    const v4f rw = v4_mul(r->rho, w);    /* rho * w */
    const v4f k1 = v4_mul(r->pp, v4_sub(v4_mul(wmw, e), v4_mul(rw, qe)));
    const v4f k2 = v4_mul(r->pp, v4_sub(v4_mul(wmw, s2), v4_mul(rw, qs2)));
    const v4f k3 = v4_mul(r->ph, v4_sub(v4_mul(wmw, s3), v4_mul(rw, qs3)));
    const v4f dw = v4_mul(r->eta, v4_add(v4_add(v4_add(k1, k2), k3), v4_mul(r->pm, e)));
    return v4_clip(v4_add(w, dw), r->lo, r->hi);
}

/* The scalar form of btsp_synapses4() for the trailing n_pre % 4 synapses. */
static inline float btsp_synapse(float pp, float pm, float ph, const btsp_k_btsp_params *p, float w, float e,
                                 float qe, float s2, float qs2, float s3, float qs3)
{
    const float k1 = btsp_kernel(pp, w, e, qe, p->w_max, p->dep_ratio);
    const float k2 = btsp_kernel(pp, w, s2, qs2, p->w_max, p->dep_ratio);
    const float k3 = btsp_kernel(ph, w, s3, qs3, p->w_max, p->dep_ratio);
    const float dw = p->learning_rate * (((k1 + k2) + k3) + pm * e);
    return clipf(w + dw, p->lo, p->hi);
}

/* One post row with at least one event. `work` holds the six per-presynaptic arrays. */
static void btsp_update_row(size_t n, float *w, const float *work, float pp, float pm, float ph,
                            const btsp_k_btsp_params *p)
{
    const float *e = work + (size_t)BTSP_W_E * n, *qe = work + (size_t)BTSP_W_QE * n;
    const float *s2 = work + (size_t)BTSP_W_S2 * n, *qs2 = work + (size_t)BTSP_W_QS2 * n;
    const float *s3 = work + (size_t)BTSP_W_S3 * n, *qs3 = work + (size_t)BTSP_W_QS3 * n;
    const size_t n4 = n & ~(size_t)3;
    if (pp == 0.0f && ph == 0.0f) {
        /* Negative event only: every K term has a zero factor A, so dW = eta * (P- e), the linear
         * weight-independent depression (identical to the full expression up to the sign of
         * zero terms, without the q work). */
        const v4f pmv = v4_set1(pm), eta = v4_set1(p->learning_rate), lo = v4_set1(p->lo), hi = v4_set1(p->hi);
        for (size_t j = 0; j < n4; j += 4) {
            const v4f wv = v4_load(w + j);
            v4_store(w + j, v4_clip(v4_add(wv, v4_mul(eta, v4_mul(pmv, v4_load(e + j)))), lo, hi));
        }
        for (size_t j = n4; j < n; j++)
            w[j] = clipf(w[j] + p->learning_rate * (pm * e[j]), p->lo, p->hi);
        return;
    }
    btsp_row r;
    r.pp = v4_set1(pp);
    r.pm = v4_set1(pm);
    r.ph = v4_set1(ph);
    r.eta = v4_set1(p->learning_rate);
    r.w_max = v4_set1(p->w_max);
    r.rho = v4_set1(p->dep_ratio);
    r.lo = v4_set1(p->lo);
    r.hi = v4_set1(p->hi);
    for (size_t j = 0; j < n4; j += 4) {
        const v4f wv = btsp_synapses4(&r, v4_load(w + j), v4_load(e + j), v4_load(qe + j), v4_load(s2 + j),
                                      v4_load(qs2 + j), v4_load(s3 + j), v4_load(qs3 + j));
        v4_store(w + j, wv);
    }
    for (size_t j = n4; j < n; j++)
        w[j] = btsp_synapse(pp, pm, ph, p, w[j], e[j], qe[j], s2[j], qs2[j], s3[j], qs3[j]);
}

void btsp_k_btsp_update(size_t n_post, size_t n_pre, float *W, size_t ldw, const float *plateau,
                        const float *past_plateau, const float *pre, const float *past_pre,
                        const btsp_k_btsp_params *p, float *work)
{
    assert(ldw >= n_pre);
    float *e = work + (size_t)BTSP_W_E * n_pre;
    float *qe = work + (size_t)BTSP_W_QE * n_pre;
    float *s2 = work + (size_t)BTSP_W_S2 * n_pre;
    float *qs2 = work + (size_t)BTSP_W_QS2 * n_pre;
    float *s3 = work + (size_t)BTSP_W_S3 * n_pre;
    float *qs3 = work + (size_t)BTSP_W_QS3 * n_pre;

    /* Signals (float, as in the reference) and their q (double, rounded to float):
     * e = clip(pre, 0, 1) for the current sample, s2 = delta * clip(past_pre, 0, 1) for the
     * plateau now acting on the previous sample's activity, s3 = delta * e for the previous
     * sample's plateau acting on the current activity. */
    const q_consts qc = q_prepare(&p->q);
    const float delta = p->discount;
    for (size_t j = 0; j < n_pre; j++) {
        const float ej = clipf(pre[j], 0.0f, 1.0f);
        const float s2j = delta * clipf(past_pre[j], 0.0f, 1.0f);
        const float s3j = delta * ej;
        e[j] = ej;
        s2[j] = s2j;
        s3[j] = s3j;
        qe[j] = (float)q_eval(&qc, (double)ej);
        qs2[j] = (float)q_eval(&qc, (double)s2j);
        qs3[j] = (float)q_eval(&qc, (double)s3j);
    }

    for (size_t i = 0; i < n_post; i++) {
        const float P = plateau[i], Ph = past_plateau[i];
        /* Without any event the update is exactly zero (the reference adds +-0 and re-clips; the
         * weights are already within bounds after the previous constraint step). */
        if (!btsp__k_btsp_row_active(P, Ph))
            continue;
        const float pp = P > 0.0f ? P : 0.0f, pm = P < 0.0f ? P : 0.0f, ph = Ph > 0.0f ? Ph : 0.0f;
        btsp_update_row(n_pre, W + i * ldw, work, pp, pm, ph, p);
    }
}

int btsp__k_btsp_row_active(float plateau, float past_plateau)
{
    return plateau > 0.0f || plateau < 0.0f || past_plateau > 0.0f; /* NaN: no event */
}

double btsp_k_btsp_fixed_point(const btsp_k_q_params *q, double w_max, double rho, double s)
{
    if (!(s > 0.0))
        return 0.0;
    return w_max * s / (s + rho * btsp_k_q(q, s));
}

void btsp_k_outer_acc(size_t rows, size_t cols, float *W, size_t ldw, float scale, const float *post,
                      const float *pre)
{
    assert(ldw >= cols);
    for (size_t i = 0; i < rows; i++) {
        if (post[i] == 0.0f)
            continue; /* the row's update is exactly zero */
        axpy_row(cols, pre, scale * post[i], W + i * ldw);
    }
}

/* ========================================================================================= */
/* Counter-based random numbers                                                              */
/*                                                                                           */
/* mix64 is the SplitMix64 output function (Steele, Lea & Flood 2014; the variant of         */
/* Stafford's "Mix13" used by java.util.SplittableRandom): a bijection on 64-bit words with  */
/* full avalanche. The generator is                                                          */
/*   key(seed, stream) = mix64(seed ^ mix64(stream + C_STREAM))                              */
/*   u64(seed, stream, counter) = mix64(key + (counter + 1) * GAMMA)                         */
/* i.e. output number `counter` of a SplitMix64 sequence whose state starts at the key:     */
/* consecutive counters are the well-tested SplitMix64 sequence (passes BigCrush), and every */
/* (seed, stream) pair gets an unrelated, hashed starting point. The inner mix64 makes the   */
/* stream enter non-linearly, so streams s and s + 1 of one seed are not a shifted sequence.  */
/* Pure 64-bit unsigned arithmetic (wraps modulo 2^64): identical on every platform.        */
/* ========================================================================================= */

#define BTSP_K_GAMMA UINT64_C(0x9E3779B97F4A7C15)    /* 2^64 / golden ratio, odd */
#define BTSP_K_C_STREAM UINT64_C(0xD1B54A32D192ED03) /* odd constant: stream 0 is not mix64(0) = 0 */

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

uint64_t btsp_k_rand_u64(uint64_t seed, uint64_t stream, uint64_t counter)
{
    const uint64_t key = mix64(seed ^ mix64(stream + BTSP_K_C_STREAM));
    return mix64(key + (counter + 1u) * BTSP_K_GAMMA);
}

double btsp_k_rand_uniform(uint64_t seed, uint64_t stream, uint64_t counter)
{
    /* The top 53 bits scaled by 2^-53: every double k / 2^53 in [0, 1), exactly, 1 excluded. */
    return (double)(btsp_k_rand_u64(seed, stream, counter) >> 11) * 0x1.0p-53;
}

void btsp_k_permutation(uint64_t seed, uint64_t stream, uint32_t *perm, size_t n)
{
    assert((uint64_t)n <= (uint64_t)UINT32_MAX + 1u);
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    /* Fisher-Yates, from the back: position i swaps with a uniform j in [0, i]. The bounded draw
     * rejects raw values below 2^64 mod m (computed as (-m) mod m), leaving a range of size a
     * multiple of m, so r mod m is exactly uniform. Every raw draw, rejected or not, consumes one
     * counter value, starting from 0. */
    uint64_t counter = 0;
    for (size_t i = n; i > 1; i--) {
        const uint64_t m = (uint64_t)i;
        const uint64_t threshold = (0u - m) % m;
        uint64_t r;
        do {
            r = btsp_k_rand_u64(seed, stream, counter++);
        } while (r < threshold);
        const size_t j = (size_t)(r % m);
        const uint32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* ========================================================================================= */
/* PyTorch-compatible random numbers: MT19937 (Matsumoto & Nishimura 1998, the generator of  */
/* PyTorch's CPU backend) and the float32 uniform and randperm transformations of torch 1.13. */
/* ========================================================================================= */

void btsp_k_mt19937_seed(btsp_k_mt19937 *g, uint64_t seed)
{
    g->state[0] = (uint32_t)seed; /* torch's mt19937(seed) keeps the low 32 bits */
    for (uint32_t j = 1; j < 624; j++)
        g->state[j] = UINT32_C(1812433253) * (g->state[j - 1] ^ (g->state[j - 1] >> 30)) + j;
    g->index = 624;
}

uint32_t btsp_k_mt19937_next(btsp_k_mt19937 *g)
{
    if (g->index >= 624) { /* regenerate all 624 words */
        for (size_t k = 0; k < 624; k++) {
            const uint32_t y = (g->state[k] & UINT32_C(0x80000000)) | (g->state[(k + 1) % 624] & UINT32_C(0x7fffffff));
            g->state[k] = g->state[(k + 397) % 624] ^ (y >> 1) ^ ((y & 1u) ? UINT32_C(0x9908b0df) : 0u);
        }
        g->index = 0;
    }
    uint32_t y = g->state[g->index++];
    y ^= y >> 11;
    y ^= (y << 7) & UINT32_C(0x9d2c5680);
    y ^= (y << 15) & UINT32_C(0xefc60000);
    y ^= y >> 18;
    return y;
}

float btsp_k_torch_uniform(btsp_k_mt19937 *g, float from, float to)
{
    /* 24 random bits: every float k / 2^24 in [0, 1) exactly */
    const float x = (float)(btsp_k_mt19937_next(g) & UINT32_C(0xFFFFFF)) * 0x1.0p-24f;
    return fmaf(x, to - from, from);
}

void btsp_k_torch_randperm(btsp_k_mt19937 *g, uint32_t *perm, size_t n)
{
    assert((uint64_t)n <= (uint64_t)UINT32_MAX + 1u);
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = 0; i + 1 < n; i++) {
        const size_t z = (size_t)((uint64_t)btsp_k_mt19937_next(g) % (uint64_t)(n - i));
        const uint32_t t = perm[i];
        perm[i] = perm[z + i];
        perm[z + i] = t;
    }
}

void btsp_k_torch_shuffle_epoch(btsp_k_mt19937 *g, uint32_t *perm, size_t n)
{
    /* _BaseDataLoaderIter: base_seed = torch.empty((), dtype=torch.int64).random_(generator),
     * one random64() = two outputs, before the sampler's first randperm */
    (void)btsp_k_mt19937_next(g);
    (void)btsp_k_mt19937_next(g);
    btsp_k_torch_randperm(g, perm, n);
}

/* ------------------------------------------------------------------------------------------ */
/* Weight-dependent bidirectional BTSP (Milstein et al. 2021) */

void btsp_k_wd_default(btsp_k_wd_params *p)
{
    p->k_pot = 1.11;
    p->k_dep = 0.425;
    btsp_k_q_default(&p->q_pot);
    btsp_k_q_default(&p->q_dep);
    p->q_pot.th = 0.415;
    p->q_pot.peak = 0.415 + 0.454;
    p->q_dep.th = 0.0262;
    p->q_dep.peak = 0.0262 + 0.0998;
    p->tau_et = 1.664;
    p->tau_is = 0.437;
    p->w_max = 1.0 + 3.68;
}

void btsp_k_wd_rate_acc(const btsp_k_wd_params *p, size_t n, const float *w, const float *et, float is, double dt,
                        float *dw)
{
    /* the sigmoids' constants once per call, not per synapse (as btsp_k_btsp_update) */
    const q_consts qp = q_prepare(&p->q_pot), qd = q_prepare(&p->q_dep);
    for (size_t j = 0; j < n; j++) {
        double s = (double)et[j] * is;
        double rate = p->k_pot * q_eval(&qp, s) * (1.0 - w[j]) - p->k_dep * q_eval(&qd, s) * w[j];
        dw[j] += (float)(dt * rate);
    }
}

double btsp_k_wd_fixed_point(const btsp_k_wd_params *p, double s)
{
    double a = p->k_pot * btsp_k_q(&p->q_pot, s), b = p->k_dep * btsp_k_q(&p->q_dep, s);
    return a + b > 0.0 ? a / (a + b) : NAN;
}

/* ------------------------------------------------------------------------------------------ */
/* Binary synapses (Wu & Maass 2025), bit-packed */

size_t btsp_k_bit_words(size_t n)
{
    return n / 64 + (n % 64 != 0);
}

/* The classic SWAR count: portable, inline, and faster than the library routine gcc calls for
 * __builtin_popcountll without a POPCNT target (bench/README.md, "Binary synapses"). */
static unsigned popcount64(uint64_t v)
{
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (unsigned)((v * 0x0101010101010101ull) >> 56);
}

/* Ones in a[k] & b[k] & c[k] over `words` words (b, or c, NULL: left out; c only with b), with
 * the per-word count COUNT. The NULL tests stay outside the loops. Counts are integers, so the
 * POPCNT path below gives exactly the same results as the portable one. */
#define BTSP__COUNT_AND(COUNT)                                                                      \
    uint64_t n = 0;                                                                                  \
    if (b && c)                                                                                      \
        for (size_t k = 0; k < words; k++)                                                           \
            n += (uint64_t)COUNT(a[k] & b[k] & c[k]);                                                \
    else if (b)                                                                                      \
        for (size_t k = 0; k < words; k++)                                                           \
            n += (uint64_t)COUNT(a[k] & b[k]);                                                       \
    else                                                                                             \
        for (size_t k = 0; k < words; k++)                                                           \
            n += (uint64_t)COUNT(a[k]);                                                              \
    return n

static uint64_t count_and(size_t words, const uint64_t *a, const uint64_t *b, const uint64_t *c)
{
    BTSP__COUNT_AND(popcount64);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(BTSP_K_NO_AVX)
/* With the POPCNT instruction (checked at run time). BTSP_AVX=OFF (BTSP_K_NO_AVX) leaves it out
 * too, so that the clang CI build tests the portable count. */
__attribute__((target("popcnt"))) static uint64_t count_and_popcnt(size_t words, const uint64_t *a,
                                                                   const uint64_t *b, const uint64_t *c)
{
    BTSP__COUNT_AND(__builtin_popcountll);
}

static uint64_t count_bits(size_t words, const uint64_t *a, const uint64_t *b, const uint64_t *c)
{
#if defined(__POPCNT__)
    return count_and_popcnt(words, a, b, c);
#else
    /* a read of the CPU model libgcc filled in at start-up, as have_avx() does */
    return __builtin_cpu_supports("popcnt") ? count_and_popcnt(words, a, b, c) : count_and(words, a, b, c);
#endif
}
#else
static uint64_t count_bits(size_t words, const uint64_t *a, const uint64_t *b, const uint64_t *c)
{
    return count_and(words, a, b, c);
}
#endif

uint64_t btsp_k_popcount(size_t n_words, const uint64_t *words)
{
    return count_bits(n_words, words, NULL, NULL);
}

void btsp_k_bernoulli_bits(uint64_t seed, uint64_t stream, uint64_t counter, size_t n, double p, uint64_t *bits)
{
    size_t words = btsp_k_bit_words(n);
    for (size_t k = 0; k < words; k++)
        bits[k] = 0;
    if (!(p > 0.0))
        return;
    for (size_t i = 0; i < n; i++)
        if (p >= 1.0 || btsp_k_rand_uniform(seed, stream, counter + i) < p)
            bits[i / 64] |= (uint64_t)1 << (i % 64);
}

void btsp_k_binary_store(btsp_k_binary_rule rule, size_t n_post, size_t words, uint64_t *W, const uint64_t *mask,
                         const uint64_t *x, const uint64_t *plateau)
{
    if (rule != BTSP_K_BINARY_FLIP && rule != BTSP_K_BINARY_SET)
        return;
    for (size_t i = 0; i < n_post; i++) {
        if (!(plateau[i / 64] >> (i % 64) & 1u))
            continue; /* only plateau rows change: O(plateau rows x words) per item */
        uint64_t *w = W + i * words;
        const uint64_t *m = mask ? mask + i * words : NULL;
        if (rule == BTSP_K_BINARY_FLIP && m)
            for (size_t k = 0; k < words; k++)
                w[k] ^= x[k] & m[k];
        else if (rule == BTSP_K_BINARY_FLIP)
            for (size_t k = 0; k < words; k++)
                w[k] ^= x[k];
        else if (m)
            for (size_t k = 0; k < words; k++)
                w[k] |= x[k] & m[k];
        else
            for (size_t k = 0; k < words; k++)
                w[k] |= x[k];
    }
}

void btsp_k_binary_input(size_t n_post, size_t words, const uint64_t *W, const uint64_t *mask, const uint64_t *x,
                         uint32_t *h)
{
    for (size_t i = 0; i < n_post; i++) {
        h[i] = (uint32_t)count_bits(words, W + i * words, x, mask ? mask + i * words : NULL);
    }
}
