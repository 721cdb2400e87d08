/* The simulation engine: finalize (validation, allocation, initialisation), the forward phase,
 * the forward-state snapshot, the backward (nudged) phase with plateau selection, a training
 * step, batched evaluation, constraints and reset.
 *
 * The dynamics follow the EIANN reference (docs/model.md; eiann-model.md sections 2-3):
 *  forward:  reset u = b, a = f(b); then T times: snapshot prev = a for every population, and
 *            sweep layers bottom-up, populations in order: I = b + sum of somatic projections
 *            active in the forward phase (W * a_pre for forward, W * prev_pre for recurrent
 *            ones), u += (I - u) / tau, a = f(u) (computed as u + ((-u + b) + sum) / tau).
 *  backward: T times, layers top-down: dendritic state, plateau selection at the first step,
 *            prev = a for the layer, then re-integration of the populations with backward
 *            projections (and the output) with every somatic projection and a = f(u + nudge)
 *            (SETTLE: BTSP_19, BP_like_2L and the rules sharing its backward phase). SINGLE
 *            (BP_like_2E): one top-down pass, a = f(u + nudge) without integration. OUTPUT_ONLY
 *            (Top_Layer_BP_like_2L): T re-integration steps of the output's layer only.
 * No function called from btsp_net_train_sample or btsp_net_evaluate allocates memory. */
#include "internal.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Allocation of state at finalize */

static void free_ptr(btsp_net *net, void *pp)
{
    float **p = pp;
    btsp__net_free(net, *p);
    *p = NULL;
}

void btsp__engine_free_state(btsp_net *net)
{
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        free_ptr(net, &p->u);
        free_ptr(net, &p->a);
        free_ptr(net, &p->prev);
        free_ptr(net, &p->fwd_a);
        free_ptr(net, &p->fwd_prev);
        free_ptr(net, &p->bias);
        free_ptr(net, &p->input);
        free_ptr(net, &p->plateau);
        free_ptr(net, &p->nudge);
        btsp__net_free(net, p->sel_idx);
        p->sel_idx = NULL;
        free_ptr(net, &p->bu);
        free_ptr(net, &p->ba);
        free_ptr(net, &p->bprev);
        free_ptr(net, &p->binput);
        if (p->dend) {
            free_ptr(net, &p->dend->fwd_state);
            free_ptr(net, &p->dend->state);
        }
    }
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        free_ptr(net, &q->W);
        free_ptr(net, &q->cache);
        free_ptr(net, &q->bcache);
        btsp__net_free(net, q->rf_corner);
        q->rf_corner = NULL;
    }
    for (size_t i = 0; i < net->rules.n; i++) {
        btsp_rule *r = net->rules.items[i];
        free_ptr(net, &r->past_pre);
        free_ptr(net, &r->past_plateau);
        free_ptr(net, &r->theta);
        btsp__net_free(net, r->touched);
        r->touched = NULL;
    }
    for (size_t i = 0; i < net->mons.n; i++) {
        btsp_monitor *m = net->mons.items[i];
        free_ptr(net, &m->data);
        btsp__net_free(net, m->steps);
        m->steps = NULL;
        m->n = 0;
    }
    free_ptr(net, &net->target);
    free_ptr(net, &net->work);
    btsp__backprop_free(net);
    net->block_cap = 0;
}

static int alloc_floats(btsp_net *net, float **dst, size_t n)
{
    *dst = btsp__net_calloc(net, n, sizeof(float));
    return *dst != NULL;
}

/* rows x cols floats; fails (like an allocation failure) if the count overflows size_t. */
static int alloc_floats2(btsp_net *net, float **dst, size_t rows, size_t cols)
{
    *dst = NULL;
    if (cols != 0 && rows > SIZE_MAX / sizeof(float) / cols)
        return 0;
    return alloc_floats(net, dst, rows * cols);
}

static btsp_status allocate_state(btsp_net *net)
{
    size_t max_size = 1;
    size_t blk = net->eval_block;
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        size_t n = p->size;
        if (n > max_size)
            max_size = n;
        if (!alloc_floats(net, &p->u, n) || !alloc_floats(net, &p->a, n) || !alloc_floats(net, &p->prev, n) ||
            !alloc_floats(net, &p->fwd_a, n) || !alloc_floats(net, &p->fwd_prev, n) ||
            !alloc_floats(net, &p->input, n) || !alloc_floats2(net, &p->bu, blk, n) ||
            !alloc_floats2(net, &p->ba, blk, n) || !alloc_floats2(net, &p->bprev, blk, n) ||
            !alloc_floats2(net, &p->binput, blk, n))
            return BTSP_E_NOMEM;
        if (p->include_bias && !alloc_floats(net, &p->bias, n))
            return BTSP_E_NOMEM;
        if (p->gate) {
            if (!alloc_floats(net, &p->plateau, n) || !alloc_floats(net, &p->nudge, n))
                return BTSP_E_NOMEM;
            if (!(p->sel_idx = btsp__net_calloc(net, n, sizeof(int))))
                return BTSP_E_NOMEM;
        }
        if (p->dend && (!alloc_floats(net, &p->dend->fwd_state, n) || !alloc_floats(net, &p->dend->state, n)))
            return BTSP_E_NOMEM;
    }
    btsp_pop *in = net->input;
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        if (!alloc_floats2(net, &q->W, q->rows, q->cols))
            return BTSP_E_NOMEM;
        if (q->pre == in && (!alloc_floats(net, &q->cache, q->rows) || !alloc_floats2(net, &q->bcache, blk, q->rows)))
            return BTSP_E_NOMEM;
        if (q->constraint == CONSTRAINT_RF &&
            !(q->rf_corner = btsp__net_calloc(net, q->rows ? 2 * q->rows : 1, sizeof *q->rf_corner)))
            return BTSP_E_NOMEM;
    }
    for (size_t i = 0; i < net->rules.n; i++) {
        btsp_rule *r = net->rules.items[i];
        if (r->kind == BTSP_RULE_BTSP && r->proj &&
            (!alloc_floats(net, &r->past_pre, r->proj->cols) || !alloc_floats(net, &r->past_plateau, r->proj->rows) ||
             !(r->touched = btsp__net_calloc(net, r->proj->rows ? r->proj->rows : 1, sizeof *r->touched))))
            return BTSP_E_NOMEM;
        if (r->kind == BTSP_RULE_SUPERVISED_BCM && r->proj && !alloc_floats(net, &r->theta, r->proj->rows))
            return BTSP_E_NOMEM;
    }
    for (size_t i = 0; i < net->mons.n; i++)
        if (btsp__monitor_finalize(net, net->mons.items[i]))
            return BTSP_E_NOMEM;
    if (!alloc_floats(net, &net->target, net->output->size) || !alloc_floats2(net, &net->work, 6, max_size))
        return BTSP_E_NOMEM;
    if (btsp__backprop_alloc(net))
        return BTSP_E_NOMEM;
    net->block_cap = blk;
    net->max_pop = max_size;
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation */

