/* Gradient rules: Backprop, BackpropBias and Backprop_DendriticLoss.
 *
 * Backprop / BackpropBias: one stochastic-gradient step on the mean squared error of the output
 * population's final forward activity, L = mean_i (a_out,i(T) - y_i)^2, for every projection
 * (bias) with such a rule, each with its own learning rate. The gradient runs through the last
 * K = min(BTSP_NET_BACKWARD_STEPS, T) integration steps of the forward phase (truncated
 * backpropagation through time): the state u and activity a entering that window are constants,
 * as in the reference, which only enables gradient tracking for those iterations. When the
 * window covers the whole phase (K = T) the reset state u(0) = b, a(0) = f(b) is part of it, so
 * biases also receive gradient through the initial state.
 *
 * Backprop_DendriticLoss: the same machinery with the loss L_S = mean_i d_S,i^2 of the forward
 * dendritic state d_S of a source population S (d_S = sum of S's dendritic projections applied
 * to the pre activity at T, or T-1 for recurrent ones); one loss and one step per distinct
 * source, applied to the projections whose rule names that source.
 *
 * Forward dynamics being differentiated (engine.c, forward_phase): at step t, for populations in
 * sweep order, I_p = b_p + sum_q W_pq s_q with s_q = a_q(t) when q is a forward projection
 * from a population earlier in the sweep, s_q = a_q(t-1) otherwise (recurrent projections, and
 * forward ones from the same or a later population), the input being the sample x;
 * u_p(t) = u_p(t-1) + (I_p - u_p(t-1)) / tau_p, a_p(t) = f_p(u_p(t)). Only somatic projections
 * that are active in the forward phase count; dendritic ones never drive the soma.
 *
 * Reverse sweep, steps t = T .. T-K+1, populations in reverse sweep order: when p is reached at
 * step t, dL/da_p(t) is complete (reads at step t+1 and reads at step t by later populations
 * were already propagated). Then dL/du_p(t) = f'(u_p(t))^T dL/da_p(t) + (1 - 1/tau) dL/du_p(t+1),
 * g_I = dL/du_p(t) / tau, dL/db_p += g_I, dL/dW_pq += g_I x s_q, dL/ds_q += W_pq^T g_I.
 *
 * The forward phase records u and a of every non-input population for the steps of the window
 * into the history below (btsp__backprop_record); the gradient is computed from it after the forward
 * phase, so the backward (nudged) phase may change the live state meanwhile. All buffers are
 * allocated at finalize; btsp_net_loss_gradient may enlarge the history for a longer window. */
#include "internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct bp_pop {
    float *hu, *ha; /* (cap + 1) x n: u and a after forward step t0 + k, k = 0..K */
    float *ga;      /* n: dL/da(t) being completed */
    float *gp;      /* n: dL/da(t - 1) collected while processing step t */
    float *gu;      /* n: (1 - 1/tau) dL/du(t + 1), the carry through the leaky integration */
    float *gi;      /* n: scratch, dL/dI */
} bp_pop;

struct btsp_bp {
    size_t cap;      /* history capacity in steps */
    size_t t0;       /* record steps t >= t0; SIZE_MAX: record nothing */
    size_t train_t0; /* t0 used while training (SIZE_MAX without gradient rules) */
    size_t n_rules;  /* gradient rules in the network */
    bp_pop *pops;    /* one per population; entry 0 (the input) is unused */
    float *block;    /* history and scratch of all populations */
    float **dest;    /* per projection: where the current sweep writes dL/dW, or NULL */
    float **bdest;   /* per population: where the current sweep writes dL/db, or NULL */
    float **gw;      /* per projection: training gradient buffer (gradient rules only) */
    float **gb;      /* per population: training bias gradient buffer (BackpropBias only) */
};

static int is_weight_grad_rule(btsp_rule_kind k)
{
    return k == BTSP_RULE_BACKPROP || k == BTSP_RULE_BACKPROP_DENDRITIC_LOSS;
}

static size_t steps_T(const btsp_net *net)
{
    return (size_t)net->forward_steps;
}

/* Window of the training gradient: min(backward_steps, T). */
static size_t train_window(const btsp_net *net)
{
    size_t T = steps_T(net), K = (size_t)net->backward_steps;
    return K < T ? K : T;
}

