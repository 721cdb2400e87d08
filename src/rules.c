/* Plasticity rules: names, accepted parameters and the weight updates of one training step.
 *
 * Every update reads activities left by the forward phase (fwd_a, fwd_prev, dendritic forward
 * state) and by the backward phase (a, prev, plateau), writes only its own projection or bias,
 * and never allocates (scratch space is net->work, 6 x the largest population). */
#include "internal.h"

#include <math.h>
#include <string.h>

static const struct {
    btsp_rule_kind kind;
    const char *name; /* the EIANN class name */
} kind_table[] = {
    {BTSP_RULE_BTSP, "BTSP_19"},
    {BTSP_RULE_DENDRITIC_LOSS, "DendriticLoss_6"},
    {BTSP_RULE_HEBB_WEIGHTNORM, "Hebb_WeightNorm"},
    {BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST, "Top_Down_Hebbian_Temporal_Contrast_3"},
    {BTSP_RULE_DENDRITIC_LOSS_BIAS, "DendriticLossBias"},
    {BTSP_RULE_BACKPROP, "Backprop"},
    {BTSP_RULE_BACKPROP_BIAS, "BackpropBias"},
    {BTSP_RULE_DTP_2E, "BP_like_2E"},
    {BTSP_RULE_DTP_2L, "BP_like_2L"},
    {BTSP_RULE_TOP_LAYER_DTP, "Top_Layer_BP_like_2L"},
    {BTSP_RULE_HEBB_TEMPORAL_CONTRAST, "Hebbian_Temporal_Contrast"},
    {BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1, "Top_Down_Hebbian_Temporal_Contrast_1"},
    {BTSP_RULE_SUPERVISED_BCM, "Supervised_BCM_4"},
    {BTSP_RULE_HEBB_WEIGHTNORM_4, "Hebb_WeightNorm_4"},
    {BTSP_RULE_OJA, "Ojas_rule"},
    {BTSP_RULE_BACKPROP_DENDRITIC_LOSS, "Backprop_DendriticLoss"},
};
#define N_KINDS (sizeof kind_table / sizeof kind_table[0])

const char *btsp_rule_kind_name(btsp_rule_kind kind)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (kind_table[i].kind == kind)
            return kind_table[i].name;
    return NULL;
}

btsp_status btsp_rule_kind_from_name(const char *name, btsp_rule_kind *kind)
{
    if (kind)
        *kind = (btsp_rule_kind)0;
    if (!name || !kind)
        return BTSP_E_INVALID_ARG;
    for (size_t i = 0; i < N_KINDS; i++)
        if (strcmp(kind_table[i].name, name) == 0) {
            *kind = kind_table[i].kind;
            return BTSP_OK;
        }
    return BTSP_E_NOT_FOUND;
}

int btsp__rule_kind_known(btsp_rule_kind kind)
{
    return btsp_rule_kind_name(kind) != NULL;
}

int btsp__rule_accepts(btsp_rule_kind kind, btsp_rule_param param)
{
    switch (param) {
    case BTSP_RULE_LEARNING_RATE:
        return 1;
    case BTSP_RULE_SIGN:
        return kind == BTSP_RULE_DENDRITIC_LOSS || kind == BTSP_RULE_HEBB_WEIGHTNORM ||
               kind == BTSP_RULE_HEBB_WEIGHTNORM_4 || kind == BTSP_RULE_SUPERVISED_BCM;
    case BTSP_RULE_DEP_RATIO:
    case BTSP_RULE_DEP_TH:
    case BTSP_RULE_DEP_WIDTH:
    case BTSP_RULE_TEMPORAL_DISCOUNT:
    case BTSP_RULE_W_MAX:
        return kind == BTSP_RULE_BTSP;
    case BTSP_RULE_FORWARD_ONLY:
        return kind == BTSP_RULE_HEBB_WEIGHTNORM || kind == BTSP_RULE_HEBB_WEIGHTNORM_4 || kind == BTSP_RULE_DTP_2L ||
               kind == BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1 || kind == BTSP_RULE_OJA;
    case BTSP_RULE_THETA_TAU:
    case BTSP_RULE_THETA_K:
        return kind == BTSP_RULE_SUPERVISED_BCM;
    case BTSP_RULE_RELU_GATE:
        return kind == BTSP_RULE_HEBB_TEMPORAL_CONTRAST;
    }
    return 0;
}