static btsp_status validate(btsp_net *net)
{
    if (net->layers.n < 2)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: need an input layer and at least one more layer");
    for (size_t i = 0; i < net->layers.n; i++) {
        btsp_layer *l = net->layers.items[i];
        if (l->pops.n == 0)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: layer '%s' has no population", l->name);
    }
    btsp_layer *first = net->layers.items[0];
    if (first->pops.n != 1)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: the input layer '%s' must hold exactly one population",
                         first->name);
    net->input = first->pops.items[0];
    net->output = btsp_net_output(net);
    if (net->output == net->input)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: the output population cannot be the input");
    if (net->input->in.n)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: the input population '%s' cannot receive projections",
                         net->input->full_name);
    if (net->input->include_bias || net->input->gate || net->input->dend)
        return btsp__net_error(net, BTSP_E_STATE,
                         "btsp_net_finalize: the input population cannot have a bias, a gate or a dendrite");
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        if (q->init == BTSP_INIT_HALF_KAIMING && !(q->lo >= 0.0) && !(q->hi <= 0.0))
            return btsp__net_error(net, BTSP_E_STATE,
                             "btsp_net_finalize: '%s' uses half-Kaiming init, which needs bounds with lo >= 0 or "
                             "hi <= 0 (got [%g, %g])",
                             q->name, q->lo, q->hi);
    }
    for (size_t i = 0; i < net->rules.n; i++) {
        btsp_rule *r = net->rules.items[i];
        if (!r->proj && !r->bias_pop)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: a '%s' rule is not attached to anything",
                             btsp_rule_kind_name(r->kind));
        btsp_pop *post = r->proj ? r->proj->post : r->bias_pop;
        /* rules that read the post population's plateau */
        int needs_gate = r->kind == BTSP_RULE_BTSP || r->kind == BTSP_RULE_DENDRITIC_LOSS_BIAS ||
                         r->kind == BTSP_RULE_DTP_2E || r->kind == BTSP_RULE_DTP_2L ||
                         r->kind == BTSP_RULE_TOP_LAYER_DTP;
        if (needs_gate && (!post->gate || net->backward == BTSP_BACKWARD_NONE))
            return btsp__net_error(net, BTSP_E_STATE,
                             "btsp_net_finalize: rule '%s' on '%s' needs a gate on '%s' and a backward phase",
                             btsp_rule_kind_name(r->kind), r->proj ? r->proj->name : post->full_name, post->full_name);
        if (r->kind == BTSP_RULE_DENDRITIC_LOSS && !post->dend)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: rule '%s' on '%s' needs a dendrite on '%s'",
                             btsp_rule_kind_name(r->kind), r->proj->name, post->full_name);
    }
    for (size_t i = 0; i < net->mons.n; i++) {
        btsp_monitor *m = net->mons.items[i];
        if (m->pop && (m->var == BTSP_VAR_PLATEAU || m->var == BTSP_VAR_NUDGE) && !m->pop->gate)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: monitor of plateaus on '%s', which has no gate",
                             m->pop->full_name);
        if (m->pop && (m->var == BTSP_VAR_FORWARD_DEND || m->var == BTSP_VAR_DEND_STATE) && !m->pop->dend)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: monitor of a dendritic state on '%s', which has "
                             "no dendrite", m->pop->full_name);
        if (m->pop && m->var == BTSP_VAR_BIAS && !m->pop->include_bias)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: monitor of the bias of '%s', which has none",
                             m->pop->full_name);
    }
    for (size_t i = 0; i < net->gates.n; i++) {
        btsp_gate *g = net->gates.items[i];
        if (!g->pop)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: a gate is not attached to a population");
        if (g->kind == BTSP_GATE_DENDRITIC && !g->pop->dend)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: dendritic gate on '%s', which has no dendrite",
                             g->pop->full_name);
        if (g->kind == BTSP_GATE_TARGET && g->pop != net->output)
            return btsp__net_error(net, BTSP_E_STATE,
                             "btsp_net_finalize: target gate on '%s', which is not the output population '%s'",
                             g->pop->full_name, net->output->full_name);
    }
    return BTSP_OK;
}

btsp_status btsp_net_finalize(btsp_net *net)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_finalize: already finalized");
    btsp_status st = validate(net);
    if (!st)
        st = btsp__backprop_validate(net);
    if (st)
        return st;
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        if (!p->tau_set)
            p->tau = net->tau;
        p->has_backward = 0;
        for (size_t j = 0; j < p->in.n; j++) {
            btsp_proj *q = p->in.items[j];
            if (q->phase != BTSP_PHASE_FORWARD)
                p->has_backward = 1;
        }
    }
    if (allocate_state(net)) {
        btsp__engine_free_state(net);
        return btsp__net_error(net, BTSP_E_NOMEM, "btsp_net_finalize: out of memory allocating network state");
    }
    for (size_t i = 0; i < net->rules.n; i++) {
        btsp_rule *r = net->rules.items[i];
        if (!r->lr_set)
            r->lr = net->lr;
    }
    net->finalized = 1;
    btsp__engine_init_params(net);
    btsp__engine_reset_state(net);
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Initialisation and constraints */