/* ------------------------------------------------------------------------------------------ */
/* Allocation */

/* Carve the per-population history and scratch arrays out of one block for capacity `cap`. */
static float *alloc_block(btsp_net *net, size_t cap, bp_pop *pops)
{
    size_t total = 0;
    if (cap > SIZE_MAX / 4)
        return NULL;
    size_t per_unit = 2 * (cap + 1) + 4; /* floats per unit: u and a histories, 4 gradients */
    for (size_t i = 1; i < net->pops.n; i++) {
        size_t n = ((btsp_pop *)net->pops.items[i])->size;
        if (n > (SIZE_MAX / sizeof(float) - total) / per_unit) /* total stays representable in bytes */
            return NULL;
        total += n * per_unit;
    }
    float *block = btsp__net_calloc(net, total ? total : 1, sizeof(float));
    if (!block)
        return NULL;
    float *f = block;
    for (size_t i = 1; i < net->pops.n; i++) {
        size_t n = ((btsp_pop *)net->pops.items[i])->size;
        bp_pop *b = &pops[i];
        b->hu = f;
        f += (cap + 1) * n;
        b->ha = f;
        f += (cap + 1) * n;
        b->ga = f;
        f += n;
        b->gp = f;
        f += n;
        b->gu = f;
        f += n;
        b->gi = f;
        f += n;
    }
    return block;
}

void btsp__backprop_free(btsp_net *net)
{
    struct btsp_bp *bp = net->bp;
    if (!bp)
        return;
    if (bp->gw)
        for (size_t i = 0; i < net->projs.n; i++)
            btsp__net_free(net, bp->gw[i]);
    if (bp->gb)
        for (size_t i = 0; i < net->pops.n; i++)
            btsp__net_free(net, bp->gb[i]);
    btsp__net_free(net, bp->gw);
    btsp__net_free(net, bp->gb);
    btsp__net_free(net, bp->dest);
    btsp__net_free(net, bp->bdest);
    btsp__net_free(net, bp->block);
    btsp__net_free(net, bp->pops);
    btsp__net_free(net, bp);
    net->bp = NULL;
}

btsp_status btsp__backprop_alloc(btsp_net *net)
{
    struct btsp_bp *bp = btsp__net_calloc(net, 1, sizeof *bp);
    if (!bp)
        return BTSP_E_NOMEM;
    net->bp = bp;
    size_t np = net->pops.n, nq = net->projs.n;
    for (size_t i = 0; i < net->rules.n; i++) {
        const btsp_rule *r = net->rules.items[i];
        if (is_weight_grad_rule(r->kind) || r->kind == BTSP_RULE_BACKPROP_BIAS)
            bp->n_rules++;
    }
    bp->cap = bp->n_rules ? train_window(net) : 0;
    bp->train_t0 = bp->n_rules ? steps_T(net) - bp->cap : SIZE_MAX;
    bp->t0 = bp->train_t0;
    if (!(bp->pops = btsp__net_calloc(net, np, sizeof *bp->pops)) || !(bp->dest = btsp__net_calloc(net, nq ? nq : 1, sizeof(float *))) ||
        !(bp->bdest = btsp__net_calloc(net, np, sizeof(float *))) || !(bp->gw = btsp__net_calloc(net, nq ? nq : 1, sizeof(float *))) ||
        !(bp->gb = btsp__net_calloc(net, np, sizeof(float *))))
        return BTSP_E_NOMEM;
    if (!(bp->block = alloc_block(net, bp->cap, bp->pops)))
        return BTSP_E_NOMEM;
    for (size_t i = 0; i < net->rules.n; i++) {
        const btsp_rule *r = net->rules.items[i];
        if (is_weight_grad_rule(r->kind) && r->proj) {
            const btsp_proj *q = r->proj;
            if (!(bp->gw[q->index] = btsp__net_calloc(net, q->rows * q->cols, sizeof(float))))
                return BTSP_E_NOMEM;
        } else if (r->kind == BTSP_RULE_BACKPROP_BIAS && r->bias_pop) {
            const btsp_pop *p = r->bias_pop;
            if (!(bp->gb[p->index] = btsp__net_calloc(net, p->size, sizeof(float))))
                return BTSP_E_NOMEM;
        }
    }
    return BTSP_OK;
}

