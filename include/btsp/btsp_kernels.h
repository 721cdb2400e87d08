/**
 * @file btsp_kernels.h
 * @brief Handle-free numeric kernels of libbtsp: pure functions on plain arrays.
 *
 * These are the building blocks the network uses internally, exposed so that host
 * simulators can call them in their own loops. They never allocate, print or fail; they
 * validate nothing: every precondition listed must hold (debug builds assert some of them).
 * Arrays are row-major; a weight matrix W has shape rows x cols with row stride `ldw`
 * (>= cols) and element (i, j) at W[i * ldw + j]. Pointers to different arrays must not overlap
 * unless stated.
 *
 * Stability: part of the public API since 0.1; signatures may still gain parameters before 1.0.
 */
#ifndef BTSP_BTSP_KERNELS_H
#define BTSP_BTSP_KERNELS_H

#include "btsp/btsp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------------------------------- */
/** @name Rate dynamics
 *  @{ */

/** @brief a[i] = f(u[i]) for i < n, with the activation `act` and its parameters p0, p1
 *  (see ::btsp_activation). u and a may be the same array. ::BTSP_ACT_SOFTMAX normalises over
 *  all n entries (max-subtracted for stability). @since 0.1 */
BTSP_API void btsp_k_activation(btsp_activation act, double p0, double p1, size_t n, const float *u, float *a);

/** @brief Leaky integration of one step: u[i] += (I[i] - u[i]) / tau (tau >= 1, in steps).
 *  The division (not a multiplication by 1/tau) matches the reference implementation to the
 *  last bit. @since 0.1 */
BTSP_API void btsp_k_leaky(size_t n, const float *I, float tau, float *u);

/** @brief One full rate update: u += (I - u)/tau, then a = f(u + nudge) (nudge may be NULL for
 *  none; the nudge enters the nonlinearity only and is never integrated into u). @since 0.1 */
BTSP_API void btsp_k_rate_update(size_t n, const float *I, float tau, btsp_activation act, double p0, double p1,
                                 const float *nudge, float *u, float *a);

/** @brief y[i] += sum_j W[i, j] * x[j] for i < rows, j < cols. @since 0.1 */
BTSP_API void btsp_k_matvec_acc(size_t rows, size_t cols, const float *W, size_t ldw, const float *x, float *y);

/** @brief Y[b, i] += sum_j W[i, j] * X[b, j] for a block of nb row vectors: X is nb x cols
 *  (row stride ldx), Y is nb x rows (row stride ldy); i.e. Y += X W^T. @since 0.1 */
BTSP_API void btsp_k_matmat_acc(size_t rows, size_t cols, size_t nb, const float *W, size_t ldw, const float *X,
                                size_t ldx, float *Y, size_t ldy);