/* Source of the initial values: libbtsp's counter-based stream (seed, stream of the object,
 * element index) or, with BTSP_INIT_RNG_TORCH, PyTorch's sequential generator `torch`. */
typedef struct filler {
    btsp_k_mt19937 *torch;
    uint64_t seed, stream;
} filler;

/* x[0..n) uniform in [lo, hi). Torch: float32 uniform_(lo, hi), the double bounds converted to
 * float first as torch converts its arguments. */
static void fill_uniform(const filler *f, float *x, size_t n, double lo, double hi)
{
    if (f->torch) {
        const float a = (float)lo, b = (float)hi;
        for (size_t i = 0; i < n; i++)
            x[i] = btsp_k_torch_uniform(f->torch, a, b);
    } else {
        for (size_t i = 0; i < n; i++)
            x[i] = (float)(lo + (hi - lo) * btsp_k_rand_uniform(f->seed, f->stream, i));
    }
}

/* Fill x (n values, fan-in `fan_in`) by scheme `init` with arguments a, b and sign bounds lo, hi.
 * The Kaiming bound is 1 / sqrt(fan_in) in double (EIANN's weight_inits.py); for a fan-in of 0
 * it is 0 with torch's draws, as EIANN's, and 1 with the counter-based ones. With torch's draws
 * BTSP_INIT_DEFAULT_LINEAR keeps the values drawn at construction (init_params_torch). */
static void init_values(const filler *f, float *x, size_t n, size_t fan_in, btsp_init init, double a, double b,
                        double lo, double hi)
{
    double k = fan_in ? 1.0 / sqrt((double)fan_in) : f->torch ? 0.0 : 1.0;
    switch (init) {
    case BTSP_INIT_NONE:
        memset(x, 0, n * sizeof *x);
        break;
    case BTSP_INIT_HALF_KAIMING:
        if (lo >= 0.0)
            fill_uniform(f, x, n, lo, a * k);
        else
            fill_uniform(f, x, n, -a * k, hi);
        break;
    case BTSP_INIT_SCALED_KAIMING:
        fill_uniform(f, x, n, -a * k, a * k);
        break;
    case BTSP_INIT_UNIFORM:
        fill_uniform(f, x, n, a, b);
        break;
    case BTSP_INIT_DEFAULT_LINEAR:
        if (!f->torch)
            fill_uniform(f, x, n, -k, k);
        break;
    case BTSP_INIT_CONSTANT:
        for (size_t i = 0; i < n; i++)
            x[i] = (float)a;
        break;
    }
}

/* The fan-in the initialisation schemes of projection q see: its columns, except that with
 * receptive fields an initialised projection's units see side x side x channels inputs (EIANN's
 * init_weights_and_biases; also what the population's bias initialisation sums). */
static size_t init_fan_in(const btsp_proj *q)
{
    if (q->constraint == CONSTRAINT_RF && q->init != BTSP_INIT_DEFAULT_LINEAR)
        return q->rf_side * q->rf_side * q->rf_ch;
    return q->cols;
}

/* Receptive-field corners of every projection with CONSTRAINT_RF: per unit the top-left row, then
 * column, uniform over the height - side + 1 and width - side + 1 positions. Torch: EIANN draws
 * them when its first constraint pass meets the projection (right after the initial weights; per
 * population in sweep order, incoming projections in creation order, as this loop), each with
 * torch.randint(0, n, (1,)), i.e. one 32-bit mt19937 output modulo n. Counter-based:
 * floor(u * n) of the projection's own stream. */
static void draw_rf_corners(btsp_net *net, btsp_k_mt19937 *torch)
{
    for (size_t i = 0; i < net->pops.n; i++) {
        const btsp_pop *p = net->pops.items[i];
        for (size_t j = 0; j < p->in.n; j++) {
            btsp_proj *q = p->in.items[j];
            if (q->constraint != CONSTRAINT_RF)
                continue;
            const uint64_t n[2] = {q->rf_h - q->rf_side + 1, q->rf_w - q->rf_side + 1};
            for (size_t k = 0; k < 2 * q->rows; k++) {
                const uint64_t m = n[k & 1];
                uint64_t v;
                if (torch) {
                    v = btsp_k_mt19937_next(torch) % m;
                } else {
                    v = (uint64_t)(btsp_k_rand_uniform(net->seed, BTSP_STREAM_RF + q->index, k) * (double)m);
                    if (v >= m) /* u * m may round up to m for u just below 1 */
                        v = m - 1;
                }
                q->rf_corner[k] = (uint32_t)v;
            }
        }
    }
}

/* EIANN's sequence of draws (BTSP_INIT_RNG_TORCH in btsp.h): nn.Linear construction of every
 * projection in creation order, then per population (sweep order) its incoming projections'
 * initialisations in creation order and its bias. */
static void init_params_torch(btsp_net *net)
{
    btsp_k_mt19937 g;
    btsp_k_mt19937_seed(&g, net->seed);
    const filler f = {&g, 0, 0};
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        /* kaiming_uniform_(W, a = sqrt(5)): gain = sqrt(2 / (1 + a^2)), bound = sqrt(3) gain / sqrt(fan_in) */
        const double a = sqrt(5.0), gain = sqrt(2.0 / (1.0 + a * a));
        const double bound = sqrt(3.0) * (gain / sqrt((double)q->cols));
        fill_uniform(&f, q->W, q->rows * q->cols, -bound, bound);
    }
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        size_t fan_in = 0;
        for (size_t j = 0; j < p->in.n; j++) {
            btsp_proj *q = p->in.items[j];
            init_values(&f, q->W, q->rows * q->cols, init_fan_in(q), q->init, q->init_a, q->init_b, q->lo, q->hi);
            fan_in += init_fan_in(q);
        }
        if (p->bias && p->bias_init == BTSP_INIT_DEFAULT_LINEAR) /* no construction draw: 0 */
            memset(p->bias, 0, p->size * sizeof *p->bias);
        else if (p->bias)
            init_values(&f, p->bias, p->size, fan_in, p->bias_init, p->bias_a, p->bias_b, p->bias_lo, p->bias_hi);
    }
    draw_rf_corners(net, &g);
    for (size_t i = 0; i < net->projs.n; i++)
        ((btsp_proj *)net->projs.items[i])->cache_valid = 0;
    btsp__engine_constrain(net, 1);
}