/* Make room for a window of K steps (btsp_net_loss_gradient only; never during training).
 * On failure the old buffers stay in place. */
static btsp_status reserve(btsp_net *net, size_t K)
{
    struct btsp_bp *bp = net->bp;
    if (K <= bp->cap)
        return BTSP_OK;
    bp_pop *pops = btsp__net_calloc(net, net->pops.n, sizeof *pops);
    if (!pops)
        return BTSP_E_NOMEM;
    float *block = alloc_block(net, K, pops);
    if (!block) {
        btsp__net_free(net, pops);
        return BTSP_E_NOMEM;
    }
    btsp__net_free(net, bp->block);
    btsp__net_free(net, bp->pops);
    bp->block = block;
    bp->pops = pops;
    bp->cap = K;
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Validation and the public setter of the dendritic-loss source */

btsp_status btsp__backprop_validate(btsp_net *net)
{
    for (size_t i = 0; i < net->rules.n; i++) {
        const btsp_rule *r = net->rules.items[i];
        if ((r->kind == BTSP_RULE_BACKPROP || r->kind == BTSP_RULE_BACKPROP_BIAS) && net->backward_steps < 1.0)
            return btsp__net_error(net, BTSP_E_STATE,
                             "btsp_net_finalize: rule '%s' on '%s' needs BTSP_NET_BACKWARD_STEPS >= 1 (the gradient "
                             "runs through the last backward_steps forward steps; with 0 there is none)",
                             btsp_rule_kind_name(r->kind), r->proj ? r->proj->name : r->bias_pop->full_name);
        if (r->kind == BTSP_RULE_BACKPROP_DENDRITIC_LOSS && r->proj) {
            if (!r->source)
                return btsp__net_error(net, BTSP_E_STATE,
                                 "btsp_net_finalize: rule 'Backprop_DendriticLoss' on '%s' has no source population "
                                 "(btsp_rule_set_source)",
                                 r->proj->name);
            if (!r->source->dend)
                return btsp__net_error(net, BTSP_E_STATE,
                                 "btsp_net_finalize: rule 'Backprop_DendriticLoss' on '%s': source '%s' has no "
                                 "dendritic compartment",
                                 r->proj->name, r->source->full_name);
        }
    }
    return BTSP_OK;
}

btsp_status btsp_rule_set_source(btsp_rule *rule, btsp_pop *source)
{
    if (!rule)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = rule->net;
    if (!source)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_set_source: NULL population");
    if (net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_rule_set_source: the network is finalized");
    if (rule->kind != BTSP_RULE_BACKPROP_DENDRITIC_LOSS)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_set_source: rule '%s' has no source",
                         btsp_rule_kind_name(rule->kind));
    if (source->net != net)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_set_source: '%s' belongs to another network",
                         source->full_name);
    if (source == btsp_net_input(net))
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_set_source: the input population '%s' has no dendrite",
                         source->full_name);
    rule->source = source;
    return BTSP_OK;
}