/** @brief y[j] += sum_i W[i, j] * x[i] (transposed product, x has `rows` entries, y `cols`). @since 0.1 */
BTSP_API void btsp_k_matvec_t_acc(size_t rows, size_t cols, const float *W, size_t ldw, const float *x, float *y);
/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @name Elementwise helpers, traces, bounds and normalisation
 *  @{ */

/** @brief x[i] = min(max(x[i], lo), hi); lo may be -INFINITY, hi +INFINITY (lo <= hi). @since 0.1 */
BTSP_API void btsp_k_clip(size_t n, float *x, float lo, float hi);
/** @brief Clamp a rows x cols block (stride ldw) to [lo, hi]. @since 0.1 */
BTSP_API void btsp_k_clip_matrix(size_t rows, size_t cols, float *W, size_t ldw, float lo, float hi);

/** @brief Multiplicative decay factor of an exponential trace over `dt` for time constant tau:
 *  exp(-dt / tau) (tau > 0, dt >= 0; same units). @since 0.1 */
BTSP_API double btsp_k_decay_factor(double dt, double tau);
/** @brief trace[i] *= factor (exact solution of d trace/dt = -trace/tau with factor from
 *  btsp_k_decay_factor()). @since 0.1 */
BTSP_API void btsp_k_trace_decay(size_t n, float factor, float *trace);
/** @brief trace[i] += gain * x[i]. @since 0.1 */
BTSP_API void btsp_k_trace_add(size_t n, float *trace, const float *x, float gain);

/** @brief Row L1 normalisation: if zero_diag (square matrices only) W[i, i] = 0 first; then every
 *  row with non-zero L1 norm s_i = sum_j |W[i, j]| becomes (W[i, j] / s_i) * scale. Rows that are
 *  all zero stay zero. Signs are preserved.
 *
 *  Rounding is the reference implementation's (EIANN on PyTorch's CPU backend): s_i is a float32
 *  sum in PyTorch's order (8-float lanes, 4 accumulators, scalar tail first) and the division and
 *  the scaling round separately. The last bit of s_i matters to the published networks: it is
 *  what lets a population whose rows have converged onto each other differentiate again
 *  (docs/model.md, "Further details"). @since 0.1 */
BTSP_API void btsp_k_row_l1_normalize(size_t rows, size_t cols, float *W, size_t ldw, float scale, int zero_diag);
/** @brief Zero the diagonal of a square n x n block. @since 0.1 */
BTSP_API void btsp_k_zero_diag(size_t n, float *W, size_t ldw);
/** @brief Square receptive fields: each row i of the rows x (channels * height * width) block W
 *  (stride ldw) is read as a channels x height x width image (channel-major, then row-major, as
 *  a flattened C x H x W array) and every weight outside the side x side patch whose top-left
 *  pixel is (corner[2 i], corner[2 i + 1]) (row, column; the same patch in every channel) is
 *  multiplied by 0.0f, as EIANN multiplies by its 0/1 mask: a negative weight becomes -0.0 and a
 *  non-finite one NaN. Weights inside the patch are unchanged. Requires side >= 1,
 *  corner[2 i] + side <= height and corner[2 i + 1] + side <= width for every row (the caller
 *  checks; btsp_proj_set_receptive_fields() draws corners that satisfy it). @since 0.2 */
BTSP_API void btsp_k_rf_mask(size_t rows, float *W, size_t ldw, const uint32_t *corner, size_t side,
                             size_t channels, size_t height, size_t width);
/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @name BTSP
 *  @{ */

/** Parameters of the scaled rectified sigmoid q (depression nonlinearity of BTSP). */
typedef struct btsp_k_q_params {
    double th;    /**< Half-rise point (EIANN dep_th, default 0.01). */
    double peak;  /**< th + width (EIANN dep_th + dep_width, default 0.02); peak > th. */
    double x0;    /**< Lower end of the input range (0); q(x <= x0) = y0. */
    double x1;    /**< Upper end of the input range (1); q(x >= x1) = y1; x1 > x0. */
    double y0;    /**< Output at x0 (0). */
    double y1;    /**< Output at x1 (1). */
} btsp_k_q_params;

/** @brief Fill the defaults th = 0.01, peak = 0.02, x in [0, 1], y in [0, 1]. @since 0.1 */
BTSP_API void btsp_k_q_default(btsp_k_q_params *p);

/** @brief Scaled rectified sigmoid: with slope k = 2 / (peak - th) and logistic s,
 *  q(x) = y0 + (y1 - y0) * [s(k (clip(x, x0, x1) - th)) - s(k (x0 - th))]
 *                      / [s(k (x1 - th)) - s(k (x0 - th))].
 *  So q(x0) = y0, q(x1) = y1, rising steeply around th. @since 0.1 */
BTSP_API double btsp_k_q(const btsp_k_q_params *p, double x);

/** Parameters of one BTSP weight update (EIANN BTSP_19). */
typedef struct btsp_k_btsp_params {
    float learning_rate; /**< eta. */
    float w_max;         /**< Potentiation ceiling (the projection's upper bound). */
    float dep_ratio;     /**< rho: depression strength. */
    float discount;      /**< delta: weight of the adjacent-sample traces. */
    float lo, hi;        /**< Clamp after the update (may be infinite). */
    btsp_k_q_params q;   /**< Depression nonlinearity. */
} btsp_k_btsp_params;
/** @var btsp_k_btsp_params::lo
 *  Lower clamp after the update (may be -infinity); `hi` is the upper one. */

/** @brief BTSP kernel K(A, s) for one synapse: A * ((w_max - w) * s - rho * w * q(s)), with
 *  qs = q(s) precomputed. @since 0.1 */
BTSP_API float btsp_k_btsp_term(float A, float w, float s, float qs, float w_max, float rho);

/** @brief Apply one BTSP_19 update to W (n_post x n_pre, stride ldw), in place:
 *
 *    e  = clip(pre, 0, 1),  ê = clip(past_pre, 0, 1),
 *    P+ = max(plateau, 0),  P- = min(plateau, 0),  P̂+ = max(past_plateau, 0),
 *    dW_ij = eta * [ K(P+_i, e_j) + K(P+_i, delta*ê_j) + K(P̂+_i, delta*e_j) + P-_i * e_j ],
 *    W_ij  = clip(W_ij + dW_ij, lo, hi),
 *
 *  with K(A, s) = A * ((w_max - W_ij) * s - rho * W_ij * q(s)) evaluated at the old W_ij.
 *  Rows whose plateau and past plateau are both <= 0 and whose plateau is 0 are skipped (their
 *  update is exactly zero, and they are not clamped either: W is expected within [lo, hi] on
 *  entry, as the engine keeps it; in this test a NaN plateau or past plateau counts as none). `work` must hold 6 * n_pre floats (per-presynaptic precomputation).
 *  @since 0.1 */
BTSP_API void btsp_k_btsp_update(size_t n_post, size_t n_pre, float *W, size_t ldw, const float *plateau,
                                 const float *past_plateau, const float *pre, const float *past_pre,
                                 const btsp_k_btsp_params *p, float *work);

/** @brief Fixed point of repeated current-sample BTSP events with signal s (no adjacent
 *  terms): W* = w_max * s / (s + rho * q(s)); returns 0 for s <= 0 (no drive). @since 0.1 */
BTSP_API double btsp_k_btsp_fixed_point(const btsp_k_q_params *q, double w_max, double rho, double s);

/** Parameters of the weight-dependent bidirectional BTSP of Milstein et al. 2021 (eLife
 *  10:e73046, "WD" model) for a host loop: with eligibility trace ET (per synapse) and
 *  instructive signal IS (per cell), both peak-normalised, and s = ET * IS,
 *  dw/dt = k_pot q_pot(s) (1 - w) - k_dep q_dep(s) w,  w = W / w_max in [0, 1].
 *  The time constants are for the caller's traces (btsp_k_decay_factor() etc.). */
typedef struct btsp_k_wd_params {
    double k_pot;            /**< Potentiation rate, 1/s. */
    double k_dep;            /**< Depression rate, 1/s. */
    btsp_k_q_params q_pot;   /**< Potentiation nonlinearity q+ of s. */
    btsp_k_q_params q_dep;   /**< Depression nonlinearity q- of s. */
    double tau_et;           /**< Eligibility-trace time constant, s. */
    double tau_is;           /**< Instructive-signal time constant, s. */
    double w_max;            /**< Weight at w = 1 (the initial weight 1 plus the peak change). */
} btsp_k_wd_params;

/** @brief Fill the generic parameter set of the Milstein et al. 2021 network simulation:
 *  k_pot 1.11 /s, k_dep 0.425 /s, q_pot threshold 0.415 and half-width 0.454 (peak = 0.869),
 *  q_dep 0.0262 and 0.0998 (peak = 0.126), tau_et 1.664 s, tau_is 0.437 s, w_max 4.68 (the
 *  initial weight 1 plus the peak change 3.68). examples/place_field.c uses it. @since 0.2 */
BTSP_API void btsp_k_wd_default(btsp_k_wd_params *p);

/** @brief Accumulate one time step of the WD rule for n synapses of one cell:
 *  dw[j] += dt * (k_pot q_pot(s_j) (1 - w[j]) - k_dep q_dep(s_j) w[j]),  s_j = et[j] * is,
 *  evaluated in double at the given w (the papers integrate a lap at fixed w, then update).
 *  `dt` in s. With the default q ranges q(0) = 0, so synapses without eligibility do not
 *  change. @since 0.2 */
BTSP_API void btsp_k_wd_rate_acc(const btsp_k_wd_params *p, size_t n, const float *w, const float *et, float is,
                                 double dt, float *dw);

/** @brief Fixed point of the WD rule for a constant signal s: w* = k_pot q_pot(s) /
 *  (k_pot q_pot(s) + k_dep q_dep(s)); weights below it potentiate and weights above it depress
 *  (the rule's bidirectionality). NAN when both terms are 0 (no drive). @since 0.2 */
BTSP_API double btsp_k_wd_fixed_point(const btsp_k_wd_params *p, double s);

/** Parameters of the pairwise BTSP kernel of Bittner et al. 2017 (Science 357:1033), in the
 *  form Madar et al. implement it (github antoinemadar/BTSPvsSTDP: time constants "on average in
 *  Bittner et al. 2017"; Jain-plasticity-lab/BTSP-Model uses the same). Each pair of a
 *  presynaptic spike at t_pre and a plateau onset at t_p changes the weight by
 *  K(d), d = t_pre - t_p in s:  K(d) = amp_before exp(d / tau_before) for d < 0 (input before the
 *  plateau), amp_after exp(-d / tau_after) for d >= 0. No weight dependence, no bound: it is the
 *  phenomenological kernel of the first BTSP paper, seconds long on both sides and longer before
 *  the plateau than after. */
typedef struct btsp_k_bittner_params {
    double tau_before; /**< s: decay for inputs before the plateau (1.31). */
    double tau_after;  /**< s: decay for inputs after the plateau onset (0.69). */
    double amp_before; /**< weight change of a pair at d -> 0 from below (1: the unit). */
    double amp_after;  /**< weight change of a pair at d = 0 (1.15, PostPreBoost of Madar's
                            BTSP/InVitroBittner/InVitroBittner2017Sim.m). */
} btsp_k_bittner_params;

/** @brief Fill the defaults: tau_before 1.31 s, tau_after 0.69 s, amp_before 1, amp_after 1.15.
 *  @since 0.2 */
BTSP_API void btsp_k_bittner_default(btsp_k_bittner_params *p);

/** @brief The kernel K(d) for d = t_pre - t_plateau in s (see ::btsp_k_bittner_params). @since 0.2 */
BTSP_API double btsp_k_bittner_kernel(const btsp_k_bittner_params *p, double d);

/** @brief One time step dt (s) of the kernel as two traces, for a host loop over time; the sum
 *  over all pairs of K(t_pre - t_plateau) without keeping spike times. In order:
 *  (1) pre[j] *= exp(-dt / tau_before) and *post *= exp(-dt / tau_after);
 *  (2) if `plateau` (a plateau starts in this step): w[j] += amp_before * pre[j], then *post += 1;
 *  (3) w[j] += amp_after * x[j] * *post, then pre[j] += x[j],
 *  where x[j] >= 0 is input j's spike count in the step (or its rate times dt for the expected
 *  change; x NULL: no input). So a spike in the step of a plateau onset pairs with d = 0. With
 *  the steps on a grid the result equals the pairwise sum to the rounding of w (the traces are
 *  doubles, so their decay over many steps adds no error worth the name;
 *  tests/test_kernels_lap.c). pre: n traces (start at 0), post: one, w: n weights. Requires
 *  tau_before, tau_after > 0, dt >= 0 and finite x >= 0 (not checked: a kernel for host loops).
 *  @since 0.2 */
BTSP_API void btsp_k_bittner_step(const btsp_k_bittner_params *p, size_t n, double dt, const float *x, int plateau,
                                  double *pre, double *post, float *w);

/** Parameters of the linear eligibility-trace x instructive-signal form of BTSP fitted to Bittner
 *  et al. 2017 in the Milstein lab's CA1Sim code (its starting point x0 of
 *  "bidirectional_BTSP_simple", read off btsp-models.md A1). Each input's spikes x_j(t) are
 *  filtered by a local kernel into an eligibility trace, the plateau P(t) (1 during it) by a
 *  global kernel into an instructive signal, and
 *    ET_j = x_j * k_local,  IS = P * k_global,  dW_j = gain * integral ET_j(t) IS(t) dt,
 *  with k(t) = (exp(-t / decay) - exp(-t / rise)) / (decay - rise) for t >= 0 (unit area; rise
 *  < decay). Linear in the inputs and without weight dependence: the kernel form's predecessor
 *  of the bidirectional rule (btsp_k_wd_*). */
typedef struct btsp_k_etis_params {
    double local_rise;   /**< s, 0.0053 */
    double local_decay;  /**< s, 0.584 */
    double global_rise;  /**< s, 0.130 */
    double global_decay; /**< s, 0.268 */
    double plateau_dur;  /**< s, 0.3 (btsp_k_etis_kernel(); the step takes the plateau per step) */
    double gain;         /**< weight change per unit of the integral (dimensionless per spike), 1 */
} btsp_k_etis_params;

/** @brief Fill the defaults: local rise 5.3 ms and decay 584 ms, global rise 130 ms and decay
 *  268 ms, a 300 ms plateau, gain 1. @since 0.2 */
BTSP_API void btsp_k_etis_default(btsp_k_etis_params *p);

/** @brief The weight change gain * integral ET IS dt that one spike at t_pre and one plateau of
 *  plateau_dur starting at t_p cause, as a function of d = t_pre - t_p (s), in closed form:
 *  with K0(y) = sum over a in {local_decay, local_rise}, b in {global_decay, global_rise} of
 *  s_a s_b c_l c_g / (1/a + 1/b) * (y >= 0 ? exp(-y / b) : exp(y / a)) (s = +1 for the decays,
 *  -1 for the rises, c = 1 / (decay - rise)), the kernel is gain * integral over s in
 *  [0, plateau_dur] of K0(d - s); for plateau_dur = 0, K0 itself (the limit of the kernel
 *  divided by plateau_dur: a plateau of unit area). Each term's integral is formed in closed
 *  form on either side of the plateau, so the tails keep full relative precision (they decay
 *  as exp(-d / global_decay) after the plateau and exp(d / local_decay) before it; the tests
 *  check both ratios to 1e-9 out to 30 s). @since 0.2 */
BTSP_API double btsp_k_etis_kernel(const btsp_k_etis_params *p, double d);

/** @brief One time step dt (s) of the form for n inputs, integrated exactly. Spikes x[j] >= 0
 *  (counts, or rates times dt; x NULL: none) arrive at the start of the step; `plateau` != 0
 *  means the plateau covers the whole step. State: et, 2n doubles (et[2j] the decay and
 *  et[2j + 1] the rise part of each input's trace, start at 0), is, 2 doubles (the same for the
 *  instructive signal, start at 0). w[j] += gain * integral over the step of ET_j IS dt, computed in closed form for the
 *  step (exponentials times exponentials), so a run on a grid equals the pairwise sum of
 *  btsp_k_etis_kernel() over spikes and plateau onsets to the rounding of the float w summed
 *  over the steps, whatever dt: one float rounding per step, so the difference grows with the
 *  number of steps (the test: 1e-5 relative over 5,000 steps; sum into a double w for longer
 *  runs at fine dt)
 *  (tests/test_kernels_lap.c). Requires 0 < rise < decay for both kernels, dt >= 0 and finite
 *  x >= 0 (not checked). @since 0.2 */
BTSP_API void btsp_k_etis_step(const btsp_k_etis_params *p, size_t n, double dt, const float *x, int plateau,
                               double *et, double *is, float *w);

/** Parameters of the two-trace BTSP model of Cone & Shouval 2021 (Front. Comput. Neurosci.
 *  15:640235, ModelDB 266868) for a host loop over laps. Each synapse j has two saturating
 *  presynaptic traces driven by its input rate r_j (dimensionless, 0..1),
 *  tau_p dT_p/dt = -T_p + eta_p r_j (tmax_p - T_p),  tau_d dT_d/dt = -T_d + eta_d r_j (tmax_d - T_d),
 *  a plateau sets the instructive signal IS to is_peak, after which it decays with tau_is, and
 *  at the end of each lap the weight changes once by
 *  dW_j = eta_w * integral over the lap of IS(t) [T_p(t) (1 - W_j) - T_d(t) W_j] dt,  then W_j >= 0.
 *  With I_p = integral IS T_p dt and I_d = integral IS T_d dt (per synapse, s) this is
 *  dW_j = eta_w (I_p (1 - W_j) - I_d W_j), which moves W_j a fraction eta_w (I_p + I_d) of the way
 *  to the fixed point W* = I_p / (I_p + I_d) per lap: repeated laps converge to W* whatever the
 *  initial weights (btsp_k_cs_fixed_point()). */
typedef struct btsp_k_cs_params {
    double tau_p;   /**< Potentiation-trace time constant, s. */
    double tau_d;   /**< Depression-trace time constant, s. */
    double eta_p;   /**< Potentiation-trace activation per unit rate (dimensionless). */
    double eta_d;   /**< Depression-trace activation per unit rate. */
    double tmax_p;  /**< Potentiation-trace saturation level. */
    double tmax_d;  /**< Depression-trace saturation level. */
    double tau_is;  /**< Instructive-signal decay time constant, s. */
    double is_peak; /**< Instructive signal at the plateau. */
    double eta_w;   /**< Learning rate, 1/s (the model's 6e-4 per 1 ms step is 0.6 /s). */
} btsp_k_cs_params;

/** @brief Fill the parameters of Cone & Shouval's main simulation: tau_p 0.2 s, tau_d 1.5 s,
 *  eta_p 0.2, eta_d 200, tmax_p 2.2, tmax_d 2, tau_is 0.4 s, is_peak 1, eta_w 0.6 /s.
 *  @since 0.2 */
BTSP_API void btsp_k_cs_default(btsp_k_cs_params *p);

/** @brief Advance both traces of n synapses by dt seconds with the input rates rate[j] held
 *  constant over the step. Solved exactly, not by Euler steps: with a = 1 + eta r,
 *  T <- T_inf + (T - T_inf) exp(-a dt / tau), T_inf = eta r tmax / a. So the step is stable for
 *  any dt (Euler at the model's 1 ms is within O(dt) of it; at 10 ms Euler overshoots the fast
 *  depression trace). rate[j] >= 0. @since 0.2 */
BTSP_API void btsp_k_cs_traces(const btsp_k_cs_params *p, size_t n, const float *rate, double dt, float *tp,
                               float *td);

/** @brief Accumulate one step of the lap integrals: ip[j] += dt * is * tp[j], id[j] += dt * is *
 *  td[j] (is: the instructive signal at the end of the step; nothing is done when is == 0).
 *  Start each lap with ip = id = 0. In double: a lap has thousands of steps. @since 0.2 */
BTSP_API void btsp_k_cs_integrals_acc(size_t n, double is, const float *tp, const float *td, double dt, double *ip,
                                      double *id);

/** @brief The end-of-lap update: w[j] += eta_w (ip[j] (1 - w[j]) - id[j] w[j]), then w[j] =
 *  max(w[j], 0). The model bounds weights below only: while eta_w (ip + id) <= 1 a lap cannot
 *  overshoot the fixed point W* < 1 (on the authors' track with the default parameters the
 *  factor is at most 0.56, examples/cone_shouval.c), beyond that it can, also above 1.
 *  @since 0.2 */
BTSP_API void btsp_k_cs_apply(const btsp_k_cs_params *p, size_t n, const double *ip, const double *id, float *w);

/** @brief The weight repeated identical laps converge to: ip / (ip + id); NAN when both are 0
 *  (no plateau reached the synapse). Each lap multiplies the distance to it by
 *  1 - eta_w (ip + id). @since 0.2 */
BTSP_API double btsp_k_cs_fixed_point(double ip, double id);

/** A skewed Student-t density (Azzalini & Capitanio's skew-t), the shape of the plasticity
 *  kernels of Li & Roxin 2023: with z = (x - mu) / sigma,
 *  f(x) = (2 / sigma) t_nu(z) T_{nu+1}(skew z sqrt((nu + 1) / (nu + z^2))),
 *  t_nu and T_nu the Student-t density and distribution function with nu degrees of freedom.
 *  A negative skew puts the long tail at negative x. */
typedef struct btsp_k_skew_t {
    double nu;    /**< Degrees of freedom (> 0). */
    double mu;    /**< Location, in the unit of x. */
    double sigma; /**< Scale (> 0), in the unit of x. */
    double skew;  /**< Skewness parameter (0: the symmetric Student t). */
} btsp_k_skew_t;

/** @brief Student-t distribution function P(T <= t) with nu > 0 degrees of freedom: the
 *  regularised incomplete beta function (continued fraction) up to nu = 2e8, above that the
 *  normal distribution with Abramowitz & Stegun's 1/nu correction. Relative error: about
 *  1e-16 * max(nu, 50) for the fraction (it loses that much to cancellation), falling as 1/nu^2
 *  above the switch, so the worst, a few 1e-9, is just below 2e8; tests/test_kernels_lap.c
 *  checks 40-digit values at nu from 39.5 to 1e9 to 1e-12 (nu <= 1e3), 1e-10 (<= 1e6) and 1e-9
 *  (its points above). Tails stay positive where t^2 overflows; nu so small that
 *  nu / 2 underflows gives 0.5. NAN for nu <= 0 or t NaN. @since 0.2 */
BTSP_API double btsp_k_student_t_cdf(double t, double nu);

/** @brief The density of a skewed Student t (see ::btsp_k_skew_t) at x; NAN when sigma <= 0 or
 *  nu <= 0. @since 0.2 */
BTSP_API double btsp_k_skew_t_pdf(const btsp_k_skew_t *d, double x);

/** Parameters of the feed-forward (CA3 to CA1) BTSP rule of Li & Roxin 2023 (PLoS Comput. Biol.,
 *  code PanYe87/BTSP-Based-Learning): one update per induction lap,
 *  dW_j = amp_pot F_P(tau_j) (1 - W_j) - amp_dep F_D(tau_j) W_j,  then W_j clipped to [0, 1],
 *  with tau_j = (x_j - x_plateau) / v the time (s) at which input j's field peaks relative to the
 *  plateau onset, and F_P, F_D skewed Student-t densities in tau summed over laps,
 *  F(tau) = sum_{k=-10..10} f(tau + k period), period = track length / speed (0: no sum). */
typedef struct btsp_k_lr_params {
    btsp_k_skew_t pot; /**< F_P's shape, in s. */
    btsp_k_skew_t dep; /**< F_D's shape, in s. */
    double amp_pot;    /**< P: potentiation amplitude (dimensionless). */
    double amp_dep;    /**< D: depression amplitude. */
    double period;     /**< Lap time, s (track length / speed); 0 for a single, unsummed kernel. */
} btsp_k_lr_params;

/** @brief Fill Li & Roxin's fitted parameters for running speed `speed_cm_s` (15, 20, 25 or 35
 *  cm/s; e.g. 25: F_P nu 3.5, mu 0.685 s, sigma 1.65 s, skew -1.61, F_D 5, 1.75 s, 3.65 s,
 *  -5.35, P 2.365, D 2.57) on a track of `track_cm` cm (period = track_cm / speed_cm_s).
 *  @return 0, or -1 (p untouched) for another speed or a track_cm that is not positive and
 *  finite: the model has no parameters for other speeds. @since 0.2 */
BTSP_API int btsp_k_lr_default(btsp_k_lr_params *p, double speed_cm_s, double track_cm);

/** @brief The two kernels F_P(tau) and F_D(tau) (1/s), lap sums included; NAN for a shape
 *  with sigma or nu not > 0 (then btsp_k_lr_induction() writes NaN weights: a kernel for host
 *  loops, it does not check). @since 0.2 */
BTSP_API void btsp_k_lr_kernels(const btsp_k_lr_params *p, double tau, double *f_pot, double *f_dep);

/** @brief One induction lap for n synapses of one cell: for plateaus at times t_plateau[0..m)
 *  (s, within the lap) and input j peaking at t_input[j] (s), the kernels of all plateaus add
 *  up, then dW_j = amp_pot sum_k F_P(t_input[j] - t_plateau[k]) (1 - W_j) - amp_dep sum_k
 *  F_D(...) W_j, and W_j is clipped to [0, 1]. Costs 2 m (2 * 10 + 1) skew-t evaluations per
 *  synapse when period > 0 (the shapes' constants are computed once per call). @since 0.2 */
BTSP_API void btsp_k_lr_induction(const btsp_k_lr_params *p, size_t n, const double *t_input, size_t m,
                                  const double *t_plateau, float *w);

/** @brief The update of btsp_k_lr_induction() from kernel values computed beforehand: for n
 *  synapses, w[j] <- clip(w[j] + amp_pot f_pot[j] (1 - w[j]) - amp_dep f_dep[j] w[j], 0, 1), with
 *  f_pot[j], f_dep[j] the kernels of input j summed over the lap's plateaus
 *  (btsp_k_lr_kernels()). The kernels depend only on the input and plateau times, so cells that
 *  share them (a population with a plateau at the same place, or laps that repeat) compute them
 *  once: the kernels cost thousands of times more than this update (bench/README.md, "Li &
 *  Roxin inductions"). btsp_k_lr_induction() is this with the kernels computed in place.
 *  @since 0.2 */
BTSP_API void btsp_k_lr_apply(const btsp_k_lr_params *p, size_t n, const double *f_pot, const double *f_dep, float *w);

/** @brief One environment of Li & Roxin's recurrent (CA3) rule, stored in one shot: for every
 *  ordered pair (a, b) of the n_active cells (a == b included), with c = cos(phase[a] -
 *  phase[b]) and w = W[idx[a], idx[b]],
 *  w <- clip(w + amp_pot (1 - w)(1 + c) - amp_dep w (1 - c), 0, 1).
 *  Cells active together at nearby phases potentiate, cells at opposite phases depress.
 *  idx[0..n_active) are distinct row/column indices of the square matrix W (row stride ldw);
 *  phase in radians. @since 0.2 */
BTSP_API void btsp_k_lr_ring_store(size_t n_active, const uint32_t *idx, const float *phase, double amp_pot,
                                   double amp_dep, float *W, size_t ldw);

/** @brief Stationary mean and variance of an off-diagonal weight (a cell onto itself always has
 *  c = 1 and goes to 1) under btsp_k_lr_ring_store() over many
 *  random environments in which the pair's phase difference is uniform on the ring (E[c] = 0,
 *  E[c^2] = 1/2), when no update is clipped (amp_pot, amp_dep <= 1/2): mean = P / (P + D), and
 *  with E[(1 +- c)^2] = 3/2, E[(1 + c)(1 - c)] = 1/2,
 *  E[w^2] = (3/2 P^3 - 1/2 P^2 D - 2 P^2) / ((P + D)(3/2 P^2 + 3/2 D^2 + P D - 2 P - 2 D)),
 *  var = E[w^2] - mean^2 (P = amp_pot, D = amp_dep). Both NAN when P + D = 0 (no drive). @since 0.2 */
BTSP_API void btsp_k_lr_ring_moments(double amp_pot, double amp_dep, double *mean, double *var);

/** @brief Outer-product update W[i, j] += scale * post[i] * pre[j] (rows with post[i] == 0
 *  skipped). The general form of the Hebbian-type and dendritic-loss rules. @since 0.1 */
BTSP_API void btsp_k_outer_acc(size_t rows, size_t cols, float *W, size_t ldw, float scale, const float *post,
                               const float *pre);
/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @name Binary synapses (Wu & Maass 2025)
 *  The stochastic binary form of BTSP of Wu & Maass (Nat. Commun. 16:342, 2025): weights are
 *  0 or 1; when a memory neuron gets a plateau while an item x (a binary pattern) is presented,
 *  every connected synapse from an active input flips, w <- 1 - w, so the direction of the
 *  change is set by the prior weight (potentiation of 0s, depression of 1s) and the fraction of
 *  1s stays below 1/2 however many items are stored. For comparison the clipped Hebbian
 *  (Willshaw) store sets those synapses to 1 instead, and saturates.
 *
 *  Storage is bit-packed: a bit vector of n bits is btsp_k_bit_words(n) 64-bit words, bit j in
 *  word j / 64 at position j % 64, unused high bits of the last word 0 (the kernels keep them
 *  0 when their inputs have them 0). A weight matrix is n_post rows of `words` words each
 *  (row-major, no padding between rows); a connectivity mask has the same layout (1 =
 *  connected), and NULL means all-to-all. One item costs a scan of the n_post plateau bits
 *  plus O(plateau rows x words); one read-out O(n_post x words) popcounts.
 *  @{ */

/** @brief Words of a bit vector of n bits: ceil(n / 64). @since 0.2 */
BTSP_API size_t btsp_k_bit_words(size_t n);
/** @brief Number of 1 bits in words[0..n_words). @since 0.2 */
BTSP_API uint64_t btsp_k_popcount(size_t n_words, const uint64_t *words);
/** @brief Independent Bernoulli(p) bits: bit i = [btsp_k_rand_uniform(seed, stream, counter + i)
 *  < p] for i < n, packed into btsp_k_bit_words(n) words (unused high bits 0). p <= 0 gives all
 *  0, p >= 1 all 1 (p NaN: all 0). For random patterns (density f_p), connectivity masks (f_w)
 *  and plateau draws (f_q / 2 per memory neuron and item). @since 0.2 */
BTSP_API void btsp_k_bernoulli_bits(uint64_t seed, uint64_t stream, uint64_t counter, size_t n, double p,
                                    uint64_t *bits);

/** How btsp_k_binary_store() changes the synapses from active inputs onto neurons with a plateau. */
typedef enum btsp_k_binary_rule {
    BTSP_K_BINARY_FLIP = 0, /**< BTSP (Wu & Maass): w <- 1 - w (XOR with the item). */
    BTSP_K_BINARY_SET = 1   /**< Clipped Hebbian (Willshaw): w <- 1 (OR with the item). */
} btsp_k_binary_rule;

/** @brief Store one item, one shot: for every post neuron i whose bit is set in `plateau`
 *  (n_post bits), the synapses from the inputs active in `x` (words words) that `mask` connects
 *  change by `rule`: W[i] ^= x & mask[i] (FLIP) or W[i] |= x & mask[i] (SET). Rows without a
 *  plateau are not touched. An unknown `rule` changes nothing.
 *  @param rule ::BTSP_K_BINARY_FLIP or ::BTSP_K_BINARY_SET.
 *  @param n_post post (memory) neurons: rows of W.
 *  @param words words per row: btsp_k_bit_words(number of inputs).
 *  @param W n_post x words weight bits, updated in place.
 *  @param mask n_post x words connectivity bits, or NULL (all connected).
 *  @param x the item's input bits (words words).
 *  @param plateau btsp_k_bit_words(n_post) words: which neurons have a plateau. @since 0.2 */
BTSP_API void btsp_k_binary_store(btsp_k_binary_rule rule, size_t n_post, size_t words, uint64_t *W,
                                  const uint64_t *mask, const uint64_t *x, const uint64_t *plateau);
/** @brief Synaptic input of every post neuron to the input bits x: h[i] = number of j with
 *  x_j = W[i, j] = mask[i, j] = 1 (popcount of W[i] & mask[i] & x; mask NULL: W[i] & x). The
 *  caller thresholds it (Wu & Maass: y_i = [h_i >= theta], theta a fraction of the expected input
 *  f_w |x| of a neuron that stored x) or keeps the k largest. Fewer than 2^32 inputs. Uses
 *  the CPU's POPCNT instruction when it has one (x86-64; not with the build option
 *  BTSP_AVX=OFF); the counts are the same either way.
 *  @since 0.2 */
BTSP_API void btsp_k_binary_input(size_t n_post, size_t words, const uint64_t *W, const uint64_t *mask,
                                  const uint64_t *x, uint32_t *h);
/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @name Counter-based random numbers
 *  Stateless: the value depends only on (seed, stream, counter), identically on every platform,
 *  so results never depend on call order across objects or on thread count.
 *  @{ */

/** @brief 64 random bits for (seed, stream, counter) (SplitMix64-based mixing). @since 0.1 */
BTSP_API uint64_t btsp_k_rand_u64(uint64_t seed, uint64_t stream, uint64_t counter);
/** @brief Uniform double in [0, 1) with 53 random bits for (seed, stream, counter). @since 0.1 */
BTSP_API double btsp_k_rand_uniform(uint64_t seed, uint64_t stream, uint64_t counter);
/** @brief Fill perm[0..n) with a uniformly random permutation of 0..n-1 (Fisher-Yates driven by
 *  btsp_k_rand_u64(seed, stream, c) with c = 0, 1, 2, ... advancing by one per raw draw, rejected
 *  draws included; unbiased by rejection). @since 0.1 */
BTSP_API void btsp_k_permutation(uint64_t seed, uint64_t stream, uint32_t *perm, size_t n);
/** @} */

/* ----------------------------------------------------------------------------------------- */
/** @name PyTorch-compatible random numbers
 *  The sequential generator of PyTorch's CPU backend (a 32-bit Mersenne Twister, MT19937) and
 *  the two ways EIANN consumes it: float32 `Tensor.uniform_` for initial weights and
 *  `torch.randperm` for the sample order of each epoch. With them a network initialised with
 *  ::BTSP_INIT_RNG_TORCH, trained in the order of btsp_k_torch_randperm(), starts from EIANN's
 *  weights and sees EIANN's samples for the same seeds (checked bit for bit against PyTorch
 *  1.13.1 and against EIANN's own initial weights in tests/test_kernels.c and
 *  tests/test_model_golden.c).
 *  @{ */

/** MT19937 state (624 words and the position of the next one); initialise with
 *  btsp_k_mt19937_seed(). @since 0.2 */
typedef struct btsp_k_mt19937 {
    uint32_t state[624]; /**< The twister's state words. */
    uint32_t index;      /**< Next word to temper; 624: regenerate first. */
} btsp_k_mt19937;

/** @brief Seed as `torch.manual_seed(seed)` (or `torch.Generator().manual_seed(seed)`) does:
 *  the standard MT19937 initialisation with the low 32 bits of `seed`. @since 0.2 */
BTSP_API void btsp_k_mt19937_seed(btsp_k_mt19937 *g, uint64_t seed);
/** @brief Next 32-bit output (`std::mt19937`'s sequence; PyTorch's `random()`). @since 0.2 */
BTSP_API uint32_t btsp_k_mt19937_next(btsp_k_mt19937 *g);
/** @brief One float32 value of `Tensor.uniform_(from, to)` on the CPU: the low 24 bits of one
 *  output scaled by 2^-24, then `x * (to - from) + from` in float32 with one rounding (a fused
 *  multiply-add, as PyTorch's AVX2 kernels compute it; PyTorch builds running on CPUs without
 *  AVX2 round twice and differ in the last bit of some values). `from` and `to` are the
 *  float32 conversions of the double arguments torch receives. @since 0.2 */
BTSP_API float btsp_k_torch_uniform(btsp_k_mt19937 *g, float from, float to);
/** @brief `torch.randperm(n, generator=g)` on the CPU (PyTorch 1.13): perm = 0..n-1, then for
 *  i = 0 .. n-2 swap positions i and i + (next output mod (n - i)). n - 1 outputs; the mod
 *  makes it slightly non-uniform, as PyTorch's. @since 0.2 */
BTSP_API void btsp_k_torch_randperm(btsp_k_mt19937 *g, uint32_t *perm, size_t n);
/** @brief One epoch of `DataLoader(dataset, shuffle=True, generator=g)` (PyTorch 1.13), the
 *  sample order EIANN trains in: every new iterator first draws its 64-bit base seed from the
 *  generator (two outputs, discarded), then RandomSampler takes btsp_k_torch_randperm(). Call
 *  once per epoch on one generator seeded with the data seed. An iterator read to exhaustion
 *  also evaluates RandomSampler's trailing `randperm(n)[:0]` (num_samples % n = 0): after a
 *  complete epoch, before the next one, call btsp_k_torch_randperm() once more and discard
 *  the result (EIANN's full-epoch runs do this; its runs cut short within the epoch, such as
 *  the 20,000-sample ones, do not). @since 0.2 */
BTSP_API void btsp_k_torch_shuffle_epoch(btsp_k_mt19937 *g, uint32_t *perm, size_t n);
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* BTSP_BTSP_KERNELS_H */
