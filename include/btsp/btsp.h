/**
 * @file btsp.h
 * @brief libbtsp: rate-neuron networks with dendrites, top-down gated plateaus and
 *        Behavioral Timescale Synaptic Plasticity (BTSP). Stable public API.
 *
 * @section lifecycle Lifecycle
 *
 * 1. Create a network: btsp_net_create() or btsp_net_create_with_allocator().
 * 2. Set network parameters (btsp_net_set(), btsp_net_seed(), btsp_net_set_backward()).
 * 3. Add layers in bottom-up order (btsp_layer_add()) and populations inside them
 *    (btsp_pop_add()). The first population of the first layer is the input population.
 * 4. Add projections (btsp_proj_add()) targeting a population's soma or its dendritic
 *    compartment, and configure them (direction, phase, bounds, initialisation, constraint).
 * 5. Create plasticity rules (btsp_rule_create()) and attach them to projections or to
 *    population biases; create feedback gates (btsp_gate_create()) and attach them to the
 *    populations whose plateaus they control; create monitors.
 * 6. btsp_net_finalize(): validates everything, allocates every buffer, initialises the
 *    weights from the network seed and applies the constraints once. After this call no
 *    structure may change (structural setters return ::BTSP_E_STATE).
 * 7. Run: btsp_net_forward(), btsp_net_train_sample(), btsp_net_train(), btsp_net_evaluate(),
 *    btsp_net_evaluate_activity().
 *    None of these allocate, print or abort.
 * 8. btsp_net_reset() returns state (and optionally weights, monitors) to the post-finalize
 *    condition.
 * 9. btsp_net_destroy() frees the network and every object created from it. It accepts NULL.
 *
 * @section errors Errors
 * Every fallible function returns a ::btsp_status. Negative values are errors; their numbers
 * are fixed forever (new codes may be added; treat any unknown negative value as an error).
 * Out-parameters are set to NULL/0 on failure. The network keeps a message describing the last
 * failure with context (btsp_net_errmsg()). A failing call leaves every object as it was, with
 * two documented exceptions: btsp_net_train() keeps the samples it trained before stopping or
 * failing (btsp_net_sample_count() tells how many), and with ::BTSP_NET_CHECK_FINITE a
 * ::BTSP_E_NUMERIC failure keeps the non-finite update.
 *
 * @section threads Threads
 * A network and everything it owns may be used by one thread at a time; different networks
 * are fully independent (the library has no global mutable state).
 *
 * @section units Units and types
 * Time is measured in integration steps: the leaky update is `u += (I - u) / tau` with
 * `tau` in steps (dimensionless, >= 1). Activities (rates), states and weights are `float`;
 * parameters are `double`. Arrays are row-major; a weight matrix has shape post x pre.
 */
#ifndef BTSP_BTSP_H
#define BTSP_BTSP_H

#include <stddef.h>
#include <stdint.h>

/** @name Version
 *  @{ */
#define BTSP_VERSION_MAJOR 0 /**< Major version: changes break API or ABI. */
/** Minor version: API additions only (before 1.0 the ABI may change too, so the soname is
 *  MAJOR.MINOR). */
#define BTSP_VERSION_MINOR 2
#define BTSP_VERSION_PATCH 0 /**< Patch version: fixes only. */
/** Version as one integer: MAJOR*10000 + MINOR*100 + PATCH. */
#define BTSP_VERSION_NUMBER (BTSP_VERSION_MAJOR * 10000 + BTSP_VERSION_MINOR * 100 + BTSP_VERSION_PATCH)
/** Version as a string literal, "MAJOR.MINOR.PATCH". */
#define BTSP_VERSION_STRING "0.2.0"
/** @} */

/** @name Export macros
 *  Define BTSP_STATIC when linking the static library on Windows; BTSP_BUILDING is defined
 *  by the build system while compiling the library itself.
 *  @{ */
#if defined(_WIN32) && !defined(BTSP_STATIC)
#if defined(BTSP_BUILDING)
#define BTSP_API __declspec(dllexport)
#else
#define BTSP_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
/** Marks a function as part of the public ABI. */
#define BTSP_API __attribute__((visibility("default")))
#else
#define BTSP_API
#endif
/** Marks a deprecated function; define BTSP_DISABLE_DEPRECATE_WARNINGS to silence it. */
#if defined(BTSP_DISABLE_DEPRECATE_WARNINGS)
#define BTSP_DEPRECATED(msg)
#elif defined(__cplusplus) && __cplusplus >= 201402L
#define BTSP_DEPRECATED(msg) [[deprecated(msg)]]
#elif defined(__GNUC__)
#define BTSP_DEPRECATED(msg) __attribute__((deprecated(msg)))
#elif defined(_MSC_VER)
#define BTSP_DEPRECATED(msg) __declspec(deprecated(msg))
#else
#define BTSP_DEPRECATED(msg)
#endif
/** @} */

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/** @name Status codes
 *  @{ */

/** Result of every fallible call. 0 is success, negative values are errors (fixed numbers),
 *  positive values are non-error outcomes. */
typedef enum btsp_status {
    BTSP_OK = 0,                /**< Success. */
    BTSP_STOPPED = 1,           /**< A callback asked a run to stop; not an error. */
    BTSP_E_INVALID_ARG = -1,    /**< NULL pointer, unknown enum value or malformed argument. */
    BTSP_E_NOMEM = -2,          /**< The allocator returned NULL. */
    BTSP_E_STATE = -3,          /**< Call not allowed in the object's current lifecycle phase. */
    BTSP_E_RANGE = -4,          /**< Numeric parameter outside its documented bounds, not finite, or
                                     (for one stored as a float) beyond +-FLT_MAX. */
    BTSP_E_SHAPE = -5,          /**< Array size does not match the object. */
    BTSP_E_NOT_FOUND = -6,      /**< Named object does not exist. */
    BTSP_E_NUMERIC = -7,        /**< Non-finite value produced while finite checking is on. */
    BTSP_E_UNSUPPORTED = -8,    /**< Valid request that this version does not implement. */
    BTSP_E_IO = -9,             /**< File could not be opened, read or written. */
    BTSP_E_FORMAT = -10,        /**< File content is malformed or of the wrong type. */
    BTSP_E_CALLBACK = -11,      /**< A user callback returned a negative value. */
    BTSP_E_EXISTS = -12,        /**< Name already used, or object already attached. */
    BTSP_E_INTERNAL = -13       /**< Internal invariant broken: a bug, please report. */
} btsp_status;

/** @brief Static description of a status code (never NULL, never freed, thread-safe).
 *  @param status any value; unknown values give "unknown status". @since 0.1 */
BTSP_API const char *btsp_status_string(int status);
/** @brief Symbolic name of a status code, e.g. "BTSP_E_RANGE" ("BTSP_UNKNOWN" if unknown). @since 0.1 */
BTSP_API const char *btsp_status_name(int status);