btsp_pop *btsp_rule_source(const btsp_rule *rule)
{
    return rule ? rule->source : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Recording (called by the forward phase after the reset, t = 0, and after every step t) */

void btsp__backprop_record(btsp_net *net, size_t t)
{
    struct btsp_bp *bp = net->bp;
    if (!bp || t < bp->t0)
        return;
    size_t k = t - bp->t0;
    for (size_t i = 1; i < net->pops.n; i++) {
        const btsp_pop *p = net->pops.items[i];
        bp_pop *b = &bp->pops[i];
        memcpy(b->hu + k * p->size, p->u, p->size * sizeof(float));
        memcpy(b->ha + k * p->size, p->a, p->size * sizeof(float));
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The reverse sweep */

/* gu = f'(u)^T ga (vector-Jacobian product of the activation), with the derivatives autograd
 * uses: relu passes where the output is > 0, clamp where lo <= u <= hi (inclusive), softplus
 * (beta 1, threshold 20) is the identity above the threshold. */
static void act_vjp(const btsp_pop *p, const float *u, const float *a, const float *ga, float *gu)
{
    size_t n = p->size;
    switch (p->act) {
    case BTSP_ACT_LINEAR:
        memcpy(gu, ga, n * sizeof *gu);
        break;
    case BTSP_ACT_RELU:
        for (size_t i = 0; i < n; i++)
            gu[i] = a[i] > 0.0f ? ga[i] : 0.0f;
        break;
    case BTSP_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++)
            gu[i] = ga[i] * (1.0f - a[i]) * a[i];
        break;
    case BTSP_ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++) {
            double z = exp((double)u[i]);
            gu[i] = u[i] > 20.0f ? ga[i] : (float)((double)ga[i] * z / (z + 1.0));
        }
        break;
    case BTSP_ACT_TANH:
        for (size_t i = 0; i < n; i++)
            gu[i] = ga[i] * (1.0f - a[i] * a[i]);
        break;
    case BTSP_ACT_CLAMP: {
        const float lo = (float)p->act_p0, hi = (float)p->act_p1;
        for (size_t i = 0; i < n; i++)
            gu[i] = u[i] >= lo && u[i] <= hi ? ga[i] : 0.0f;
        break;
    }
    case BTSP_ACT_POLY: {
        /* a = p0 * max(u, 0)^p1: d/du = p0 * p1 * u^(p1 - 1) for u > 0, else 0 (at u = 0 the max
         * has derivative 0, as autograd takes it; this also avoids 0^(p1 - 1) = inf for p1 < 1) */
        const double gain = p->act_p0, ex = p->act_p1;
        for (size_t i = 0; i < n; i++)
            gu[i] = u[i] > 0.0f ? (float)((double)ga[i] * gain * ex * pow((double)u[i], ex - 1.0)) : 0.0f;
        break;
    }
    case BTSP_ACT_SOFTMAX: {
        double dot = 0.0;
        for (size_t i = 0; i < n; i++)
            dot += (double)ga[i] * (double)a[i];
        for (size_t i = 0; i < n; i++)
            gu[i] = a[i] * (ga[i] - (float)dot);
        break;
    }
    }
}

static void zero_floats(float *x, size_t n)
{
    memset(x, 0, n * sizeof *x);
}

/* What a sweep differentiates. Exactly one of: the output loss (target), the dendritic loss of
 * `source`, or a cotangent `cot` on a_pop(T) (input gradients, then `gx` receives dL/dx). */
typedef struct sweep_seed {
    const float *target;    /* L = mean (a_out(T) - target)^2 */
    const btsp_pop *source; /* L = mean d_source^2, d_source the forward dendritic state (training) */
    const btsp_pop *pop;    /* L = cot . a_pop(T) */
    const float *cot;       /* pop->size values */
    float *gx;              /* input-size accumulator of dL/dx, or NULL */
} sweep_seed;

/* y += W^T g over the rows with g[i] != 0 only. Used for input gradients, where the cotangent
 * of one unit reaches few rows in the last steps of the window; training keeps the dense kernel
 * (and its IEEE semantics for non-finite weights). */
static void matvec_t_acc_nz(const btsp_proj *q, const float *g, float *y)
{
    for (size_t i = 0; i < q->rows; i++)
        if (g[i] != 0.0f)
            btsp_k_matvec_t_acc(1, q->cols, q->W + i * q->cols, q->cols, g + i, y);
}

/* Backpropagate one loss through the recorded window and write dL/dW into bp->dest[q] and dL/db
 * into bp->bdest[p] (zeroed first; entries that are NULL are skipped), and dL/dx into seed->gx
 * (not zeroed: the caller clears it). */
static void sweep(btsp_net *net, size_t K, const sweep_seed *seed)
{
    const btsp_pop *source = seed->source;
    const float *target = seed->target;
    float *gx = seed->gx;
    struct btsp_bp *bp = net->bp;
    const btsp_pop *in = net->input;
    size_t T = steps_T(net), t0 = T - K;
    for (size_t i = 0; i < net->projs.n; i++)
        if (bp->dest[i]) {
            const btsp_proj *q = net->projs.items[i];
            zero_floats(bp->dest[i], q->rows * q->cols);
        }
    for (size_t i = 1; i < net->pops.n; i++) {
        const btsp_pop *p = net->pops.items[i];
        bp_pop *b = &bp->pops[i];
        if (bp->bdest[i])
            zero_floats(bp->bdest[i], p->size);
        zero_floats(b->ga, p->size);
        zero_floats(b->gp, p->size);
        zero_floats(b->gu, p->size);
    }

    /* Seed dL/da at the end of the forward phase. */
    if (seed->pop) {
        if (K == 0)
            return;
        memcpy(bp->pops[seed->pop->index].ga, seed->cot, seed->pop->size * sizeof(float));
    } else if (!source) {
        if (K == 0)
            return;
        const btsp_pop *o = net->output;
        bp_pop *b = &bp->pops[o->index];
        const float *a = b->ha + K * o->size;
        const float s = 2.0f / (float)o->size;
        for (size_t i = 0; i < o->size; i++)
            b->ga[i] = s * (a[i] - target[i]);
    } else {
        /* d = sum over dendritic projections W * (a_pre(T) or a_pre(T-1)); dL/dd = 2 d / n */
        float *gd = bp->pops[source->index].gi;
        const float s = 2.0f / (float)source->size;
        for (size_t i = 0; i < source->size; i++)
            gd[i] = s * source->dend->fwd_state[i];
        for (size_t j = 0; j < source->in.n; j++) {
            const btsp_proj *q = source->in.items[j];
            if (q->comp != BTSP_DEND)
                continue;
            int fwd = q->dir == BTSP_DIR_FORWARD;
            if (bp->dest[q->index])
                btsp_k_outer_acc(q->rows, q->cols, bp->dest[q->index], q->cols, 1.0f, gd,
                                 fwd ? q->pre->fwd_a : q->pre->fwd_prev);
            if (q->pre != in) {
                bp_pop *bq = &bp->pops[q->pre->index];
                btsp_k_matvec_t_acc(q->rows, q->cols, q->W, q->cols, gd, fwd ? bq->ga : bq->gp);
            }
        }
    }

    for (size_t k = K; k >= 1; k--) {
        for (size_t pi = net->pops.n; pi-- > 1;) {
            const btsp_pop *p = net->pops.items[pi];
            bp_pop *b = &bp->pops[pi];
            size_t n = p->size;
            const float tau = (float)p->tau, keep = (float)(1.0 - 1.0 / p->tau);
            act_vjp(p, b->hu + k * n, b->ha + k * n, b->ga, b->gi);
            for (size_t i = 0; i < n; i++) {
                float g = b->gi[i] + b->gu[i]; /* dL/du(t) */
                b->gi[i] = g / tau;            /* dL/dI(t) */
                b->gu[i] = g * keep;           /* its share of dL/du(t - 1) */
            }
            if (bp->bdest[pi])
                for (size_t i = 0; i < n; i++)
                    bp->bdest[pi][i] += b->gi[i];
            for (size_t j = 0; j < p->in.n; j++) {
                const btsp_proj *q = p->in.items[j];
                if (q->comp != BTSP_SOMA || q->phase == BTSP_PHASE_BACKWARD)
                    continue;
                const btsp_pop *pre = q->pre;
                const float *s;
                float *tgt = NULL;
                if (pre == in) {
                    s = in->a; /* the sample, constant over the phase: its gradient sums over steps */
                    if (gx)
                        matvec_t_acc_nz(q, b->gi, gx);
                } else {
                    bp_pop *bq = &bp->pops[pre->index];
                    int now = q->dir == BTSP_DIR_FORWARD && pre->index < p->index; /* reads a_pre(t) */
                    s = bq->ha + (now ? k : k - 1) * pre->size;
                    tgt = now ? bq->ga : bq->gp;
                }
                if (bp->dest[q->index])
                    btsp_k_outer_acc(q->rows, q->cols, bp->dest[q->index], q->cols, 1.0f, b->gi, s);
                if (tgt && gx)
                    matvec_t_acc_nz(q, b->gi, tgt);
                else if (tgt)
                    btsp_k_matvec_t_acc(q->rows, q->cols, q->W, q->cols, b->gi, tgt);
            }
        }
        /* Step t done: what was collected for a(t - 1) becomes the gradient being completed. */
        for (size_t i = 1; i < net->pops.n; i++) {
            bp_pop *b = &bp->pops[i];
            float *tmp = b->ga;
            b->ga = b->gp;
            b->gp = tmp;
            zero_floats(b->gp, ((btsp_pop *)net->pops.items[i])->size);
        }
    }

    /* Window covering the whole phase: the reset state u(0) = b, a(0) = f(b) depends on the bias. */
    if (t0 == 0 && K > 0)
        for (size_t pi = 1; pi < net->pops.n; pi++) {
            if (!bp->bdest[pi])
                continue;
            const btsp_pop *p = net->pops.items[pi];
            bp_pop *b = &bp->pops[pi];
            act_vjp(p, b->hu, b->ha, b->ga, b->gi);
            for (size_t i = 0; i < p->size; i++)
                bp->bdest[pi][i] += b->gi[i] + b->gu[i];
        }
}

static void clear_dest(struct btsp_bp *bp, const btsp_net *net)
{
    memset(bp->dest, 0, net->projs.n * sizeof *bp->dest);
    memset(bp->bdest, 0, net->pops.n * sizeof *bp->bdest);
}

/* ------------------------------------------------------------------------------------------ */
/* Training step */

void btsp__backprop_train_step(btsp_net *net)
{
    struct btsp_bp *bp = net->bp;
    if (!bp || !bp->n_rules)
        return;
    size_t K = train_window(net);
    /* 1. The output loss, for every enabled Backprop / BackpropBias rule at once. */
    clear_dest(bp, net);
    int any = 0;
    for (size_t i = 0; i < net->rules.n; i++) {
        const btsp_rule *r = net->rules.items[i];
        if (!r->enabled)
            continue;
        if (r->kind == BTSP_RULE_BACKPROP && r->proj) {
            bp->dest[r->proj->index] = bp->gw[r->proj->index];
            any = 1;
        } else if (r->kind == BTSP_RULE_BACKPROP_BIAS && r->bias_pop) {
            bp->bdest[r->bias_pop->index] = bp->gb[r->bias_pop->index];
            any = 1;
        }
    }
    if (any) {
        const sweep_seed seed = {.target = net->target};
        sweep(net, K, &seed);
    }
    /* 2. One dendritic loss per distinct source, for the enabled rules naming it. All gradients
     *    are taken with the weights of the forward phase: nothing is applied before step 3. */
    for (size_t i = 0; i < net->rules.n; i++) {
        const btsp_rule *r = net->rules.items[i];
        if (!r->enabled || r->kind != BTSP_RULE_BACKPROP_DENDRITIC_LOSS || !r->proj)
            continue;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            const btsp_rule *e = net->rules.items[j];
            seen = e->enabled && e->kind == BTSP_RULE_BACKPROP_DENDRITIC_LOSS && e->proj && e->source == r->source;
        }
        if (seen)
            continue;
        clear_dest(bp, net);
        for (size_t j = i; j < net->rules.n; j++) {
            const btsp_rule *e = net->rules.items[j];
            if (e->enabled && e->kind == BTSP_RULE_BACKPROP_DENDRITIC_LOSS && e->proj && e->source == r->source)
                bp->dest[e->proj->index] = bp->gw[e->proj->index];
        }
        const sweep_seed seed = {.source = r->source};
        sweep(net, K, &seed);
    }
    /* 3. SGD: W <- W - lr * dL/dW (bounds and constraints follow in the training step). */
    for (size_t i = 0; i < net->rules.n; i++) {
        const btsp_rule *r = net->rules.items[i];
        if (!r->enabled)
            continue;
        const float step = (float)-r->lr;
        if (is_weight_grad_rule(r->kind) && r->proj) {
            btsp_proj *q = r->proj;
            const float *g = bp->gw[q->index];
            for (size_t k = 0; k < q->rows * q->cols; k++)
                q->W[k] += step * g[k];
            q->cache_valid = 0;
        } else if (r->kind == BTSP_RULE_BACKPROP_BIAS && r->bias_pop) {
            btsp_pop *p = r->bias_pop;
            const float *g = bp->gb[p->index];
            for (size_t k = 0; k < p->size; k++)
                p->bias[k] += step * g[k];
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Public analysis API */

/* Forward phase on x recording the last K = min(backward_steps, T) steps for a gradient sweep
 * (the analysis functions below; the history is enlarged if the window is longer than
 * training's, which is the only allocation). */
static btsp_status forward_recorded(btsp_net *net, const char *fn, const float *x, size_t nx, unsigned backward_steps,
                                    size_t *K)
{
    size_t T = steps_T(net);
    *K = backward_steps < T ? backward_steps : T;
    struct btsp_bp *bp = net->bp;
    if (reserve(net, *K))
        return btsp__net_error(net, BTSP_E_NOMEM, "%s: out of memory for a %zu-step history", fn, *K);
    bp->t0 = *K ? T - *K : SIZE_MAX;
    btsp_status st = btsp_net_forward(net, x, nx);
    bp->t0 = bp->train_t0;
    return st;
}

btsp_status btsp_net_loss_gradient(btsp_net *net, const float *x, size_t nx, const float *target, size_t ny,
                                   unsigned backward_steps, const btsp_proj *proj, float *grad, size_t rows,
                                   size_t cols)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    const char *fn = "btsp_net_loss_gradient";
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "%s: finalize the network first", fn);
    if (!x || !target || !proj || !grad)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: NULL %s", fn,
                         !x ? "input" : !target ? "target" : !proj ? "projection" : "gradient buffer");
    if (proj->net != net)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: projection '%s' belongs to another network", fn, proj->name);
    if (nx != net->input->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s: input has %zu values, '%s' has %zu units", fn, nx,
                         net->input->full_name, net->input->size);
    if (ny != net->output->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s: target has %zu values, output '%s' has %zu units", fn, ny,
                         net->output->full_name, net->output->size);
    if (rows != proj->rows || cols != proj->cols)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s(%s): expected %zux%zu, got %zux%zu", fn, proj->name, proj->rows,
                         proj->cols, rows, cols);
    size_t K;
    btsp_status st = forward_recorded(net, fn, x, nx, backward_steps, &K);
    if (st)
        return st;
    struct btsp_bp *bp = net->bp;
    clear_dest(bp, net);
    bp->dest[proj->index] = grad;
    const sweep_seed seed = {.target = target};
    sweep(net, K, &seed);
    if (K == 0)
        zero_floats(grad, rows * cols);
    bp->dest[proj->index] = NULL;
    return BTSP_OK;
}