void btsp__engine_init_params(btsp_net *net)
{
    if (net->init_rng == BTSP_INIT_RNG_TORCH) {
        init_params_torch(net);
        return;
    }
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        const filler f = {NULL, net->seed, BTSP_STREAM_WEIGHTS + i};
        init_values(&f, q->W, q->rows * q->cols, init_fan_in(q), q->init, q->init_a, q->init_b, q->lo, q->hi);
        q->cache_valid = 0;
    }
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        if (!p->bias)
            continue;
        size_t fan_in = 0; /* every incoming projection counts, dendritic ones included */
        for (size_t j = 0; j < p->in.n; j++)
            fan_in += init_fan_in(p->in.items[j]);
        const filler f = {NULL, net->seed, BTSP_STREAM_BIAS + i};
        init_values(&f, p->bias, p->size, fan_in, p->bias_init, p->bias_a, p->bias_b, p->bias_lo, p->bias_hi);
    }
    draw_rf_corners(net, NULL);
    btsp__engine_constrain(net, 1);
}

/* 1 if q's constraint ends with the row L1 normalisation (btsp_proj_set_normalize(), or
 * receptive fields with a norm scale): it rewrites every row. */
static int normalises_rows(const btsp_proj *q)
{
    return q->constraint == CONSTRAINT_NORMALIZE || (q->constraint == CONSTRAINT_RF && q->norm_scale > 0.0);
}

/* The BTSP rule that alone changed projection q's weights in the last training step, if its
 * record of touched rows is complete: q is learned by an enabled BTSP rule, has no row
 * normalisation (which rewrites every row) and was not written by btsp_proj_set_weights() since
 * the last constraint pass (whose values may lie anywhere). NULL otherwise. The kernel clamps
 * the rows it updates to the projection's bounds, so q needs no clamping pass either. */
static const btsp_rule *btsp_rows_only(const btsp_proj *q)
{
    const btsp_rule *r = q->rule;
    return r && r->enabled && r->kind == BTSP_RULE_BTSP && r->touched && !normalises_rows(q) && !q->user_set ? r
                                                                                                           : NULL;
}

/* Clone q from its source. `rows` (may be NULL: everything) lists the only source rows that
 * changed since the clone was last derived. */
static void apply_clone_rows(btsp_proj *q, const btsp_rule *rows)
{
    const btsp_proj *s = q->clone_src;
    float c = (float)q->clone_scale;
    if (rows) {
        for (size_t k = 0; k < rows->n_touched; k++) {
            size_t r = rows->touched[k];
            if (q->clone_transpose) /* source row r is clone column r */
                for (size_t i = 0; i < q->rows; i++)
                    q->W[i * q->cols + r] = c * s->W[r * s->cols + i];
            else
                for (size_t j = 0; j < q->cols; j++)
                    q->W[r * q->cols + j] = c * s->W[r * s->cols + j];
        }
        return;
    }
    if (q->clone_transpose) {
        for (size_t i = 0; i < q->rows; i++)
            for (size_t j = 0; j < q->cols; j++)
                q->W[i * q->cols + j] = c * s->W[j * s->cols + i];
    } else {
        for (size_t i = 0; i < q->rows * q->cols; i++)
            q->W[i] = c * s->W[i];
    }
}

/* 1 if a training step may have changed this projection's weights (an enabled rule). */
static int learns(const btsp_proj *q)
{
    return q->rule && q->rule->enabled;
}

/* Bounds and constraints, in the reference order: per population, clamp the bias, then for
 * every incoming projection clamp W and apply its own constraint; afterwards derive all clones
 * (clones are not clamped again). With all = 0 (after a training step) only weights a rule may
 * have changed are visited: clamping and constraining unchanged weights again is idempotent
 * (they were constrained at initialisation; weights the caller writes with
 * btsp_proj_set_weights() are constrained only by btsp_net_constrain(), as btsp.h documents, or
 * for learned projections by the next step), and skipping them saves a pass over every fixed
 * matrix per sample. Within learned projections the same holds per row (btsp_rows_only). */
void btsp__engine_constrain(btsp_net *net, int all)
{
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        if (p->bias && (all || (p->bias_rule && p->bias_rule->enabled)))
            btsp_k_clip(p->size, p->bias, (float)p->bias_lo, (float)p->bias_hi);
        for (size_t j = 0; j < p->in.n; j++) {
            btsp_proj *q = p->in.items[j];
            if (q->constraint == CONSTRAINT_CLONE || !(all || learns(q)))
                continue;
            /* skip rows without plateaus: after a BTSP step only the rows it updated changed,
             * and it clamped them itself (bit for bit what this pass would do) */
            const btsp_rule *rows = all ? NULL : btsp_rows_only(q);
            if (!rows)
                btsp_k_clip_matrix(q->rows, q->cols, q->W, q->cols, (float)q->lo, (float)q->hi);
            if (q->constraint == CONSTRAINT_NO_AUTAPSES)
                btsp_k_zero_diag(q->rows, q->W, q->cols);
            else if (q->constraint == CONSTRAINT_RF) {
                /* EIANN: W *= mask, then normalize_weight(scale) if apply_weight_norm (below).
                 * Without the normalisation a BTSP step changed only its touched rows, and
                 * masking the others again changes no bit. */
                if (rows)
                    for (size_t k = 0; k < rows->n_touched; k++) {
                        const size_t row = rows->touched[k];
                        btsp_k_rf_mask(1, q->W + row * q->cols, q->cols, q->rf_corner + 2 * row, q->rf_side,
                                       q->rf_ch, q->rf_h, q->rf_w);
                    }
                else
                    btsp_k_rf_mask(q->rows, q->W, q->cols, q->rf_corner, q->rf_side, q->rf_ch, q->rf_h, q->rf_w);
            }
            if (normalises_rows(q)) /* receptive fields set allow_autapses = 0 */
                btsp_k_row_l1_normalize(q->rows, q->cols, q->W, q->cols, (float)q->norm_scale,
                                        q->pre == q->post && !q->allow_autapses);
        }
    }
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        if (q->constraint == CONSTRAINT_CLONE && (all || learns(q->clone_src)))
            apply_clone_rows(q, all || q->user_set ? NULL : btsp_rows_only(q->clone_src));
        q->cache_valid = 0;
    }
    for (size_t i = 0; i < net->projs.n; i++)
        ((btsp_proj *)net->projs.items[i])->user_set = 0;
}