/** @brief Runtime version number (compare with ::BTSP_VERSION_NUMBER). @since 0.1 */
BTSP_API unsigned btsp_version_number(void);
/** @brief Runtime version string "MAJOR.MINOR.PATCH". @since 0.1 */
BTSP_API const char *btsp_version_string(void);
/** @brief Runtime major version. @since 0.1 */
BTSP_API unsigned btsp_version_major(void);
/** @brief Runtime minor version. @since 0.1 */
BTSP_API unsigned btsp_version_minor(void);
/** @brief Runtime patch version. @since 0.1 */
BTSP_API unsigned btsp_version_patch(void);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Handles and shared enums
 *  All handles are opaque and owned by the network they were created from.
 *  @{ */

typedef struct btsp_net btsp_net;         /**< A network: owns every other object. */
typedef struct btsp_layer btsp_layer;     /**< An ordered group of populations. */
typedef struct btsp_pop btsp_pop;         /**< A population of rate units (soma). */
typedef struct btsp_dend btsp_dend;       /**< The dendritic compartment of a population. */
typedef struct btsp_proj btsp_proj;       /**< A dense projection (weights post x pre). */
typedef struct btsp_rule btsp_rule;       /**< A plasticity rule attached to one projection or bias. */
typedef struct btsp_gate btsp_gate;       /**< A feedback gate: turns top-down signals into plateaus. */
typedef struct btsp_monitor btsp_monitor; /**< A recorder of one variable over training. */

/** Activation functions `a = f(u)`; parameters p0, p1 as listed. */
typedef enum btsp_activation {
    BTSP_ACT_LINEAR = 0,   /**< f(u) = u. */
    BTSP_ACT_RELU = 1,     /**< f(u) = max(u, 0) (exact zeros: relu gating relies on them). */
    BTSP_ACT_SIGMOID = 2,  /**< f(u) = 1 / (1 + exp(-u)). */
    BTSP_ACT_SOFTPLUS = 3, /**< f(u) = log(1 + exp(u)). */
    BTSP_ACT_TANH = 4,     /**< f(u) = tanh(u). */
    BTSP_ACT_CLAMP = 5,    /**< f(u) = min(max(u, p0), p1) ("srelu"; default p0 = 0, p1 = 1). */
    BTSP_ACT_POLY = 6,     /**< f(u) = p0 * max(u, 0)^p1 (default p0 = 1, p1 = 2; p1 > 0). */
    BTSP_ACT_SOFTMAX = 7   /**< a_i = exp(u_i) / sum_j exp(u_j) over the population. */
} btsp_activation;

/** Weight (and bias) initialisation schemes. k = 1/sqrt(fan_in). */
typedef enum btsp_init {
    BTSP_INIT_NONE = 0,           /**< Leave as is (zeros, or weights set by the user). */
    BTSP_INIT_HALF_KAIMING = 1,   /**< a = scale: U(lo, a*k) if lo >= 0, U(-a*k, hi) if hi <= 0. */
    BTSP_INIT_SCALED_KAIMING = 2, /**< a = scale: U(-a*k, a*k). */
    BTSP_INIT_UNIFORM = 3,        /**< U(a, b). */
    BTSP_INIT_DEFAULT_LINEAR = 4, /**< U(-k, k), the conventional dense-layer default. */
    BTSP_INIT_CONSTANT = 5        /**< Every element = a. */
} btsp_init;

/** Where a projection delivers its input. */
typedef enum btsp_compartment {
    BTSP_SOMA = 0, /**< Drives the somatic state u (the rate). */
    BTSP_DEND = 1  /**< Drives only the dendritic state of the post population. */
} btsp_compartment;

/** Which presynaptic activity a projection reads. */
typedef enum btsp_direction {
    BTSP_DIR_FORWARD = 0,  /**< The pre activity as currently stored (already updated this step
                                if the pre population comes earlier in the sweep). */
    BTSP_DIR_RECURRENT = 1 /**< The pre activity of the previous integration step. */
} btsp_direction;

/** In which phases a somatic projection contributes. */
typedef enum btsp_phase {
    BTSP_PHASE_FORWARD = 0,  /**< Forward phase only ("F"). */
    BTSP_PHASE_BACKWARD = 1, /**< Backward (nudged) phase only ("B"). */
    BTSP_PHASE_ALL = 2       /**< Both phases ("A"). */
} btsp_phase;

/** Per-population variables readable with btsp_pop_state() and recordable by monitors. */
typedef enum btsp_var {
    BTSP_VAR_ACTIVITY = 0,          /**< a: current rate (size n). */
    BTSP_VAR_PREV_ACTIVITY = 1,     /**< ā: rate of the previous integration step (n). */
    BTSP_VAR_SOMA_STATE = 2,        /**< u: somatic state (n). */
    BTSP_VAR_FORWARD_ACTIVITY = 3,  /**< a at the end of the last forward phase (n). */
    BTSP_VAR_FORWARD_PREV = 4,      /**< a one step before the end of the forward phase (n). */
    BTSP_VAR_FORWARD_DEND = 5,      /**< Forward dendritic state, unclipped (n; needs a dendrite). */
    BTSP_VAR_DEND_STATE = 6,        /**< Backward dendritic state, clipped to [-1, 1] (n; dendrite). */
    BTSP_VAR_PLATEAU = 7,           /**< Plateau (instructive signal) of the last training step (n). */
    BTSP_VAR_NUDGE = 8,             /**< Dendrite-to-soma nudge of the last training step (n). */
    BTSP_VAR_BIAS = 9,              /**< Bias b (n). */
    BTSP_VAR_WEIGHTS = 10,          /**< Monitors only: a projection's weights (post*pre). */
    BTSP_VAR_LOSS = 11              /**< Monitors only: per-sample MSE loss of the network (1). */
} btsp_var;
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Hooks
 *  @{ */

/** Custom allocator. `alloc` returns NULL on failure; `free` accepts NULL. All memory the
 *  library uses for a network goes through these, with `user` passed back. */
typedef struct btsp_allocator {
    void *(*alloc)(void *user, size_t size); /**< Allocate size bytes, aligned for any type. */
    void (*free)(void *user, void *ptr);     /**< Release memory from alloc (ptr may be NULL). */
    void *user;                              /**< Passed to both functions. */
} btsp_allocator;

/** Called after every training sample by btsp_net_train(). Return 0 to continue, a positive
 *  value to stop cleanly (the call returns ::BTSP_STOPPED), a negative value to fail (the call
 *  returns ::BTSP_E_CALLBACK). `sample` is the number of samples trained so far. */
typedef int (*btsp_step_fn)(void *user, btsp_net *net, uint64_t sample);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Network
 *  @{ */

/** Network parameters (btsp_net_set(), btsp_net_get()). */
typedef enum btsp_net_param {
    /** Default time constant of every population, steps; default 1, bounds [1, 1e6].
     *  Before finalize only. */
    BTSP_NET_TAU = 100,
    /** T: integration steps of the forward phase and of a settling backward phase;
     *  default 1, bounds [1, 100000]. Before finalize only. */
    BTSP_NET_FORWARD_STEPS = 101,
    /** Steps of the forward phase through which gradient rules backpropagate (truncated BPTT);
     *  default 1, bounds [0, 100000]. Before finalize only. */
    BTSP_NET_BACKWARD_STEPS = 102,
    /** Learning rate given at finalize to rules that have no own BTSP_RULE_LEARNING_RATE;
     *  default 0.01, bounds [0, 1e6]. May be set any time, but rules read it only at finalize. */
    BTSP_NET_LEARNING_RATE = 103,
    /** 1: check every training step for non-finite weights and fail with ::BTSP_E_NUMERIC;
     *  default 0. Any time. */
    BTSP_NET_CHECK_FINITE = 104,
    /** Samples per block in btsp_net_evaluate() and btsp_net_evaluate_activity(): larger is faster, uses more memory;
     *  default 64, bounds [1, 65536]. Before finalize only. */
    BTSP_NET_EVAL_BLOCK = 105,
    /** Random numbers of the initial weights and biases, a ::btsp_init_rng; default
     *  ::BTSP_INIT_RNG_COUNTER. Before finalize only. @since 0.2 */
    BTSP_NET_INIT_RNG = 106
} btsp_net_param;

/** Where the random initial weights and biases come from (::BTSP_NET_INIT_RNG). Both are
 *  deterministic for a seed; they give different weights from the same distributions (one
 *  exception: a bias initialised with ::BTSP_INIT_DEFAULT_LINEAR, see ::BTSP_INIT_RNG_TORCH). */
typedef enum btsp_init_rng {
    /** libbtsp's counter-based stream: element i of projection q is
     *  btsp_k_rand_uniform(seed, stream of q, i), independent of every other object, so adding a
     *  projection changes no other projection's weights. */
    BTSP_INIT_RNG_COUNTER = 0,
    /** PyTorch's CPU generator as EIANN consumes it, so that a network built from an EIANN
     *  configuration starts from EIANN's weights for the same seed (`torch.manual_seed(seed)`):
     *  MT19937 seeded with the low 32 bits of the seed (btsp_k_mt19937_seed()); first every
     *  projection, in creation order, draws its dense-layer default (`nn.Linear`'s
     *  `kaiming_uniform_(a = sqrt 5)`, U(-b, b) with b = sqrt(3) sqrt(2 / 6) / sqrt(fan_in)),
     *  which ::BTSP_INIT_DEFAULT_LINEAR keeps; then every population in sweep order draws the
     *  initialisation of its incoming projections in creation order (::BTSP_INIT_HALF_KAIMING,
     *  ::BTSP_INIT_SCALED_KAIMING and ::BTSP_INIT_UNIFORM: one btsp_k_torch_uniform() per element,
     *  row-major; ::BTSP_INIT_CONSTANT and ::BTSP_INIT_NONE draw nothing), then its bias (the
     *  Kaiming bound being 0 for a fan-in of 0, as EIANN's; a bias set to
     *  ::BTSP_INIT_DEFAULT_LINEAR has no construction draw, as EIANN has no such bias
     *  initialisation, and is 0); last, the receptive-field corners of the projections that
     *  have them (btsp_proj_set_receptive_fields()). Bit-exact with EIANN on PyTorch
     *  1.13.1 (tests/test_model_golden.c). Training-time draws (stochastic plateau selection) are
     *  the counter-based ones in both modes. */
    BTSP_INIT_RNG_TORCH = 1
} btsp_init_rng;

/** How the backward (top-down, nudged) phase of a training step runs. */
typedef enum btsp_backward_mode {
    BTSP_BACKWARD_NONE = 0,   /**< No backward phase (e.g. only forward-phase rules). */
    /** T steps; layers from the top: dendritic states, plateaus selected at the first step
     *  by the gates, then re-integration of the nudged populations (BTSP_19, BP_like_2L). */
    BTSP_BACKWARD_SETTLE = 1,
    /** One top-down pass without re-integration: gated populations with backward projections
     *  (and the output) take a = f(u + n), u unchanged (BP_like_2E). */
    BTSP_BACKWARD_SINGLE = 2,
    /** Only the output population gets a plateau (its target); its layer re-integrates for T
     *  steps (the output and the layer's populations with backward projections), lower layers
     *  keep their forward values (Top_Layer_BP_like_2L). */
    BTSP_BACKWARD_OUTPUT_ONLY = 3
} btsp_backward_mode;

/** Flags for btsp_net_reset(). */
typedef enum btsp_reset_flags {
    BTSP_RESET_STATE = 1,   /**< Activities, dendritic states, plateaus, traces, sample counter. */
    BTSP_RESET_WEIGHTS = 2, /**< Re-initialise weights and biases (and redraw receptive fields) from
                                 the seed, re-apply constraints. */
    BTSP_RESET_MONITORS = 4 /**< Empty every monitor. */
} btsp_reset_flags;

/** @brief Create an empty network using malloc/free.
 *  @param[out] out receives the network; NULL on failure.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG (out NULL) or ::BTSP_E_NOMEM. @since 0.1 */
BTSP_API btsp_status btsp_net_create(btsp_net **out);
/** @brief Create an empty network whose every allocation goes through `alloc` (copied).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG (a NULL pointer or function) or ::BTSP_E_NOMEM. @since 0.1 */
BTSP_API btsp_status btsp_net_create_with_allocator(const btsp_allocator *alloc, btsp_net **out);
/** @brief Destroy a network and every object created from it. Accepts NULL. @since 0.1 */
BTSP_API void btsp_net_destroy(btsp_net *net);
/** @brief Message about the last failed call on this network or its objects ("" if none).
 *  Owned by the network, valid until the next failing call or destroy. NULL net gives a static text.
 *  @since 0.1 */
BTSP_API const char *btsp_net_errmsg(const btsp_net *net);
/** @brief Status of the last failed call on this network (::BTSP_OK if none). @since 0.1 */
BTSP_API btsp_status btsp_net_errcode(const btsp_net *net);

/** @brief Set a network parameter (see ::btsp_net_param for units, defaults, bounds, phase).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_RANGE or ::BTSP_E_STATE. @since 0.1 */
BTSP_API btsp_status btsp_net_set(btsp_net *net, btsp_net_param param, double value);
/** @brief Read a network parameter into *value (0 on failure). @since 0.1 */
BTSP_API btsp_status btsp_net_get(const btsp_net *net, btsp_net_param param, double *value);
/** @brief Set the 64-bit seed of the network's counter-based RNG (weight init, stochastic
 *  plateaus). Every seed, 0 included, is valid; default 0. Results depend only on the seed,
 *  never on platform or thread count. Weights are drawn at finalize and at btsp_net_reset()
 *  with ::BTSP_RESET_WEIGHTS; stochastic gates use the current seed at every draw, so setting
 *  it between samples changes later draws. Any time. @since 0.1 */
BTSP_API btsp_status btsp_net_seed(btsp_net *net, uint64_t seed);
/** @brief The current seed. @since 0.1 */
BTSP_API uint64_t btsp_net_get_seed(const btsp_net *net);
/** @brief Choose the backward-phase dynamics (default ::BTSP_BACKWARD_NONE). Before finalize.
 *  @since 0.1 */
BTSP_API btsp_status btsp_net_set_backward(btsp_net *net, btsp_backward_mode mode);
/** @brief The backward-phase mode (::BTSP_BACKWARD_NONE for a NULL net). @since 0.1 */
BTSP_API btsp_backward_mode btsp_net_get_backward(const btsp_net *net);
/** @brief Install (or remove with fn = NULL) the per-sample hook of btsp_net_train(). @since 0.1 */
BTSP_API btsp_status btsp_net_set_step_hook(btsp_net *net, btsp_step_fn fn, void *user);
/** @brief Attach an arbitrary user pointer to the network. @since 0.1 */
BTSP_API void btsp_net_set_user_data(btsp_net *net, void *user);
/** @brief The user pointer (NULL if none or net is NULL). @since 0.1 */
BTSP_API void *btsp_net_user_data(const btsp_net *net);

/** @brief Validate the structure, allocate every buffer, initialise weights and biases from the
 *  seed and apply the constraints once. On failure nothing changes and the network stays in the
 *  building phase. @return ::BTSP_OK, ::BTSP_E_STATE (already finalized, or invalid structure,
 *  e.g. no layers, a BTSP rule whose post population has no gate, a dendritic gate on a
 *  population without dendrite, a bias, gate or dendrite on the input), ::BTSP_E_NOMEM. @since 0.1 */
BTSP_API btsp_status btsp_net_finalize(btsp_net *net);
/** @brief 1 if btsp_net_finalize() has succeeded, else 0. @since 0.1 */
BTSP_API int btsp_net_is_finalized(const btsp_net *net);

/** @brief Run the forward phase (T steps) for one input vector, without learning.
 *  @param net the network.
 *  @param x input rates, `n` = size of the input population (copied).
 *  @param n number of values in `x`; must equal the input population's size.
 *  @pre finalized. @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_SHAPE, ::BTSP_E_STATE. @since 0.1 */
BTSP_API btsp_status btsp_net_forward(btsp_net *net, const float *x, size_t n);
/** @brief One online training step: forward phase, forward-state snapshot, backward phase
 *  (plateau selection by the gates), every rule's update, constraints, trace bookkeeping.
 *  @param net the network (finalized).
 *  @param x input (size of the input population); @param target desired output
 *  (size of the output population), e.g. one-hot.
 *  @param nx number of values in `x` (the input population's size).
 *  @param ny number of values in `target` (the output population's size).
 *  @return ::BTSP_OK or an error; on ::BTSP_E_NUMERIC the weights hold the non-finite update.
 *  @since 0.1 */
BTSP_API btsp_status btsp_net_train_sample(btsp_net *net, const float *x, size_t nx,
                                           const float *target, size_t ny);
/** @brief Train on `n_samples` samples of a data set in the given order.
 *  @param net the network (finalized).
 *  @param X inputs, n_rows x nx row-major; @param Y targets, n_rows x ny.
 *  @param n_rows number of rows in `X` and `Y`.
 *  @param nx values per input row (the input population's size).
 *  @param ny values per target row (the output population's size).
 *  @param n_samples number of training samples to run.
 *  @param order indices into the rows (each < n_rows), or NULL for 0..n_samples-1
 *  (then n_samples <= n_rows). The step hook runs after each sample.
 *  @return ::BTSP_OK, ::BTSP_STOPPED, ::BTSP_E_CALLBACK or an error. @since 0.1 */
BTSP_API btsp_status btsp_net_train(btsp_net *net, const float *X, const float *Y, size_t n_rows,
                                    size_t nx, size_t ny, const uint32_t *order, size_t n_samples);
/** @brief Forward phase for many samples (no learning, network state left as after the last
 *  sample), writing the output population's final activity.
 *  @param net the network (finalized).
 *  @param X n_samples x nx inputs; @param out n_samples x n_out (caller-owned).
 *  @param n_samples number of rows in `X` and `out`.
 *  @param nx values per input row (the input population's size).
 *  @param n_out values per output row (the output population's size).
 *  @since 0.1 */
BTSP_API btsp_status btsp_net_evaluate(btsp_net *net, const float *X, size_t n_samples, size_t nx,
                                       float *out, size_t n_out);
/** @brief Forward phase for many samples (no learning), writing the final activity of any
 *  populations, and their activity one integration step earlier, for every sample: the batched
 *  equivalent of btsp_net_forward() followed by btsp_pop_copy_state() with ::BTSP_VAR_ACTIVITY
 *  and ::BTSP_VAR_PREV_ACTIVITY, with bitwise the same values, as fast as btsp_net_evaluate()
 *  (for representation analyses over a whole test set). The network state is left as after the
 *  last sample, as by btsp_net_evaluate().
 *  @param net the network (finalized).
 *  @param X n_samples x nx inputs.
 *  @param n_samples number of rows in `X` (0: nothing to do).
 *  @param nx values per input row (the input population's size).
 *  @param act NULL, or `n_pops` pointers, one per population in the order of btsp_net_pop_at():
 *  each NULL (not wanted) or a caller-owned buffer of n_samples x (that population's size)
 *  floats, row-major, receiving a(T) of each sample.
 *  @param prev NULL, or the same for the activity at step T-1 (::BTSP_VAR_PREV_ACTIVITY).
 *  @param n_pops must equal btsp_net_pop_count() (even when `act` and `prev` are NULL).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_STATE or ::BTSP_E_SHAPE (nothing written).
 *  @since 0.2 */
BTSP_API btsp_status btsp_net_evaluate_activity(btsp_net *net, const float *X, size_t n_samples, size_t nx,
                                                float *const *act, float *const *prev, size_t n_pops);
/** @brief Gradient of the loss L = mean((a_out(T) - target)^2) with respect to one projection's
 *  weights, as ::BTSP_RULE_BACKPROP would compute it, without applying it (for comparing
 *  other rules' updates with gradient descent).
 *
 *  Runs a forward phase on `x` (exactly as btsp_net_forward()) and backpropagates through its
 *  last `backward_steps` integration steps (capped at ::BTSP_NET_FORWARD_STEPS; the state
 *  entering that window is a constant, as in training). Works for any projection of any
 *  network, whatever its rule: dendritic projections and backward-phase-only projections do not
 *  act on the forward output, so their gradient is zero, as it is for backward_steps = 0.
 *
 *  State: weights, biases, the forward snapshot, plateaus, traces, the sample counter and the
 *  last loss are not changed. Activities, states and previous activities are overwritten as by
 *  btsp_net_forward() (the output population holds a_out(T) afterwards). A window longer than
 *  the network's ::BTSP_NET_BACKWARD_STEPS makes the network enlarge its history buffer on the
 *  first such call (this is the only allocation; training never allocates).
 *  @param net the network (finalized).
 *  @param x input, `nx` = size of the input population.
 *  @param nx number of values in `x`.
 *  @param target desired output, `ny` = size of the output population.
 *  @param ny number of values in `target`.
 *  @param backward_steps length of the truncated window in integration steps.
 *  @param proj a projection of `net`.
 *  @param[out] grad receives dL/dW, row-major post x pre (caller-owned).
 *  @param rows rows of `grad`; must equal the post population's size.
 *  @param cols columns of `grad`; must equal the pre population's size.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_STATE, ::BTSP_E_SHAPE or ::BTSP_E_NOMEM
 *  (nothing changed). @since 0.1 */
BTSP_API btsp_status btsp_net_loss_gradient(btsp_net *net, const float *x, size_t nx, const float *target,
                                            size_t ny, unsigned backward_steps, const btsp_proj *proj,
                                            float *grad, size_t rows, size_t cols);
/** @brief Gradient of one or more weighted sums of a population's final activity with respect
 *  to the input sample (vector-Jacobian products), for receptive fields by activation
 *  maximisation and other input-saliency analyses.
 *
 *  For each of the `m` cotangent rows c_r (row-major `m` x `n`, n = size of `pop`), writes row r
 *  of `grad` (`m` x nx): the gradient of L_r = c_r . a_pop(T) with respect to the input x, where
 *  a_pop(T) is the activity at the end of a forward phase on `x` (exactly btsp_net_forward()).
 *  With c_r = e_j (row j of the identity) row r is d a_pop,j(T) / d x, the input gradient of unit
 *  j; EIANN's activation-maximisation receptive fields average it over test images
 *  (`btsp analyze`, docs/analysis.md). The gradient runs through the last `backward_steps`
 *  integration steps (capped at ::BTSP_NET_FORWARD_STEPS), the state entering that window being
 *  a constant, as btsp_net_loss_gradient() and EIANN's `backward_steps` do; the input is the same
 *  at every step, so its gradient sums the contributions of the steps of the window. With
 *  `backward_steps` = 0 the gradient is zero, except for `pop` = the input population: there
 *  it is c_r itself for any window (a_in = x), and no forward phase runs (nothing changes).
 *  Activation derivatives are those of btsp_net_loss_gradient().
 *
 *  Cost: one forward phase plus one reverse sweep per row; the sweep skips rows of the weight
 *  matrices whose gradient is exactly zero (silent units, units the cotangent does not reach).
 *
 *  State: as btsp_net_loss_gradient() (weights, biases, plateaus, traces and counters unchanged;
 *  activities overwritten as by btsp_net_forward(); a window longer than the network's
 *  ::BTSP_NET_BACKWARD_STEPS enlarges its history buffer on the first such call).
 *  @param net the network (finalized).
 *  @param x input sample, `nx` values.
 *  @param nx number of values in `x`; must equal the input population's size.
 *  @param pop a population of `net` whose final activity is differentiated.
 *  @param cot cotangents, row-major `m` x `n`.
 *  @param m number of cotangent rows (>= 1).
 *  @param n values per cotangent row; must equal the size of `pop`.
 *  @param backward_steps length of the truncated window in integration steps.
 *  @param[out] grad receives the gradients, row-major `m` x `nx` (caller-owned).
 *  @param n_grad number of values in `grad`; must equal `m` * `nx`.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_STATE, ::BTSP_E_SHAPE or ::BTSP_E_NOMEM
 *  (nothing changed). @since 0.2 */
BTSP_API btsp_status btsp_net_input_gradient(btsp_net *net, const float *x, size_t nx, const btsp_pop *pop,
                                             const float *cot, size_t m, size_t n, unsigned backward_steps,
                                             float *grad, size_t n_grad);
/** @brief Apply bounds and constraints to every projection and bias now (as after a training
 *  step). Useful after btsp_proj_set_weights(). @since 0.1 */
BTSP_API btsp_status btsp_net_constrain(btsp_net *net);
/** @brief Reset as selected by `flags` (OR of ::btsp_reset_flags). @since 0.1 */
BTSP_API btsp_status btsp_net_reset(btsp_net *net, unsigned flags);
/** @brief Number of training samples since finalize or the last state reset. @since 0.1 */
BTSP_API uint64_t btsp_net_sample_count(const btsp_net *net);

/** @name State images (checkpoint and resume)
 *  A state image is a byte string holding everything a finalized network changes while it
 *  trains: every projection's weights (with whether btsp_proj_set_weights() wrote them since
 *  the last constraint pass), every bias, the BTSP rules' traces of the previous sample, the
 *  Supervised_BCM thresholds, the seed, the sample counter, the stochastic gates' draw counter
 *  and the last loss, plus the populations' state after the last sample (activities, forward
 *  snapshot, dendritic states, plateaus, nudges), and the receptive-field corners of
 *  projections that have them (loading replaces the drawn ones). Training resumed from an image gives
 *  bitwise the same weights as training that never stopped (same samples in the same order);
 *  images are little-endian with a checksum, so they move between machines, and the results
 *  on them are as platform-independent as the library's (see btsp_net_seed()).
 *
 *  An image does not hold parameters (learning rates, time constants, bounds, gate settings)
 *  or monitors: load it into a network built the same way (the same config) and finalized.
 *  A network of another structure (population names or sizes, projections, rules) is refused;
 *  one that differs only in parameters accepts it and trains on with its own parameters, but
 *  with the image's seed (loading replaces the seed btsp_net_seed() set).
 *  Files: btsp_io_save_state() / btsp_io_load_state() in btsp_io.h.
 *  @{ */
/** @brief Size in bytes of the network's state image (0 if `net` is NULL or not finalized).
 *  Constant for a finalized network. @since 0.2 */
BTSP_API size_t btsp_net_state_size(const btsp_net *net);
/** @brief Write the network's state image into `buf`. The network is not changed.
 *  @param net the network (finalized).
 *  @param buf caller-owned buffer of `size` bytes.
 *  @param size at least btsp_net_state_size().
 *  @param[out] written NULL, or receives the image's size (0 on failure).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_STATE (not finalized) or ::BTSP_E_SHAPE
 *  (buffer too small; nothing written). @since 0.2 */
BTSP_API btsp_status btsp_net_save_state(btsp_net *net, void *buf, size_t size, size_t *written);
/** @brief Restore the state saved by btsp_net_save_state(), replacing the network's weights,
 *  biases, traces, seed, sample counter, gate draw counter, last loss, population state and
 *  receptive-field corners.
 *  Everything is checked before anything is written: on failure the network is unchanged.
 *  @param net the network (finalized; built like the one that saved the image).
 *  @param buf the image.
 *  @param size its size in bytes (exactly the image: trailing bytes are refused).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_STATE (not finalized), ::BTSP_E_FORMAT
 *  (not an image, truncated, trailing bytes, checksum mismatch, a receptive-field corner outside
 *  its image), ::BTSP_E_UNSUPPORTED (another
 *  image format version) or ::BTSP_E_SHAPE (an image of another network structure).
 *  @since 0.2 */
BTSP_API btsp_status btsp_net_load_state(btsp_net *net, const void *buf, size_t size);
/** @} */
/** @brief Loss (mean squared error of the output) of the last training sample. @since 0.1 */
BTSP_API double btsp_net_last_loss(const btsp_net *net);
/** @brief Bytes currently allocated by the network. @since 0.1 */
BTSP_API size_t btsp_net_memory_bytes(const btsp_net *net);

/** @brief The input population (first population of the first layer), NULL if none. @since 0.1 */
BTSP_API btsp_pop *btsp_net_input(const btsp_net *net);
/** @brief The output population (flagged with BTSP_POP_OUTPUT, else the first population of the
 *  last layer when there are at least two layers: the input layer is never the output by
 *  default), NULL if none. @since 0.1 */
BTSP_API btsp_pop *btsp_net_output(const btsp_net *net);
/** @brief Number of layers. @since 0.1 */
BTSP_API size_t btsp_net_layer_count(const btsp_net *net);
/** @brief Layer i in bottom-up order, NULL if out of range. @since 0.1 */
BTSP_API btsp_layer *btsp_net_layer_at(const btsp_net *net, size_t i);
/** @brief Number of populations in all layers. @since 0.1 */
BTSP_API size_t btsp_net_pop_count(const btsp_net *net);
/** @brief Population i in sweep order (layer order, then order within the layer), NULL if out
 *  of range. @since 0.1 */
BTSP_API btsp_pop *btsp_net_pop_at(const btsp_net *net, size_t i);
/** @brief Number of projections. @since 0.1 */
BTSP_API size_t btsp_net_proj_count(const btsp_net *net);
/** @brief Projection i in creation order, NULL if out of range. @since 0.1 */
BTSP_API btsp_proj *btsp_net_proj_at(const btsp_net *net, size_t i);
/** @brief Find a population by "Layer.Pop" name. @return ::BTSP_OK or ::BTSP_E_NOT_FOUND. @since 0.1 */
BTSP_API btsp_status btsp_net_find_pop(const btsp_net *net, const char *name, btsp_pop **out);
/** @brief Find a projection by name "<postLayer><postPop>_<preLayer><prePop>", e.g. "H1E_InputE".
 *  @since 0.1 */
BTSP_API btsp_status btsp_net_find_proj(const btsp_net *net, const char *name, btsp_proj **out);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Layers and populations
 *  @{ */

/** Population parameters (btsp_pop_set(), btsp_pop_get()). */
typedef enum btsp_pop_param {
    /** Time constant, steps; default the network's BTSP_NET_TAU; bounds [1, 1e6]. Before finalize. */
    BTSP_POP_TAU = 200,
    /** 1: the population has a bias vector; default 0. Before finalize. */
    BTSP_POP_INCLUDE_BIAS = 201,
    /** Lower bias bound: a float or -inf; default -inf. Any time (after finalize the bias is
     *  clamped at once). */
    BTSP_POP_BIAS_LO = 202,
    /** Upper bias bound: a float or +inf; default +inf. Any time (after finalize the bias is
     *  clamped at once). */
    BTSP_POP_BIAS_HI = 203,
    /** 1: this is the network's output population; default 0. Before finalize. */
    BTSP_POP_OUTPUT = 204
} btsp_pop_param;

/** @brief Append a layer (bottom-up order). Names are unique, 1-63 bytes, without '.', '/', '\\' or
 *  control characters (names become file names, e.g. of saved weights).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_EXISTS, ::BTSP_E_STATE, ::BTSP_E_NOMEM. @since 0.1 */
BTSP_API btsp_status btsp_layer_add(btsp_net *net, const char *name, btsp_layer **out);
/** @brief Layer name (owned by the layer). @since 0.1 */
BTSP_API const char *btsp_layer_name(const btsp_layer *layer);
/** @brief Number of populations in the layer. @since 0.1 */
BTSP_API size_t btsp_layer_pop_count(const btsp_layer *layer);
/** @brief Population i of the layer, NULL if out of range. @since 0.1 */
BTSP_API btsp_pop *btsp_layer_pop_at(const btsp_layer *layer, size_t i);

/** @brief Append a population of `size` rate units (1 to 2^24) to a layer (linear activation,
 *  no bias). Names are unique within the layer, 1-63 bytes, with the
 *  same character rules as layer names.
 *  @since 0.1 */
BTSP_API btsp_status btsp_pop_add(btsp_layer *layer, const char *name, size_t size, btsp_pop **out);
/** @brief Set the activation function; p0, p1 as documented for ::btsp_activation (ignored by
 *  functions without parameters). Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_pop_set_activation(btsp_pop *pop, btsp_activation act, double p0, double p1);
/** @brief Set a population parameter. @since 0.1 */
BTSP_API btsp_status btsp_pop_set(btsp_pop *pop, btsp_pop_param param, double value);
/** @brief Read a population parameter. @since 0.1 */
BTSP_API btsp_status btsp_pop_get(const btsp_pop *pop, btsp_pop_param param, double *value);
/** @brief Bias initialisation (default: ::BTSP_INIT_SCALED_KAIMING with scale 1 and the total
 *  fan-in of all incoming projections, where a projection with receptive fields and an
 *  initialisation other than ::BTSP_INIT_DEFAULT_LINEAR counts its patch, see
 *  btsp_proj_set_receptive_fields()). Implies BTSP_POP_INCLUDE_BIAS = 1. Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_pop_set_bias_init(btsp_pop *pop, btsp_init init, double a, double b);
/** @brief Copy `n` = size values into the bias. @pre finalized, bias included. @since 0.1 */
BTSP_API btsp_status btsp_pop_set_bias(btsp_pop *pop, const float *bias, size_t n);
/** @brief Attach a bias rule (e.g. ::BTSP_RULE_DENDRITIC_LOSS_BIAS); implies a bias. @since 0.1 */
BTSP_API btsp_status btsp_pop_set_bias_rule(btsp_pop *pop, btsp_rule *rule);
/** @brief Population size. @since 0.1 */
BTSP_API size_t btsp_pop_size(const btsp_pop *pop);
/** @brief Population name within its layer (e.g. "E"). @since 0.1 */
BTSP_API const char *btsp_pop_name(const btsp_pop *pop);
/** @brief Full name "Layer.Pop" (e.g. "H1.E"). @since 0.1 */
BTSP_API const char *btsp_pop_full_name(const btsp_pop *pop);
/** @brief The layer containing the population. @since 0.1 */
BTSP_API btsp_layer *btsp_pop_layer(const btsp_pop *pop);
/** @brief Borrow a state vector (valid until destroy; contents change with every run call).
 *  @param pop the population.
 *  @param var the variable (::BTSP_VAR_ACTIVITY ... ::BTSP_VAR_BIAS).
 *  @param[out] data receives a pointer to `*n` floats. @pre finalized.
 *  @param[out] n receives the number of floats (the population size).
 *  @return ::BTSP_OK, ::BTSP_E_NOT_FOUND (e.g. dendritic variable of a population without
 *  dendrite), ::BTSP_E_STATE. @since 0.1 */
BTSP_API btsp_status btsp_pop_state(const btsp_pop *pop, btsp_var var, const float **data, size_t *n);
/** @brief Copy a state vector into dst (`n` must equal the population size). @since 0.1 */
BTSP_API btsp_status btsp_pop_copy_state(const btsp_pop *pop, btsp_var var, float *dst, size_t n);
/** @brief The gate attached to the population, or NULL. @since 0.1 */
BTSP_API btsp_gate *btsp_pop_gate(const btsp_pop *pop);
/** @brief The population's dendritic compartment, created on first call. Before finalize it is
 *  created; after finalize ::BTSP_E_NOT_FOUND if it does not exist. @since 0.1 */
BTSP_API btsp_status btsp_pop_dend(btsp_pop *pop, btsp_dend **out);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Dendritic compartments
 *  The dendritic state of a population is the sum of its dendrite-targeting projections. It
 *  does not drive the soma directly: a feedback gate turns it into plateaus (instructive
 *  signals) and nudges.
 *  @{ */

/** Dendrite parameters. */
typedef enum btsp_dend_param {
    /** The backward dendritic state is clipped to [-clip, clip]; default 1, bounds (0, 1e6]. Any time. */
    BTSP_DEND_CLIP = 300
} btsp_dend_param;

/** @brief Set a dendrite parameter. @since 0.1 */
BTSP_API btsp_status btsp_dend_set(btsp_dend *dend, btsp_dend_param param, double value);
/** @brief Read a dendrite parameter. @since 0.1 */
BTSP_API btsp_status btsp_dend_get(const btsp_dend *dend, btsp_dend_param param, double *value);
/** @brief The population owning the dendrite. @since 0.1 */
BTSP_API btsp_pop *btsp_dend_pop(const btsp_dend *dend);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Projections
 *  @{ */

/** @brief Connect pre -> post with a dense weight matrix of shape size(post) x size(pre),
 *  delivered to post's soma or dendrite (the dendrite is created if needed). Defaults:
 *  forward direction, forward phase, no bounds, ::BTSP_INIT_DEFAULT_LINEAR, no constraint, no
 *  rule (fixed weights). Both populations must belong to the same network; at most one
 *  projection per (pre, post) pair.
 *  @since 0.1 */
BTSP_API btsp_status btsp_proj_add(btsp_pop *pre, btsp_pop *post, btsp_compartment comp, btsp_proj **out);
/** @brief Set the direction (before finalize). @since 0.1 */
BTSP_API btsp_status btsp_proj_set_direction(btsp_proj *proj, btsp_direction dir);
/** @brief Set the update phase (before finalize). @since 0.1 */
BTSP_API btsp_status btsp_proj_set_phase(btsp_proj *proj, btsp_phase phase);
/** @brief Weight bounds, applied after init and after every update (Dale's law: lo = 0 for
 *  excitatory, hi = 0 for inhibitory presynaptic populations). lo = -inf and hi = +inf mean
 *  unbounded; otherwise each must be a float (|x| <= FLT_MAX); lo <= hi. Any time; after finalize the weights are clamped to the new bounds at once (and
 *  clones of this projection re-derived). Weights are float32 and are clamped to the floats
 *  nearest to lo and hi (as torch.clamp does in EIANN), so a weight at a bound that is not a
 *  float, e.g. 1e-3, can lie outside [lo, hi] by half a float32 ulp. As in EIANN, clamping
 *  comes first and the constraints follow: a normalisation (btsp_proj_set_normalize())
 *  rescales rows, which keeps every sign (so Dale's law) but not a non-zero bound, and
 *  btsp_proj_set_no_autapses() zeroes the diagonal and btsp_proj_set_receptive_fields() every
 *  weight outside a unit's field even if 0 is outside the bounds; a clone
 *  (btsp_proj_set_clone()) is not clamped. @since 0.1 */
BTSP_API btsp_status btsp_proj_set_bounds(btsp_proj *proj, double lo, double hi);
/** @brief Read the weight bounds. @since 0.1 */
BTSP_API btsp_status btsp_proj_get_bounds(const btsp_proj *proj, double *lo, double *hi);
/** @brief Initialisation scheme and its arguments (see ::btsp_init). Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_proj_set_init(btsp_proj *proj, btsp_init init, double a, double b);
/** @brief Constraint: after clamping, rescale every non-zero row to L1 norm `scale` (> 0);
 *  with allow_autapses = 0 and pre == post the diagonal is zeroed first. Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_proj_set_normalize(btsp_proj *proj, double scale, int allow_autapses);
/** @brief Constraint: zero the diagonal (pre == post required). Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_proj_set_no_autapses(btsp_proj *proj);
/** @brief Constraint: W = scale * W_source (transposed if `transpose`), re-derived after every
 *  step after all other constraints; the cloned projection cannot have a rule. Shapes must
 *  match. Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_proj_set_clone(btsp_proj *proj, const btsp_proj *source, double scale, int transpose);
/** @brief Constraint: a fixed square receptive field per post unit (EIANN's
 *  `receptive_field_mask`, used for local-receptive-field experiments). The presynaptic
 *  population is read as a `channels` x `height` x `width` image (channel-major, then
 *  row-major: a flattened C x H x W array, so 1 x 28 x 28 for MNIST); channels * height * width
 *  must equal its size (::BTSP_E_SHAPE otherwise) and 1 <= side <= min(height, width)
 *  (::BTSP_E_RANGE).
 *
 *  At initialisation (finalize, and btsp_net_reset() with ::BTSP_RESET_WEIGHTS) every post unit
 *  draws the top-left pixel of a side x side patch, uniformly over the (height - side + 1) x
 *  (width - side + 1) positions; all channels share it. With ::BTSP_INIT_RNG_TORCH the draws are
 *  EIANN's (torch.randint, row then column per unit, after all initial weights and biases, in
 *  the order EIANN's first constraint pass meets the projections), so the fields equal
 *  EIANN's for the same seed; otherwise they come from the network's seed (own stream). Read
 *  them with btsp_proj_receptive_field(); state images keep them. Every initialisation scheme
 *  except ::BTSP_INIT_DEFAULT_LINEAR sees the patch's fan-in, side x side x channels, instead of
 *  the presynaptic size (EIANN: 81 for 9 x 9 on MNIST, not 784), and so does the population's
 *  bias initialisation in its total fan-in.
 *
 *  After clamping to the bounds, every weight outside its unit's patch is multiplied by 0 (see
 *  btsp_k_rf_mask()); then, if norm_scale > 0, every non-zero row is rescaled to L1 norm
 *  norm_scale as btsp_proj_set_normalize() does (EIANN's `apply_weight_norm` with `scale`;
 *  the diagonal is zeroed first if pre == post). norm_scale = 0: no normalisation. Weights
 *  written with btsp_proj_set_weights() (or btsp_io_load_weights()) are masked at the next
 *  constraint pass like any others. Before finalize.
 *  @return ::BTSP_E_SHAPE (image size), ::BTSP_E_RANGE (side; norm_scale negative or not
 *  finite), ::BTSP_E_EXISTS (another constraint), ::BTSP_E_STATE (finalized). @since 0.2 */
BTSP_API btsp_status btsp_proj_set_receptive_fields(btsp_proj *proj, size_t side, size_t channels, size_t height,
                                                    size_t width, double norm_scale);
/** @brief Read what btsp_proj_set_receptive_fields() set (any output may be NULL).
 *  @return ::BTSP_E_STATE if the projection has no receptive fields (outputs 0). @since 0.2 */
BTSP_API btsp_status btsp_proj_get_receptive_fields(const btsp_proj *proj, size_t *side, size_t *channels,
                                                    size_t *height, size_t *width, double *norm_scale);
/** @brief Top-left pixel (image row, image column) of post unit `unit`'s receptive field.
 *  @return ::BTSP_E_STATE if the projection has no receptive fields or the network is not
 *  finalized (the fields are drawn at finalize), ::BTSP_E_RANGE for a unit out of range; the
 *  outputs are 0 on any error. @since 0.2 */
BTSP_API btsp_status btsp_proj_receptive_field(const btsp_proj *proj, size_t unit, size_t *row, size_t *col);
/** @brief Attach a plasticity rule (each rule serves one projection). Before finalize.
 *  @return ::BTSP_E_EXISTS if the rule or projection already has one. @since 0.1 */
BTSP_API btsp_status btsp_proj_set_rule(btsp_proj *proj, btsp_rule *rule);
/** @brief The attached rule or NULL. @since 0.1 */
BTSP_API btsp_rule *btsp_proj_rule(const btsp_proj *proj);
/** @brief Borrow the weights (row-major post x pre, valid until destroy). @pre finalized. @since 0.1 */
BTSP_API btsp_status btsp_proj_weights(const btsp_proj *proj, const float **w, size_t *rows, size_t *cols);
/** @brief Copy weights in (rows x cols must match; values must be finite). No bounds or
 *  constraint is applied (call btsp_net_constrain()). @pre finalized. @since 0.1 */
BTSP_API btsp_status btsp_proj_set_weights(btsp_proj *proj, const float *w, size_t rows, size_t cols);
/** @brief Copy weights out into a rows x cols buffer. @since 0.1 */
BTSP_API btsp_status btsp_proj_copy_weights(const btsp_proj *proj, float *w, size_t rows, size_t cols);
/** @brief Name "<postLayer><postPop>_<preLayer><prePop>" (owned by the projection). @since 0.1 */
BTSP_API const char *btsp_proj_name(const btsp_proj *proj);
/** @brief Presynaptic population. @since 0.1 */
BTSP_API btsp_pop *btsp_proj_pre(const btsp_proj *proj);
/** @brief Postsynaptic population. @since 0.1 */
BTSP_API btsp_pop *btsp_proj_post(const btsp_proj *proj);
/** @brief Target compartment. @since 0.1 */
BTSP_API btsp_compartment btsp_proj_compartment(const btsp_proj *proj);
/** @brief Direction (btsp_proj_set_direction()); ::BTSP_DIR_FORWARD for NULL. @since 0.2 */
BTSP_API btsp_direction btsp_proj_direction(const btsp_proj *proj);
/** @brief Update phase (btsp_proj_set_phase()); ::BTSP_PHASE_FORWARD for NULL. @since 0.2 */
BTSP_API btsp_phase btsp_proj_phase(const btsp_proj *proj);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Plasticity rules
 *  @{ */

/** Rule kinds. Numbers are fixed; every kind below is implemented. */
typedef enum btsp_rule_kind {
    /** BTSP with weight-dependent potentiation/depression and two-sample eligibility /
     *  instructive traces (EIANN "BTSP_19"). Needs a gate on the post population. */
    BTSP_RULE_BTSP = 1,
    /** dW = sign * lr * clip(d_fwd_post, -1, 1) x clip(a_fwd_pre, 0, 1) ("DendriticLoss_6"). */
    BTSP_RULE_DENDRITIC_LOSS = 2,
    /** dW = sign * lr * a_fwd_post x a_fwd_pre (forward_only) ("Hebb_WeightNorm"). */
    BTSP_RULE_HEBB_WEIGHTNORM = 3,
    /** Learned top-down weights: dB = lr * clip(a_post,0,1) x clip(a_pre - a_fwd_pre, -1, 1)
     *  ("Top_Down_Hebbian_Temporal_Contrast_3"). */
    BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST = 4,
    /** Bias rule: b += lr * plateau ("DendriticLossBias"). */
    BTSP_RULE_DENDRITIC_LOSS_BIAS = 5,
    /** Gradient descent ("Backprop"): W -= lr * dL/dW with L = mean((a_out(T) - target)^2), the
     *  gradient taken through the last ::BTSP_NET_BACKWARD_STEPS integration steps of the forward
     *  phase (truncated backpropagation through time; the state entering that window is a
     *  constant), then the usual bounds and constraints (projected gradient, e.g. Dale's law).
     *  One gradient per sample serves every such rule; needs BTSP_NET_BACKWARD_STEPS >= 1. */
    BTSP_RULE_BACKPROP = 20,
    /** The same for a population's bias ("BackpropBias"; a bias rule). */
    BTSP_RULE_BACKPROP_BIAS = 21,
    /** Dendritic target propagation with forward rates ("BP_like_2E"; used with
     *  ::BTSP_BACKWARD_SINGLE): dW = lr * P_post x clip(a_fwd_pre, 0, 1). Needs a gate on the
     *  post population. */
    BTSP_RULE_DTP_2E = 22,
    /** Dendritic target propagation after settling ("BP_like_2L"; ::BTSP_BACKWARD_SETTLE):
     *  dW = lr * P_post x clip(a_pre, 0, 1), post-backward pre rates (forward rates with
     *  ::BTSP_RULE_FORWARD_ONLY). Needs a gate on the post population. */
    BTSP_RULE_DTP_2L = 23,
    /** The same update for the output population only ("Top_Layer_BP_like_2L";
     *  ::BTSP_BACKWARD_OUTPUT_ONLY): dW = lr * P_out x clip(a_pre, 0, 1). Needs a gate. */
    BTSP_RULE_TOP_LAYER_DTP = 24,
    /** Contrastive Hebb ("Hebbian_Temporal_Contrast"): dW = lr * (clip(a_post) x clip(a_pre) -
     *  clip(a_fwd_post) x clip(a_fwd_pre)), clip to [0, 1]; with ::BTSP_RULE_RELU_GATE the
     *  post-backward post rate counts as 0 where the clipped forward rate is 0. */
    BTSP_RULE_HEBB_TEMPORAL_CONTRAST = 25,
    /** Learned top-down weights ("Top_Down_Hebbian_Temporal_Contrast_1"): with
     *  ::BTSP_RULE_FORWARD_ONLY dB = lr * clip(a_fwd_post, 0, 1) x clip(a_pre - a_fwd_pre, -1, 1),
     *  otherwise dB = lr * (clip(a_post) x clip(a_pre) - clip(a_fwd_post) x clip(a_fwd_pre)). */
    BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1 = 26,
    /** Supervised BCM ("Supervised_BCM_4"): dW = sign * lr * (y * (y - theta)) x clip(x, 0, 1)
     *  with post-backward rates (y unclipped); after every step theta += (y^2 / k - theta) /
     *  theta_tau. theta (one per post unit) starts at k (finalize and btsp_net_reset()). */
    BTSP_RULE_SUPERVISED_BCM = 27,
    /** Bounded Hebb ("Hebb_WeightNorm_4"): dW = sign * lr * clip(a_post, 0, 1) x clip(a_pre, 0, 1),
     *  current rates (forward-phase rates with ::BTSP_RULE_FORWARD_ONLY). */
    BTSP_RULE_HEBB_WEIGHTNORM_4 = 28,
    /** Oja's rule ("Ojas_rule"): dW = lr * (y x - y^2 W) with y = clip(a_post, 0, 1),
     *  x = clip(a_pre, 0, 1) (forward-phase rates with ::BTSP_RULE_FORWARD_ONLY). */
    BTSP_RULE_OJA = 29,
    /** Local gradient descent ("Backprop_DendriticLoss"): W -= lr * dL_S/dW with
     *  L_S = mean(d_fwd_S^2), the forward dendritic state of a source population S set with
     *  btsp_rule_set_source() (typically on the inputs of dendrite-targeting interneurons),
     *  through the same truncated window as ::BTSP_RULE_BACKPROP; one loss per distinct source. */
    BTSP_RULE_BACKPROP_DENDRITIC_LOSS = 30
} btsp_rule_kind;

/** Rule parameters. Each kind accepts a subset (others give ::BTSP_E_INVALID_ARG). Any time. */
typedef enum btsp_rule_param {
    /** Learning rate; default the network's BTSP_NET_LEARNING_RATE at finalize; bounds [0, 1e6]. */
    BTSP_RULE_LEARNING_RATE = 400,
    /** Sign of the update (+1 or -1); default +1. DENDRITIC_LOSS, HEBB_WEIGHTNORM, HEBB_WEIGHTNORM_4, SUPERVISED_BCM. */
    BTSP_RULE_SIGN = 401,
    /** BTSP depression ratio rho; default 1; bounds [0, 1e6]. */
    BTSP_RULE_DEP_RATIO = 402,
    /** BTSP depression threshold th of q; default 0.01; bounds [0, 1]. */
    BTSP_RULE_DEP_TH = 403,
    /** BTSP depression width (peak = th + width); default 0.01; bounds (0, 1]. */
    BTSP_RULE_DEP_WIDTH = 404,
    /** BTSP temporal discount delta of the adjacent-sample traces; default 0.25; bounds [0, 1]. */
    BTSP_RULE_TEMPORAL_DISCOUNT = 405,
    /** 1: use forward-phase rates; default 1 for HEBB_WEIGHTNORM, else 0. HEBB_WEIGHTNORM,
     *  HEBB_WEIGHTNORM_4, DTP_2L, TOPDOWN_TEMPORAL_CONTRAST_1, OJA. */
    BTSP_RULE_FORWARD_ONLY = 406,
    /** BTSP w_max used by the kernel; default: the projection's upper bound, or 2 if unbounded;
     *  bounds [0, 1e6]. */
    BTSP_RULE_W_MAX = 407,
    /** BCM threshold time constant, samples; default 1; bounds [1, 1e9]. SUPERVISED_BCM. */
    BTSP_RULE_THETA_TAU = 408,
    /** BCM threshold scale k (theta tracks a^2 / k and starts at k); default 1; bounds
     *  [1e-9, 1e9]. A change takes effect on theta at the next finalize or state reset.
     *  SUPERVISED_BCM. */
    BTSP_RULE_THETA_K = 409,
    /** 1: units whose clipped forward rate is 0 count as silent in the post-backward term;
     *  default 1; 0 or 1. HEBB_TEMPORAL_CONTRAST. (The relu gate of plateau selection is a gate
     *  parameter, ::BTSP_GATE_RELU_GATE.) @since 0.1 */
    BTSP_RULE_RELU_GATE = 410
} btsp_rule_param;

/** @brief Create a rule of the given kind with default parameters. @since 0.1 */
BTSP_API btsp_status btsp_rule_create(btsp_net *net, btsp_rule_kind kind, btsp_rule **out);
/** @brief Set a rule parameter. @return ::BTSP_E_INVALID_ARG if the kind has no such parameter,
 *  ::BTSP_E_RANGE if out of bounds. @since 0.1 */
BTSP_API btsp_status btsp_rule_set(btsp_rule *rule, btsp_rule_param param, double value);
/** @brief Read a rule parameter. @since 0.1 */
BTSP_API btsp_status btsp_rule_get(const btsp_rule *rule, btsp_rule_param param, double *value);
/** @brief The rule's kind. @since 0.1 */
BTSP_API btsp_rule_kind btsp_rule_get_kind(const btsp_rule *rule);
/** @brief Static name of a kind, e.g. "BTSP_19" (the EIANN class name), NULL if unknown. @since 0.1 */
BTSP_API const char *btsp_rule_kind_name(btsp_rule_kind kind);
/** @brief Look a kind up by its EIANN class name. @return ::BTSP_E_NOT_FOUND if unknown. @since 0.1 */
BTSP_API btsp_status btsp_rule_kind_from_name(const char *name, btsp_rule_kind *kind);
/** @brief Enable (1) or freeze (0) a rule; default enabled. Any time. @since 0.1 */
BTSP_API btsp_status btsp_rule_enable(btsp_rule *rule, int enabled);
/** @brief Set the source population of a ::BTSP_RULE_BACKPROP_DENDRITIC_LOSS rule: the rule
 *  minimises the mean square of that population's forward dendritic state (EIANN's `source`
 *  kwarg, e.g. "H1.E"). Required for that kind; the source must have a dendritic compartment
 *  (checked at finalize). Before finalize.
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG (NULL, other kind, other network), ::BTSP_E_STATE.
 *  @since 0.1 */
BTSP_API btsp_status btsp_rule_set_source(btsp_rule *rule, btsp_pop *source);
/** @brief The source population of a ::BTSP_RULE_BACKPROP_DENDRITIC_LOSS rule, or NULL. @since 0.1 */
BTSP_API btsp_pop *btsp_rule_source(const btsp_rule *rule);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Feedback gates
 *  A gate decides, at the start of the backward phase, which units of its population get a
 *  plateau and how large it is, from the top-down (dendritic) signal or from the target.
 *  @{ */

/** Gate kinds. */
typedef enum btsp_gate_kind {
    /** Plateau from the population's dendritic state d (clipped to [-1, 1]); positive and
     *  negative candidates selected as described for the parameters. */
    BTSP_GATE_DENDRITIC = 1,
    /** Plateau = clip(target - a_fwd, -1, 1) (output population). */
    BTSP_GATE_TARGET = 2
} btsp_gate_kind;

/** Gate parameters. Any time. A ::BTSP_GATE_TARGET gate uses only ::BTSP_GATE_RELU_GATE (the
 *  output error is never truncated or thresholded, as in the reference). */
typedef enum btsp_gate_param {
    /** At most ceil(fraction * n) positive and as many negative plateaus; default 1; bounds [0, 1]. */
    BTSP_GATE_MAX_POP_FRACTION = 500,
    /** 1: candidates by Bernoulli(|e|) draws from the network RNG; 0: largest |e|; default 0. */
    BTSP_GATE_STOCHASTIC = 501,
    /** Units with forward rate <= this get no plateau value; -inf disables; default -inf. */
    BTSP_GATE_NEG_RATE_TH = 502,
    /** 1: units silent in the forward phase (rate exactly 0) get no plateau; default 1. */
    BTSP_GATE_RELU_GATE = 503
} btsp_gate_param;

/** @brief Create a gate. @since 0.1 */
BTSP_API btsp_status btsp_gate_create(btsp_net *net, btsp_gate_kind kind, btsp_gate **out);
/** @brief Set a gate parameter. @since 0.1 */
BTSP_API btsp_status btsp_gate_set(btsp_gate *gate, btsp_gate_param param, double value);
/** @brief Read a gate parameter. @since 0.1 */
BTSP_API btsp_status btsp_gate_get(const btsp_gate *gate, btsp_gate_param param, double *value);
/** @brief Attach the gate to a population (one gate per population, one population per gate).
 *  A ::BTSP_GATE_DENDRITIC gate needs a dendrite on the population. Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_gate_attach(btsp_gate *gate, btsp_pop *pop);
/** @brief The gate's kind. @since 0.1 */
BTSP_API btsp_gate_kind btsp_gate_get_kind(const btsp_gate *gate);
/** @brief The population the gate is attached to, or NULL. @since 0.1 */
BTSP_API btsp_pop *btsp_gate_pop(const btsp_gate *gate);
/** @} */

/* ------------------------------------------------------------------------------------------ */
/** @name Monitors
 *  A monitor records one variable every `stride` training samples into a buffer allocated at
 *  finalize (`capacity` records). Recording never changes learning. When full, further records
 *  are counted as dropped.
 *  @{ */

/** @brief Record a population variable (::BTSP_VAR_ACTIVITY ... ::BTSP_VAR_BIAS). Before finalize;
 *  finalize fails with ::BTSP_E_STATE if the population lacks the variable (plateaus and nudges
 *  need a gate, dendritic states a dendrite, the bias BTSP_POP_INCLUDE_BIAS).
 *  @since 0.1 */
BTSP_API btsp_status btsp_monitor_add_pop(btsp_pop *pop, btsp_var var, uint32_t stride,
                                          size_t capacity, btsp_monitor **out);
/** @brief Record a projection's weights (::BTSP_VAR_WEIGHTS). Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_monitor_add_proj(btsp_proj *proj, uint32_t stride, size_t capacity,
                                           btsp_monitor **out);
/** @brief Record the per-sample loss (::BTSP_VAR_LOSS). Before finalize. @since 0.1 */
BTSP_API btsp_status btsp_monitor_add_loss(btsp_net *net, uint32_t stride, size_t capacity,
                                           btsp_monitor **out);
/** @brief Borrow the records: `*n_records` rows of `*width` floats, row-major; `steps`
 *  (optional, may be NULL) receives the sample count (1-based) of each record. @since 0.1 */
BTSP_API btsp_status btsp_monitor_data(const btsp_monitor *mon, const float **data, size_t *n_records,
                                       size_t *width, const uint64_t **steps);
/** @brief Records that did not fit. @since 0.1 */
BTSP_API uint64_t btsp_monitor_dropped(const btsp_monitor *mon);
/** @brief Forget every record. @since 0.1 */
BTSP_API btsp_status btsp_monitor_clear(btsp_monitor *mon);
/** @} */

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BTSP_BTSP_H */
