/**
 * @file btsp_config.h
 * @brief Build a libbtsp network from an EIANN network-configuration YAML file (libbtsp_io).
 *
 * The loader reads the YAML files published with EIANN (`EIANN/network_config/...`, shipped
 * unchanged in `configs/eiann/`) and turns them into calls of the public API of btsp.h. The
 * network is built but NOT finalized, so the caller can still choose a seed
 * (btsp_net_seed()), add monitors, change parameters, and then call btsp_net_finalize().
 * The loader never prints and has no global state; it is part of the `btsp_io` library
 * (needs libyaml).
 *
 * @section cfg_format File format
 * A mapping with the keys `layer_config` (required), `projection_config` (required) and
 * `training_kwargs` (optional; missing means EIANN's defaults tau 1, forward_steps 1,
 * backward_steps 1 and libbtsp's default learning rate). Any other top-level key is an error.
 * Numbers may be integers or floats, `.inf`, `-.inf`; `null`, `~`, an empty value and the
 * plain word `None` mean "no value". The tags `!!python/tuple` and `!!python/list` mark
 * ordinary sequences. Mapping keys must be unique (PyYAML would silently keep the last one).
 *
 * @subsection cfg_layers layer_config
 * `Layer: {Pop: {attrs}}` in bottom-up order. Layers become btsp_layer_add() calls and
 * populations btsp_pop_add() calls, in YAML order; the first population of the first layer
 * is the input population (it takes only `size`; `output_pop: false` is tolerated). At least
 * two layers are needed.
 * Population keys:
 * | key | meaning / mapping |
 * |---|---|
 * | `size` (required) | positive integer, btsp_pop_add() |
 * | `activation` | `linear` (default) ::BTSP_ACT_LINEAR, `relu`, `sigmoid`, `softplus`, `tanh`, `softmax`; `srelu` -> ::BTSP_ACT_CLAMP with `activation_kwargs` `min` (0), `max` (1); `polynomial` -> ::BTSP_ACT_POLY with `a` (1), `n` (2). Other names: ::BTSP_E_UNSUPPORTED |
 * | `activation_kwargs` | only for srelu / polynomial, keys as listed |
 * | `tau` | ::BTSP_POP_TAU (null: the network's tau) |
 * | `include_bias` | ::BTSP_POP_INCLUDE_BIAS |
 * | `bias_init` + `bias_init_args` | null: the library default (scaled Kaiming over the total fan-in); `scaled_kaiming` (scale), `half_kaiming` (scale; EIANN itself rejects it for biases), `uniform_` (a = 0, b = 1), `zero_`, `fill_` (value) -> btsp_pop_set_bias_init() |
 * | `bias` | simplified form `'uniform(a,b)'`: include_bias plus bias_init `uniform_` with those args |
 * | `bias_bounds` | (lo, hi), null = unbounded -> ::BTSP_POP_BIAS_LO / ::BTSP_POP_BIAS_HI |
 * | `bias_learning_rule` + `_kwargs` | `DendriticLossBias`, `Backprop`/`BackpropBias` -> btsp_rule_create() + btsp_pop_set_bias_rule() |
 * | `output_pop` | true -> ::BTSP_POP_OUTPUT (at most one population) |
 * | `population_type` | `default` only; Conv2D / MaxPool2D / Flatten -> ::BTSP_E_UNSUPPORTED |
 * | `custom_update` + `_kwargs` | null only (EIANN does not implement it) |
 * bias_init, bias_init_args or bias_bounds on a population without a bias (no `include_bias:
 * true`, no bias rule) are rejected because EIANN would silently ignore them.
 *
 * @subsection cfg_projs projection_config
 * Nested form `PostLayer: {PostPop: {PreLayer: {PrePop: {attrs}}}}` or EIANN's simplified form
 * `"PostLayer.PostPop": {"PreLayer.PrePop": {attrs}}` (a key containing a dot; both forms may
 * be mixed). Each entry becomes btsp_proj_add() in file order. Attributes:
 * | key | meaning / mapping |
 * |---|---|
 * | `weight_init` + `weight_init_args` | absent/null: ::BTSP_INIT_DEFAULT_LINEAR; `half_kaiming` -> ::BTSP_INIT_HALF_KAIMING, a = first arg (1), needs bounds with lo >= 0 or hi <= 0; `scaled_kaiming` -> ::BTSP_INIT_SCALED_KAIMING (scale, 1); `uniform_` -> ::BTSP_INIT_UNIFORM (a 0, b 1); `zero_`, `fill_` -> ::BTSP_INIT_CONSTANT; `clone`/`clone_weight` with a mapping of clone_weight kwargs as args -> the clone constraint below. A single number is accepted as a one-element tuple. Args without weight_init are an error (as in EIANN). |
 * | `weight_bounds` | (lo, hi), null = -inf / +inf -> btsp_proj_set_bounds() |
 * | `type` | simplified form: `E`/`exc`/`excitatory` = bounds (0, null), `I`/`inh`/`inhibitory` = (null, 0); not together with weight_bounds |
 * | `weight_constraint` + `_kwargs` | `normalize_weight` (scale required, autapses false, axis must be 1) -> btsp_proj_set_normalize(); `no_autapses` (pre must be post) -> btsp_proj_set_no_autapses(); `clone_weight` (source required, sign 1, scale 1, transpose false; source2 -> ::BTSP_E_UNSUPPORTED) -> btsp_proj_set_clone() with scale = sign * scale; `receptive_field_mask` (receptive_field_size required; image_dims [H, W] = 1 x H x W or [C, H, W], default [28, 28]; apply_weight_norm with a positive `scale`, which is refused without it) -> btsp_proj_set_receptive_fields() with norm_scale = scale or 0 |
 * | `direction` | `F`/`forward` (default) ::BTSP_DIR_FORWARD, `R`/`recurrent` ::BTSP_DIR_RECURRENT |
 * | `compartment` | null/`soma` (default) ::BTSP_SOMA, `dend` ::BTSP_DEND; `dendrite` is rejected (see choices) |
 * | `update_phase` | `F`/`forward` (default), `B`/`backward`, `A`/`all` |
 * | `learning_rule` + `_kwargs` | ABSENT means `Backprop` (EIANN's default); explicit null means fixed weights; otherwise an EIANN class name |
 * The clone `source` is `"PostLayer.PostPop.PreLayer.PrePop"` (post first) or a projection
 * name such as `"H2E_H1E"`; it may name a projection declared later in the file. Shapes are
 * checked (source transposed if `transpose`). A cloned projection may not have a rule.
 *
 * @subsection cfg_rules Learning rules
 * Names are EIANN class names, mapped with btsp_rule_kind_from_name(); an unknown name is
 * ::BTSP_E_FORMAT; every rule below is implemented. Accepted kwargs per rule (EIANN
 * constructor defaults in parentheses; any other kwarg is an error):
 * | rule | kwargs |
 * |---|---|
 * | BTSP_19 | learning_rate, dep_ratio (1), dep_th (0.01), dep_width (0.01), temporal_discount (0.25); gate: max_pop_fraction (1), stochastic (false), neg_rate_th (null), relu_gate (true) |
 * | BP_like_2E | learning_rate; gate: max_pop_fraction (1), stochastic (false), relu_gate (false) |
 * | BP_like_2L | learning_rate, forward_only (false); gate: max_pop_fraction (1), stochastic (false), relu_gate (false) |
 * | Hebbian_Temporal_Contrast | learning_rate; gate: max_pop_fraction (1), stochastic (false), relu_gate (true) |
 * | Supervised_BCM_4 | theta_tau (required), k (required), sign (1), learning_rate; gate: max_pop_fraction (0.025), stochastic (false), relu_gate (false) |
 * | Top_Layer_BP_like_2L | learning_rate; gate: relu_gate (true) |
 * | DendriticLoss_6 | sign (1), learning_rate |
 * | Hebb_WeightNorm, Hebb_WeightNorm_4 | sign (1), learning_rate, forward_only (false) |
 * | Top_Down_Hebbian_Temporal_Contrast_1, Ojas_rule | learning_rate, forward_only (false) |
 * | Top_Down_Hebbian_Temporal_Contrast_3, Backprop | learning_rate |
 * | Backprop_DendriticLoss | learning_rate, source (required: the "Layer.Pop" whose forward dendritic state is the local loss) |
 * | DendriticLossBias, Backprop/BackpropBias (bias rules) | learning_rate |
 * Mapping: learning_rate -> ::BTSP_RULE_LEARNING_RATE (null: the network rate), sign ->
 * ::BTSP_RULE_SIGN, dep_ratio / dep_th / dep_width / temporal_discount -> the BTSP_RULE_DEP_* /
 * ::BTSP_RULE_TEMPORAL_DISCOUNT, forward_only -> ::BTSP_RULE_FORWARD_ONLY (always set for the
 * rules that take it, because EIANN's default false differs from the library default of
 * Hebb_WeightNorm), theta_tau -> ::BTSP_RULE_THETA_TAU, k -> ::BTSP_RULE_THETA_K. relu_gate
 * configures the gate (below); for Hebbian_Temporal_Contrast it is also the rule's own
 * ::BTSP_RULE_RELU_GATE (EIANN uses it in that rule's update too). Booleans are true/false
 * (or 0/1).
 *
 * @subsection cfg_gates Gates and backward mode
 * The rules BTSP_19, BP_like_2E, BP_like_2L, Hebbian_Temporal_Contrast, Supervised_BCM_4 and
 * Top_Layer_BP_like_2L select plateaus. Every population receiving a projection with one of
 * them gets a gate (btsp_gate_create() + btsp_gate_attach()), configured from the gate kwargs
 * of the FIRST such projection into it (EIANN's iteration order: grouped by presynaptic layer in
 * order of first appearance, then file order); the gate kwargs of later projections into the
 * same population are ignored, as in EIANN. The output population gets ::BTSP_GATE_TARGET
 * (only ::BTSP_GATE_RELU_GATE is set), any other population ::BTSP_GATE_DENDRITIC with
 * ::BTSP_GATE_MAX_POP_FRACTION, ::BTSP_GATE_STOCHASTIC, ::BTSP_GATE_RELU_GATE and
 * ::BTSP_GATE_NEG_RATE_TH (null = -inf) and must have at least one `compartment: dend`
 * projection (EIANN would fail on the missing dendritic state). The backward mode
 * (btsp_net_set_backward()) is ::BTSP_BACKWARD_SETTLE for BTSP_19, BP_like_2L,
 * Hebbian_Temporal_Contrast and Supervised_BCM_4, ::BTSP_BACKWARD_SINGLE for BP_like_2E,
 * ::BTSP_BACKWARD_OUTPUT_ONLY for Top_Layer_BP_like_2L, ::BTSP_BACKWARD_NONE otherwise; two
 * different modes in one file are an error, and so is one population receiving plateau rules of
 * two different classes.
 *
 * @subsection cfg_train training_kwargs
 * `tau` -> ::BTSP_NET_TAU, `forward_steps` -> ::BTSP_NET_FORWARD_STEPS, `backward_steps` ->
 * ::BTSP_NET_BACKWARD_STEPS, `learning_rate` -> ::BTSP_NET_LEARNING_RATE (null: not set);
 * these are set before any population is added. `optimizer`: `SGD` or null (other optimizers
 * ::BTSP_E_UNSUPPORTED); `optimizer_kwargs` and `criterion_kwargs`: empty or null;
 * `criterion`: `MSELoss`; `seed`, `device`, `verbose`: accepted and ignored (the seed of a
 * libbtsp network is chosen by the caller with btsp_net_seed()). Any other key is an error.
 *
 * @section cfg_errors Errors
 * On any failure `*out` is NULL, nothing is leaked, and `err` (if not NULL and errlen > 0)
 * holds one line, truncated to errlen - 1 characters:
 * `FILE:LINE:COL: CONTEXT: key 'KEY': PROBLEM`, for example
 * `cfg.yaml:47:21: projection H1.E <- Input.E: key 'learning_rule': unknown learning_rule 'BTSP_99'`.
 * Line and column are 1-based and point at the offending YAML node. Contexts are
 * `population L.P`, `projection Post <- Pre`, `layer L`, `training_kwargs`, `layer_config`,
 * `projection_config`. When a btsp_* call fails, the message names the call, its status and
 * btsp_net_errmsg(). Statuses: ::BTSP_E_IO (file unreadable), ::BTSP_E_FORMAT (YAML syntax,
 * unknown or malformed key, wrong type, unknown name, inconsistent structure),
 * ::BTSP_E_UNSUPPORTED (valid for EIANN, not implemented by libbtsp), ::BTSP_E_NOMEM,
 * ::BTSP_E_INVALID_ARG (NULL arguments), or the status returned by a failing btsp_* call
 * (e.g. ::BTSP_E_RANGE for a parameter out of the library's bounds).
 *
 * @section cfg_choices Choices where EIANN is ambiguous or silent
 * - `compartment: dendrite` is rejected: EIANN's validator accepts it but only `dend` is summed
 *   into dendritic states, so such a projection would silently do nothing (eiann-model.md §9.8).
 * - Keys that EIANN would silently ignore are rejected rather than ignored: bias settings
 *   without a bias, extra keys on the input population, learning_rule_kwargs with a null rule,
 *   weight_constraint_kwargs without a constraint, `no_autapses` between two different
 *   populations, unknown `type` values, Top_Layer_BP_like_2L into a non-output population.
 * - More than one `output_pop: true` is an error (EIANN keeps the last).
 * - Plain `None` is read as null everywhere (EIANN's simplified form converts it; in the nested
 *   form PyYAML would pass the string). Quoted scalars are always strings, so `size: "10"` is
 *   an error. Numbers are parsed like C (`1e-3` is a number, PyYAML would read a string),
 *   except that an integer with a leading zero (`010`, YAML 1.1's octal 8 for PyYAML) is not a
 *   number at all, so it is refused where one is expected rather than read as 10.
 *   libyaml cannot tell an explicit `!!str` from an untagged plain scalar, so `!!str 5` reads
 *   as the number 5.
 * - `weight_init: clone` is mapped onto the (re-applied every step) clone constraint; EIANN
 *   clones only once at init, which differs only if the projection learns, and a cloned
 *   projection may not have a rule here.
 * - `optimizer: null` and a missing `training_kwargs` are accepted.
 * - The seed in the file is ignored: results of libbtsp depend on btsp_net_seed() only.
 */