void btsp__engine_apply_bounds(btsp_net *net, btsp_proj *q)
{
    if (q->constraint != CONSTRAINT_CLONE)
        btsp_k_clip_matrix(q->rows, q->cols, q->W, q->cols, (float)q->lo, (float)q->hi);
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *c = net->projs.items[i];
        if (c->constraint == CONSTRAINT_CLONE && c->clone_src == q)
            apply_clone_rows(c, NULL);
        c->cache_valid = 0;
    }
}

btsp_status btsp_net_constrain(btsp_net *net)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_constrain: finalize the network first");
    btsp__engine_constrain(net, 1);
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Dynamics. A "view" selects the single-sample state (nb = 1) or the evaluation block. */

typedef struct view {
    int block; /* 0: single sample; 1: evaluation block */
    size_t nb; /* samples in the view */
} view;

static float *V_u(const btsp_pop *p, const view *v) { return v->block ? p->bu : p->u; }
static float *V_a(const btsp_pop *p, const view *v) { return v->block ? p->ba : p->a; }
static float *V_prev(const btsp_pop *p, const view *v) { return v->block ? p->bprev : p->prev; }
static float *V_in(const btsp_pop *p, const view *v) { return v->block ? p->binput : p->input; }

static void act_rows(const btsp_pop *p, size_t nb, const float *u, float *a)
{
    if (p->act == BTSP_ACT_SOFTMAX) {
        for (size_t b = 0; b < nb; b++)
            btsp_k_activation(p->act, p->act_p0, p->act_p1, p->size, u + b * p->size, a + b * p->size);
    } else {
        btsp_k_activation(p->act, p->act_p0, p->act_p1, nb * p->size, u, a);
    }
}

/* y (nb x rows) += W * pre-activity for projection q. Projections from the input population
 * use the per-sample cache of W * x (the input is constant within a sample). */
static void proj_accumulate(btsp_net *net, btsp_proj *q, const view *v, float *y)
{
    const btsp_pop *pre = q->pre;
    size_t nb = v->nb;
    if (pre == net->input) {
        float *cache = v->block ? q->bcache : q->cache;
        if (!q->cache_valid) {
            memset(cache, 0, nb * q->rows * sizeof *cache);
            if (nb == 1)
                btsp_k_matvec_acc(q->rows, q->cols, q->W, q->cols, V_a(pre, v), cache);
            else
                btsp_k_matmat_acc(q->rows, q->cols, nb, q->W, q->cols, V_a(pre, v), q->cols, cache, q->rows);
            q->cache_valid = 1;
        }
        for (size_t i = 0; i < nb * q->rows; i++)
            y[i] += cache[i];
        return;
    }
    const float *x = q->dir == BTSP_DIR_FORWARD ? V_a(pre, v) : V_prev(pre, v);
    if (nb == 1)
        btsp_k_matvec_acc(q->rows, q->cols, q->W, q->cols, x, y);
    else
        btsp_k_matmat_acc(q->rows, q->cols, nb, q->W, q->cols, x, q->cols, y, q->rows);
}

/* a = f(u + n) for a single-sample population: the nudge is instantaneous and never
 * integrated into u. Uses p->input as scratch (the summed drive is no longer needed). */
static void nudged_activity(btsp_pop *p)
{
    for (size_t i = 0; i < p->size; i++)
        p->input[i] = p->u[i] + p->nudge[i];
    act_rows(p, 1, p->input, p->a);
}

/* Integrate one population one step. backward = 1: every somatic projection counts and the
 * nudge (if any) enters the nonlinearity. */
static void integrate(btsp_net *net, btsp_pop *p, const view *v, int backward)
{
    size_t n = p->size, nb = v->nb;
    float *I = V_in(p, v);
    float *u = V_u(p, v), *a = V_a(p, v);
    /* The drive D = (-u + b) + W1 a1 + W2 a2 + ..., accumulated in this order (projection
     * order), then u += D / tau: the reference's association. Summing the inputs first and
     * subtracting u last, (b + sum) - u, is algebraically the same but rounds differently near
     * the fixed point, where -u and the inputs cancel; see docs/model.md. */
    for (size_t b = 0; b < nb; b++) {
        float *Ib = I + b * n;
        const float *ub = u + b * n;
        if (p->bias)
            for (size_t i = 0; i < n; i++)
                Ib[i] = -ub[i] + p->bias[i];
        else
            for (size_t i = 0; i < n; i++)
                Ib[i] = -ub[i] + 0.0f; /* + 0: -0 becomes +0, as in the reference's -u + b */
    }
    for (size_t j = 0; j < p->in.n; j++) {
        btsp_proj *q = p->in.items[j];
        if (q->comp != BTSP_SOMA)
            continue;
        if (!backward && q->phase == BTSP_PHASE_BACKWARD)
            continue;
        proj_accumulate(net, q, v, I);
    }
    for (size_t i = 0; i < nb * n; i++)
        u[i] = u[i] + I[i] / (float)p->tau;
    if (backward && p->nudge)
        nudged_activity(p);
    else
        act_rows(p, nb, u, a);
}

/* Backward phase, one step of one layer: every population stores prev = a, then those with
 * backward projections (and the output) integrate with all somatic inputs and their nudges;
 * the others keep their activity. */
static void settle_layer(btsp_net *net, btsp_layer *L, const view *v)
{
    for (size_t j = 0; j < L->pops.n; j++) {
        btsp_pop *p = L->pops.items[j];
        memcpy(p->prev, p->a, p->size * sizeof(float));
    }
    for (size_t j = 0; j < L->pops.n; j++) {
        btsp_pop *p = L->pops.items[j];
        if (p->has_backward || p == net->output)
            integrate(net, p, v, 1);
    }
}