btsp_status btsp_net_input_gradient(btsp_net *net, const float *x, size_t nx, const btsp_pop *pop, const float *cot,
                                    size_t m, size_t n, unsigned backward_steps, float *grad, size_t n_grad)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    const char *fn = "btsp_net_input_gradient";
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "%s: finalize the network first", fn);
    if (!x || !pop || !cot || !grad)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: NULL %s", fn,
                               !x ? "input" : !pop ? "population" : !cot ? "cotangent" : "gradient buffer");
    if (pop->net != net)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: population '%s' belongs to another network", fn,
                               pop->full_name);
    if (nx != net->input->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s: input has %zu values, '%s' has %zu units", fn, nx,
                               net->input->full_name, net->input->size);
    if (m == 0)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: no cotangent rows (m = 0)", fn);
    if (n != pop->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s: cotangent rows have %zu values, '%s' has %zu units", fn, n,
                               pop->full_name, pop->size);
    if (m > SIZE_MAX / nx || n_grad != m * nx)
        return btsp__net_error(net, BTSP_E_SHAPE, "%s: gradient buffer has %zu values, expected %zu x %zu", fn, n_grad,
                               m, nx);
    if (pop == net->input) { /* a_in(T) = x: the Jacobian is the identity */
        memcpy(grad, cot, n_grad * sizeof *grad);
        return BTSP_OK;
    }
    size_t K;
    btsp_status st = forward_recorded(net, fn, x, nx, backward_steps, &K);
    if (st)
        return st;
    clear_dest(net->bp, net);
    zero_floats(grad, n_grad);
    for (size_t r = 0; r < m; r++) { /* one forward phase, one reverse sweep per cotangent */
        const sweep_seed seed = {.pop = pop, .cot = cot + r * n, .gx = grad + r * nx};
        sweep(net, K, &seed);
    }
    return BTSP_OK;
}