#ifndef BTSP_BTSP_CONFIG_H
#define BTSP_BTSP_CONFIG_H

#include <stddef.h>

#include "btsp/btsp.h"
#include "btsp/btsp_io.h" /* BTSP_IO_API */

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Build (but do not finalize) a network from an EIANN YAML configuration file.
 *  @param path file to read (its name is used in error messages).
 *  @param alloc allocator for the network and the loader's own memory (copied), or NULL for
 *         malloc/free. libyaml's internal buffers always use malloc.
 *  @param[out] out receives the network (destroy with btsp_net_destroy()); NULL on failure.
 *  @param err buffer for a one-line message on failure ("" on success); may be NULL.
 *  @param errlen size of err in bytes (0 allowed).
 *  @return ::BTSP_OK, ::BTSP_E_INVALID_ARG, ::BTSP_E_IO, ::BTSP_E_FORMAT,
 *          ::BTSP_E_UNSUPPORTED, ::BTSP_E_NOMEM or the status of a failing btsp_* call.
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_config_load(const char *path, const btsp_allocator *alloc, btsp_net **out,
                                         char *err, size_t errlen);

/** @brief Same as btsp_config_load() for YAML text in memory.
 *  @param yaml_text the text (need not be NUL-terminated).
 *  @param len length of yaml_text in bytes.
 *  @param name_for_errors name used in messages in place of a file name; NULL gives "<string>".
 *  @param alloc allocator or NULL for malloc/free.
 *  @param[out] out receives the network; NULL on failure.
 *  @param err message buffer (may be NULL).
 *  @param errlen size of err in bytes.
 *  @return as btsp_config_load() (never ::BTSP_E_IO).
 *  @since 0.1 */
BTSP_IO_API btsp_status btsp_config_load_string(const char *yaml_text, size_t len, const char *name_for_errors,
                                    const btsp_allocator *alloc, btsp_net **out, char *err,
                                    size_t errlen);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BTSP_BTSP_CONFIG_H */