static void forward_phase(btsp_net *net, const view *v, const float *x)
{
    size_t nb = v->nb;
    btsp_pop *in = net->input;
    memcpy(V_a(in, v), x, nb * in->size * sizeof *x);
    memcpy(V_prev(in, v), x, nb * in->size * sizeof *x);
    for (size_t i = 0; i < net->projs.n; i++)
        ((btsp_proj *)net->projs.items[i])->cache_valid = 0;
    for (size_t i = 1; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        float *u = V_u(p, v);
        if (p->bias) {
            for (size_t b = 0; b < nb; b++)
                memcpy(u + b * p->size, p->bias, p->size * sizeof *u);
        } else {
            memset(u, 0, nb * p->size * sizeof *u);
        }
        act_rows(p, nb, u, V_a(p, v));
    }
    if (!v->block)
        btsp__backprop_record(net, 0); /* u and a of the gradient window (no-op outside it) */
    size_t T = (size_t)net->forward_steps;
    for (size_t t = 0; t < T; t++) {
        for (size_t i = 1; i < net->pops.n; i++) {
            btsp_pop *p = net->pops.items[i];
            memcpy(V_prev(p, v), V_a(p, v), nb * p->size * sizeof(float));
        }
        for (size_t i = 1; i < net->pops.n; i++)
            integrate(net, net->pops.items[i], v, 0);
        if (!v->block)
            btsp__backprop_record(net, t + 1);
    }
}

/* Sum of the dendrite-targeting projections into `out` (reads a or prev per direction). */
static void dend_sum(btsp_net *net, btsp_pop *p, float *out)
{
    view v = {0, 1};
    memset(out, 0, p->size * sizeof *out);
    for (size_t j = 0; j < p->in.n; j++) {
        btsp_proj *q = p->in.items[j];
        if (q->comp == BTSP_DEND)
            proj_accumulate(net, q, &v, out);
    }
}

static void snapshot_forward(btsp_net *net)
{
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        memcpy(p->fwd_a, p->a, p->size * sizeof(float));
        memcpy(p->fwd_prev, p->prev, p->size * sizeof(float));
        if (p->dend)
            dend_sum(net, p, p->dend->fwd_state);
    }
}

/* ---- plateau selection ---- */

/* Order for deterministic selection: larger value first, ties by lower index (what a stable
 * descending sort gives). */
static int before(const float *e, int i, int j)
{
    return e[i] > e[j] || (e[i] == e[j] && i < j);
}

/* Heap sort of idx[0..n) by `before` (no allocation, O(n log n)). */
static void sift(const float *e, int *idx, size_t start, size_t n)
{
    size_t root = start;
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        /* max-heap on "after": the element that comes last in the order sits at the root */
        if (child + 1 < n && before(e, idx[child], idx[child + 1]))
            child++;
        if (before(e, idx[root], idx[child])) {
            int t = idx[root];
            idx[root] = idx[child];
            idx[child] = t;
            root = child;
        } else {
            return;
        }
    }
}

static void sort_desc(const float *e, int *idx, size_t n)
{
    if (n < 2)
        return;
    for (size_t s = n / 2; s-- > 0;)
        sift(e, idx, s, n);
    for (size_t end = n - 1; end > 0; end--) {
        int t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift(e, idx, 0, end);
    }
}

/* Select plateaus of a gated population at the first backward step.
 * e: candidate values (modified); result written to p->plateau and p->nudge. */
static void select_plateaus(btsp_net *net, btsp_pop *p, float *e)
{
    const btsp_gate *g = p->gate;
    size_t n = p->size;
    float *P = p->plateau, *nud = p->nudge;
    memset(P, 0, n * sizeof *P);
    if (g->relu_gate)
        for (size_t i = 0; i < n; i++)
            if (p->fwd_a[i] == 0.0f)
                e[i] = 0.0f;
    if (g->kind == BTSP_GATE_TARGET) {
        memcpy(P, e, n * sizeof *P);
        memcpy(nud, e, n * sizeof *nud);
        return;
    }
    size_t k = (size_t)ceil(g->max_frac * (double)n);
    int *idx = p->sel_idx;
    uint64_t stream = BTSP_STREAM_GATE + p->index;
    /* Positive candidates. P temporarily marks the selected units with 1. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i] > 0.0f) {
            if (g->stochastic && !(btsp_k_rand_uniform(net->seed, stream, net->gate_counter++) < (double)e[i]))
                continue;
            idx[m++] = (int)i;
        }
    }
    if (!g->stochastic && m > k)
        sort_desc(e, idx, m);
    for (size_t r = 0; r < m && r < k; r++)
        P[idx[r]] = 1.0f;
    /* The rate threshold is applied after the positive choice and before values are copied. */
    if (g->neg_th > -INFINITY)
        for (size_t i = 0; i < n; i++)
            if (p->fwd_a[i] <= (float)g->neg_th)
                e[i] = 0.0f;
    /* Negative candidates: the k most negative (deterministic) or the last k drawn. */
    m = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i] < 0.0f) {
            if (g->stochastic && !(btsp_k_rand_uniform(net->seed, stream, net->gate_counter++) < -(double)e[i]))
                continue;
            idx[m++] = (int)i;
        }
    }
    if (!g->stochastic && m > k)
        sort_desc(e, idx, m);
    for (size_t r = (m > k ? m - k : 0); r < m; r++)
        P[idx[r]] = -1.0f;
    for (size_t i = 0; i < n; i++) {
        float s = P[i] != 0.0f ? e[i] : 0.0f;
        P[i] = s;
        nud[i] = s;
    }
}

static void gate_start(btsp_net *net, btsp_pop *p)
{
    float *e = p->input; /* scratch */
    size_t n = p->size;
    if (p->gate->kind == BTSP_GATE_TARGET) {
        for (size_t i = 0; i < n; i++) {
            float d = net->target[i] - p->fwd_a[i];
            e[i] = d < -1.0f ? -1.0f : (d > 1.0f ? 1.0f : d);
        }
    } else {
        memcpy(e, p->dend->state, n * sizeof *e);
    }
    select_plateaus(net, p, e);
}