double btsp__rule_w_max(const btsp_rule *rule)
{
    if (rule->w_max_set)
        return rule->w_max;
    return rule->proj && isfinite(rule->proj->hi) ? rule->proj->hi : 2.0;
}

double btsp__rule_lr(const btsp_rule *rule)
{
    return rule->lr_set || rule->net->finalized ? rule->lr : rule->net->lr;
}

void btsp__rule_reset(btsp_rule *rule)
{
    if (rule->past_pre)
        memset(rule->past_pre, 0, rule->proj->cols * sizeof(float));
    if (rule->past_plateau)
        memset(rule->past_plateau, 0, rule->proj->rows * sizeof(float));
    if (rule->theta) /* the BCM threshold starts at k */
        for (size_t i = 0; i < rule->proj->rows; i++)
            rule->theta[i] = (float)rule->theta_k;
}

/* Presynaptic rates a projection reads: current (post-backward) or forward-phase values,
 * the previous-step value for recurrent projections. */
static const float *pre_rates(const btsp_proj *q, int forward)
{
    const btsp_pop *pre = q->pre;
    if (forward)
        return q->dir == BTSP_DIR_FORWARD ? pre->fwd_a : pre->fwd_prev;
    return q->dir == BTSP_DIR_FORWARD ? pre->a : pre->prev;
}

static void clip_copy(size_t n, const float *src, float *dst, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) {
        float v = src[i];
        dst[i] = v < lo ? lo : (v > hi ? hi : v);
    }
}

/* Postsynaptic rates: current (post-backward) or forward-phase values. */
static const float *post_rates(const btsp_proj *q, int forward)
{
    return forward ? q->post->fwd_a : q->post->a;
}

/* W[i][j] += lr * (a[i] * b[j]), the product formed first (rows with a[i] == 0 are unchanged). */
static void outer_add(btsp_proj *q, float lr, const float *a, const float *b)
{
    for (size_t i = 0; i < q->rows; i++) {
        float ai = a[i];
        if (ai == 0.0f)
            continue;
        float *w = q->W + i * q->cols;
        for (size_t j = 0; j < q->cols; j++)
            w[j] += lr * (ai * b[j]);
    }
}

/* W[i][j] += lr * (a[i] * b[j] - c[i] * d[j]): the contrast of two outer products. */
static void contrast_add(btsp_proj *q, float lr, const float *a, const float *b, const float *c, const float *d)
{
    for (size_t i = 0; i < q->rows; i++) {
        float ai = a[i], ci = c[i];
        if (ai == 0.0f && ci == 0.0f)
            continue;
        float *w = q->W + i * q->cols;
        for (size_t j = 0; j < q->cols; j++)
            w[j] += lr * (ai * b[j] - ci * d[j]);
    }
}

static void step_btsp(btsp_net *net, btsp_rule *r)
{
    btsp_proj *q = r->proj;
    btsp_k_btsp_params p;
    p.learning_rate = (float)r->lr;
    p.w_max = (float)btsp__rule_w_max(r);
    p.dep_ratio = (float)r->dep_ratio;
    p.discount = (float)r->discount;
    p.lo = (float)q->lo;
    p.hi = (float)q->hi;
    btsp_k_q_default(&p.q);
    p.q.th = r->dep_th;
    p.q.peak = r->dep_th + r->dep_width;
    /* the rows the kernel updates: those with an event, by the kernel's own test */
    const float *P = q->post->plateau, *Ph = r->past_plateau;
    r->n_touched = 0;
    for (size_t i = 0; i < q->rows; i++)
        if (btsp__k_btsp_row_active(P[i], Ph[i]))
            r->touched[r->n_touched++] = (uint32_t)i;
    btsp_k_btsp_update(q->rows, q->cols, q->W, q->cols, P, Ph, pre_rates(q, 0), r->past_pre, &p, net->work);
}

/* clip(a_pre - a_fwd_pre, -1, 1) into out (cols): the top-down temporal-contrast signal. */
static void temporal_change(const btsp_proj *q, float *out)
{
    const float *now = pre_rates(q, 0), *fwd = pre_rates(q, 1);
    for (size_t j = 0; j < q->cols; j++) {
        float d = now[j] - fwd[j];
        out[j] = d < -1.0f ? -1.0f : (d > 1.0f ? 1.0f : d);
    }
}

/* dW = lr * (clip(a_post) x clip(a_pre) - clip(a_fwd_post) x clip(a_fwd_pre)), rates clipped to
 * [0, 1]; with relu_gate the post-backward post rate is zeroed where the forward one is 0.
 * w0..w3 are scratch vectors (rows, cols, rows, cols). */
static void hebbian_contrast(btsp_proj *q, float lr, int relu_gate, float *w0, float *w1, float *w2, float *w3)
{
    clip_copy(q->rows, post_rates(q, 0), w0, 0.0f, 1.0f);
    clip_copy(q->rows, post_rates(q, 1), w2, 0.0f, 1.0f);
    if (relu_gate)
        for (size_t i = 0; i < q->rows; i++)
            if (w2[i] == 0.0f)
                w0[i] = 0.0f;
    clip_copy(q->cols, pre_rates(q, 0), w1, 0.0f, 1.0f);
    clip_copy(q->cols, pre_rates(q, 1), w3, 0.0f, 1.0f);
    contrast_add(q, lr, w0, w1, w2, w3);
}

void btsp__rule_step(btsp_net *net, btsp_rule *r)
{
    float *w0 = net->work, *w1 = net->work + net->max_pop;
    float *w2 = net->work + 2 * net->max_pop, *w3 = net->work + 3 * net->max_pop;
    btsp_proj *q = r->proj;
    switch (r->kind) {
    case BTSP_RULE_BTSP:
        step_btsp(net, r);
        break;
    case BTSP_RULE_DENDRITIC_LOSS:
        /* dW = sign * lr * clip(d_fwd_post, -1, 1) x clip(a_fwd_pre, 0, 1) */
        clip_copy(q->rows, q->post->dend->fwd_state, w0, -1.0f, 1.0f);
        clip_copy(q->cols, pre_rates(q, 1), w1, 0.0f, 1.0f);
        btsp_k_outer_acc(q->rows, q->cols, q->W, q->cols, (float)(r->sign * r->lr), w0, w1);
        break;
    case BTSP_RULE_HEBB_WEIGHTNORM: {
        /* dW = sign * lr * a_post x a_pre (forward-phase rates with forward_only), unclipped */
        int fwd = r->forward_only != 0.0;
        const float *post = fwd ? q->post->fwd_a : q->post->a;
        btsp_k_outer_acc(q->rows, q->cols, q->W, q->cols, (float)(r->sign * r->lr), post, pre_rates(q, fwd));
        break;
    }
    case BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST: {
        /* dB = lr * clip(a_post, 0, 1) x clip(a_pre - a_fwd_pre, -1, 1) (post-backward rates) */
        clip_copy(q->rows, q->post->a, w0, 0.0f, 1.0f);
        temporal_change(q, w1);
        btsp_k_outer_acc(q->rows, q->cols, q->W, q->cols, (float)r->lr, w0, w1);
        break;
    }
    case BTSP_RULE_DENDRITIC_LOSS_BIAS: {
        /* b += lr * plateau */
        btsp_pop *p = r->bias_pop;
        float lr = (float)r->lr;
        for (size_t i = 0; i < p->size; i++)
            p->bias[i] += lr * p->plateau[i];
        break;
    }
    case BTSP_RULE_DTP_2E:
        /* dW = lr * P_post x clip(a_fwd_pre, 0, 1) (prev_fwd for recurrent projections) */
        clip_copy(q->cols, pre_rates(q, 1), w1, 0.0f, 1.0f);
        outer_add(q, (float)r->lr, q->post->plateau, w1);
        break;
    case BTSP_RULE_DTP_2L:
        /* dW = lr * P_post x clip(a_pre, 0, 1): post-backward rates, or forward ones */
        clip_copy(q->cols, pre_rates(q, r->forward_only != 0.0), w1, 0.0f, 1.0f);
        outer_add(q, (float)r->lr, q->post->plateau, w1);
        break;
    case BTSP_RULE_TOP_LAYER_DTP:
        /* dW = lr * P_out x clip(a_pre, 0, 1), post-backward rates */
        clip_copy(q->cols, pre_rates(q, 0), w1, 0.0f, 1.0f);
        outer_add(q, (float)r->lr, q->post->plateau, w1);
        break;
    case BTSP_RULE_HEBB_TEMPORAL_CONTRAST:
        /* dW = lr * (clip(a_post) x clip(a_pre) - clip(a_fwd_post) x clip(a_fwd_pre)), clip to [0, 1];
         * relu gate: the post-backward post rate is 0 where the clipped forward one is 0 */
        hebbian_contrast(q, (float)r->lr, r->relu_gate != 0.0, w0, w1, w2, w3);
        break;
    case BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1:
        if (r->forward_only != 0.0) {
            /* dB = lr * clip(a_fwd_post, 0, 1) x clip(a_pre - a_fwd_pre, -1, 1) */
            clip_copy(q->rows, post_rates(q, 1), w0, 0.0f, 1.0f);
            temporal_change(q, w1);
            outer_add(q, (float)r->lr, w0, w1);
        } else {
            /* dB = lr * (clip(a_post) x clip(a_pre) - clip(a_fwd_post) x clip(a_fwd_pre)), [0, 1] */
            hebbian_contrast(q, (float)r->lr, 0, w0, w1, w2, w3);
        }
        break;
    case BTSP_RULE_SUPERVISED_BCM: {
        /* dW = sign * lr * (y (y - theta)) x clip(x, 0, 1), y = post-backward post rate (not clipped),
         * formed as (y_i x_j) (y_i - theta_i) */
        const float *y = q->post->a;
        float lr = (float)(r->sign * r->lr);
        clip_copy(q->cols, pre_rates(q, 0), w1, 0.0f, 1.0f);
        for (size_t i = 0; i < q->rows; i++) {
            float yi = y[i], gi = y[i] - r->theta[i];
            if (yi == 0.0f)
                continue;
            float *w = q->W + i * q->cols;
            for (size_t j = 0; j < q->cols; j++)
                w[j] += lr * ((yi * w1[j]) * gi);
        }
        break;
    }
    case BTSP_RULE_HEBB_WEIGHTNORM_4: {
        /* dW = sign * lr * clip(a_post, 0, 1) x clip(a_pre, 0, 1), current or forward-phase rates */
        int fwd = r->forward_only != 0.0;
        clip_copy(q->rows, post_rates(q, fwd), w0, 0.0f, 1.0f);
        clip_copy(q->cols, pre_rates(q, fwd), w1, 0.0f, 1.0f);
        outer_add(q, (float)(r->sign * r->lr), w0, w1);
        break;
    }
    case BTSP_RULE_OJA: {
        /* dW = lr * (y x - y^2 W), y = clip(a_post, 0, 1), x = clip(a_pre, 0, 1) */
        int fwd = r->forward_only != 0.0;
        float lr = (float)r->lr;
        clip_copy(q->rows, post_rates(q, fwd), w0, 0.0f, 1.0f);
        clip_copy(q->cols, pre_rates(q, fwd), w1, 0.0f, 1.0f);
        for (size_t i = 0; i < q->rows; i++) {
            float yi = w0[i], y2 = w0[i] * w0[i];
            if (yi == 0.0f)
                continue;
            float *w = q->W + i * q->cols;
            for (size_t j = 0; j < q->cols; j++)
                w[j] += lr * (yi * w1[j] - y2 * w[j]);
        }
        break;
    }
    default:
        break; /* unimplemented kinds cannot be created */
    }
}

void btsp__rule_after_step(btsp_net *net, btsp_rule *r)
{
    (void)net;
    if (r->kind == BTSP_RULE_SUPERVISED_BCM) {
        /* theta += (y^2 / k - theta) / theta_tau, y = the post rate after the backward phase */
        const float *y = r->proj->post->a;
        float k = (float)r->theta_k, tau = (float)r->theta_tau;
        for (size_t i = 0; i < r->proj->rows; i++)
            r->theta[i] += (-r->theta[i] + (y[i] * y[i]) / k) / tau;
        return;
    }
    if (r->kind != BTSP_RULE_BTSP)
        return;
    /* The traces of the next sample: this sample's presynaptic rates and post plateaus. */
    btsp_proj *q = r->proj;
    memcpy(r->past_pre, pre_rates(q, 0), q->cols * sizeof(float));
    memcpy(r->past_plateau, q->post->plateau, q->rows * sizeof(float));
}