static void dend_update(btsp_net *net, btsp_pop *p)
{
    float c = (float)p->dend->clip;
    dend_sum(net, p, p->dend->state);
    btsp_k_clip(p->size, p->dend->state, -c, c);
}

static void backward_phase(btsp_net *net)
{
    view v = {0, 1};
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        if (p->gate) {
            memset(p->plateau, 0, p->size * sizeof(float));
            memset(p->nudge, 0, p->size * sizeof(float));
        }
    }
    size_t T = (size_t)net->forward_steps;
    if (net->backward == BTSP_BACKWARD_OUTPUT_ONLY) {
        /* Top_Layer_BP_like_2L: only the output's layer runs. The output's plateau (target gate)
         * is set first; then T times: prev = a for every population of that layer, and
         * re-integration of the output and of the layer's populations with backward projections
         * (lower layers keep their forward values). */
        btsp_pop *o = net->output;
        btsp_layer *L = o->layer;
        if (o->gate)
            gate_start(net, o);
        for (size_t s = 0; s < T; s++)
            settle_layer(net, L, &v);
        return;
    }
    size_t steps = net->backward == BTSP_BACKWARD_SINGLE ? 1 : T;
    for (size_t s = 0; s < steps; s++) {
        for (size_t li = net->layers.n; li-- > 1;) {
            btsp_layer *L = net->layers.items[li];
            for (size_t j = 0; j < L->pops.n; j++) {
                btsp_pop *p = L->pops.items[j];
                if (p->dend && (p->has_backward || p->gate))
                    dend_update(net, p);
            }
            if (s == 0)
                for (size_t j = 0; j < L->pops.n; j++) {
                    btsp_pop *p = L->pops.items[j];
                    if (p->gate)
                        gate_start(net, p);
                }
            if (net->backward == BTSP_BACKWARD_SINGLE) {
                /* One top-down pass (BP_like_2E): gated populations that have backward projections
                 * or are the output store prev = a and take a = f(u + n); u is untouched and no
                 * other population moves, so the layer below sees this nudged activity once. */
                for (size_t j = 0; j < L->pops.n; j++) {
                    btsp_pop *p = L->pops.items[j];
                    if (!p->nudge || !(p->has_backward || p == net->output))
                        continue;
                    memcpy(p->prev, p->a, p->size * sizeof(float));
                    nudged_activity(p);
                }
                continue;
            }
            settle_layer(net, L, &v);
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Public run API */

static btsp_status check_run(btsp_net *net, const char *fn, const float *x, size_t nx)
{
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "%s: finalize the network first", fn);
    if (!x)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: NULL input", fn);
    if (nx != net->input->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s: input has %zu values, '%s' has %zu units", fn, nx,
                         net->input->full_name, net->input->size);
    return BTSP_OK;
}

btsp_status btsp_net_forward(btsp_net *net, const float *x, size_t n)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    btsp_status st = check_run(net, "btsp_net_forward", x, n);
    if (st)
        return st;
    view v = {0, 1};
    forward_phase(net, &v, x);
    return BTSP_OK;
}

static int weights_finite(const btsp_net *net)
{
    for (size_t i = 0; i < net->projs.n; i++) {
        const btsp_proj *q = net->projs.items[i];
        if (!q->rule)
            continue;
        for (size_t k = 0; k < q->rows * q->cols; k++)
            if (!isfinite(q->W[k]))
                return 0;
    }
    for (size_t i = 0; i < net->pops.n; i++) {
        const btsp_pop *p = net->pops.items[i];
        if (p->bias_rule)
            for (size_t k = 0; k < p->size; k++)
                if (!isfinite(p->bias[k]))
                    return 0;
    }
    return 1;
}

/* One training step on validated arguments. */
static btsp_status train_one(btsp_net *net, const float *x, const float *y)
{
    view v = {0, 1};
    btsp_pop *out = net->output;
    memcpy(net->target, y, out->size * sizeof *y);
    forward_phase(net, &v, x);
    double loss = 0.0;
    for (size_t i = 0; i < out->size; i++) {
        double d = (double)out->a[i] - (double)y[i];
        loss += d * d;
    }
    net->last_loss = loss / (double)out->size;
    snapshot_forward(net);
    if (net->backward != BTSP_BACKWARD_NONE)
        backward_phase(net);
    btsp__backprop_train_step(net); /* gradient rules (backprop.c): from the recorded forward phase */
    for (size_t i = 0; i < net->rules.n; i++) {
        btsp_rule *r = net->rules.items[i];
        if (r->enabled)
            btsp__rule_step(net, r);
    }
    btsp__engine_constrain(net, 0);
    for (size_t i = 0; i < net->rules.n; i++) {
        btsp_rule *r = net->rules.items[i];
        if (r->enabled)
            btsp__rule_after_step(net, r);
    }
    net->samples++;
    for (size_t i = 0; i < net->mons.n; i++)
        btsp__monitor_record(net, net->mons.items[i]);
    if (net->check_finite && !weights_finite(net))
        return btsp__net_error(net, BTSP_E_NUMERIC, "training sample %llu produced non-finite weights",
                         (unsigned long long)net->samples);
    return BTSP_OK;
}

static btsp_status check_target(btsp_net *net, const char *fn, const float *y, size_t ny)
{
    if (!y)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: NULL target", fn);
    if (ny != net->output->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s: target has %zu values, output '%s' has %zu units", fn, ny,
                         net->output->full_name, net->output->size);
    return BTSP_OK;
}

btsp_status btsp_net_train_sample(btsp_net *net, const float *x, size_t nx, const float *target, size_t ny)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    btsp_status st = check_run(net, "btsp_net_train_sample", x, nx);
    if (st || (st = check_target(net, "btsp_net_train_sample", target, ny)))
        return st;
    return train_one(net, x, target);
}

btsp_status btsp_net_train(btsp_net *net, const float *X, const float *Y, size_t n_rows, size_t nx, size_t ny,
                           const uint32_t *order, size_t n_samples)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    btsp_status st = check_run(net, "btsp_net_train", X, nx);
    if (st || (st = check_target(net, "btsp_net_train", Y, ny)))
        return st;
    if (order) {
        for (size_t i = 0; i < n_samples; i++)
            if (order[i] >= n_rows)
                return btsp__net_error(net, BTSP_E_RANGE, "btsp_net_train: order[%zu] = %u is not below n_rows = %zu", i,
                                 (unsigned)order[i], n_rows);
    } else if (n_samples > n_rows) {
        return btsp__net_error(net, BTSP_E_RANGE, "btsp_net_train: %zu samples requested but only %zu rows", n_samples,
                         n_rows);
    }
    for (size_t i = 0; i < n_samples; i++) {
        size_t r = order ? order[i] : i;
        if ((st = train_one(net, X + r * nx, Y + r * ny)))
            return st;
        if (net->hook) {
            int h = net->hook(net->hook_user, net, net->samples);
            if (h > 0)
                return BTSP_STOPPED;
            if (h < 0)
                return btsp__net_error(net, BTSP_E_CALLBACK, "btsp_net_train: step hook returned %d after sample %llu", h,
                                 (unsigned long long)net->samples);
        }
    }
    return BTSP_OK;
}

/* Batched forward phases over X (n_samples x nx, already checked), in blocks of block_cap rows.
 * After each block, copies the output activity into out (n_samples x output size) and the
 * activity / previous activity of population i into act[i] / prev[i] (n_samples x size_i),
 * wherever those are not NULL. Leaves the network as after btsp_net_forward() of the last sample. */
static void evaluate_blocks(btsp_net *net, const float *X, size_t n_samples, size_t nx, float *out,
                            float *const *act, float *const *prev)
{
    btsp_pop *o = net->output;
    size_t nb = 0;
    for (size_t s = 0; s < n_samples; s += net->block_cap) {
        nb = n_samples - s < net->block_cap ? n_samples - s : net->block_cap;
        view v = {1, nb};
        forward_phase(net, &v, X + s * nx);
        if (out)
            memcpy(out + s * o->size, o->ba, nb * o->size * sizeof *out);
        for (size_t i = 0; (act || prev) && i < net->pops.n; i++) {
            const btsp_pop *p = net->pops.items[i];
            if (act && act[i])
                memcpy(act[i] + s * p->size, p->ba, nb * p->size * sizeof(float));
            if (prev && prev[i])
                memcpy(prev[i] + s * p->size, p->bprev, nb * p->size * sizeof(float));
        }
    }
    /* As documented, leave the network as after a forward phase of the last sample: its row of
     * the block state becomes the single-sample state. */
    if (nb) {
        for (size_t i = 0; i < net->pops.n; i++) {
            btsp_pop *p = net->pops.items[i];
            size_t off = (nb - 1) * p->size, bytes = p->size * sizeof(float);
            memcpy(p->u, p->bu + off, bytes);
            memcpy(p->a, p->ba + off, bytes);
            memcpy(p->prev, p->bprev + off, bytes);
        }
    }
    /* The cached W x products belong to the block; the single-sample ones must be recomputed. */
    for (size_t i = 0; i < net->projs.n; i++)
        ((btsp_proj *)net->projs.items[i])->cache_valid = 0;
}

btsp_status btsp_net_evaluate(btsp_net *net, const float *X, size_t n_samples, size_t nx, float *out, size_t n_out)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    btsp_status st = check_run(net, "btsp_net_evaluate", X, nx);
    if (st)
        return st;
    if (!out)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_net_evaluate: NULL output buffer");
    btsp_pop *o = net->output;
    if (n_out != o->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "btsp_net_evaluate: n_out = %zu, output '%s' has %zu units", n_out,
                         o->full_name, o->size);
    evaluate_blocks(net, X, n_samples, nx, out, NULL, NULL);
    return BTSP_OK;
}

btsp_status btsp_net_evaluate_activity(btsp_net *net, const float *X, size_t n_samples, size_t nx, float *const *act,
                                       float *const *prev, size_t n_pops)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    btsp_status st = check_run(net, "btsp_net_evaluate_activity", X, nx);
    if (st)
        return st;
    if (n_pops != net->pops.n)
        return btsp__net_error(net, BTSP_E_SHAPE,
                               "btsp_net_evaluate_activity: n_pops = %zu, the network has %zu populations", n_pops,
                               net->pops.n);
    evaluate_blocks(net, X, n_samples, nx, NULL, act, prev);
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Reset */

void btsp__engine_reset_state(btsp_net *net)
{
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        size_t n = p->size * sizeof(float);
        memset(p->u, 0, n);
        memset(p->a, 0, n);
        memset(p->prev, 0, n);
        memset(p->fwd_a, 0, n);
        memset(p->fwd_prev, 0, n);
        if (p->plateau) {
            memset(p->plateau, 0, n);
            memset(p->nudge, 0, n);
        }
        if (p->dend) {
            memset(p->dend->fwd_state, 0, n);
            memset(p->dend->state, 0, n);
        }
    }
    for (size_t i = 0; i < net->rules.n; i++)
        btsp__rule_reset(net->rules.items[i]);
    for (size_t i = 0; i < net->projs.n; i++)
        ((btsp_proj *)net->projs.items[i])->cache_valid = 0;
    net->samples = 0;
    net->last_loss = 0.0;
    net->gate_counter = 0;
}

btsp_status btsp_net_reset(btsp_net *net, unsigned flags)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (flags == 0 || (flags & ~7u))
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_net_reset: invalid flags 0x%x", flags);
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_reset: finalize the network first");
    if (flags & BTSP_RESET_WEIGHTS)
        btsp__engine_init_params(net);
    if (flags & BTSP_RESET_STATE)
        btsp__engine_reset_state(net);
    if (flags & BTSP_RESET_MONITORS)
        for (size_t i = 0; i < net->mons.n; i++)
            btsp_monitor_clear(net->mons.items[i]);
    return BTSP_OK;
}
