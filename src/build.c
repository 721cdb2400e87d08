/* Building a network: layers, populations, dendrites, projections, rules and gates, with their
 * setters and getters. Structural calls are only valid before finalize. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define REQUIRE_BUILDING(net, fn)                                                                        \
    do {                                                                                                 \
        if ((net)->finalized)                                                                            \
            return btsp__net_error((net), BTSP_E_STATE, "%s: the network is finalized; structure is fixed", fn); \
    } while (0)

static btsp_status check_name(btsp_net *net, const char *fn, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len >= BTSP_NAME_MAX)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: name must have 1 to %d characters", fn, BTSP_NAME_MAX - 1);
    /* Names become parts of file names (<Layer><Pop>_<Layer><Pop>.npy) and of one-line
     * messages, so path separators and control characters are refused; '.' separates layer and
     * population in "Layer.Pop" references. */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p == '.' || *p == '/' || *p == '\\' || *p < 0x20 || *p == 0x7f)
            return btsp__net_error(net, BTSP_E_INVALID_ARG,
                                   "%s: name '%s' must not contain '.', '/', '\\' or control characters", fn,
                                   name);
    return BTSP_OK;
}

static int is_flag(double v)
{
    return v == 0.0 || v == 1.0;
}

/* ------------------------------------------------------------------------------------------ */
/* Layers and populations */

btsp_status btsp_layer_add(btsp_net *net, const char *name, btsp_layer **out)
{
    if (out)
        *out = NULL;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!out || !name)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_layer_add: NULL argument");
    REQUIRE_BUILDING(net, "btsp_layer_add");
    btsp_status st = check_name(net, "btsp_layer_add", name);
    if (st)
        return st;
    for (size_t i = 0; i < net->layers.n; i++)
        if (strcmp(((btsp_layer *)net->layers.items[i])->name, name) == 0)
            return btsp__net_error(net, BTSP_E_EXISTS, "btsp_layer_add: a layer named '%s' exists", name);
    btsp_layer *l = btsp__net_calloc(net, 1, sizeof *l);
    if (!l)
        return btsp__net_error(net, BTSP_E_NOMEM, "btsp_layer_add: out of memory");
    l->net = net;
    l->index = net->layers.n;
    memcpy(l->name, name, strlen(name) + 1);
    if ((st = btsp__vec_push(net, &net->layers, l))) {
        btsp__net_free(net, l);
        return st;
    }
    *out = l;
    return BTSP_OK;
}

const char *btsp_layer_name(const btsp_layer *layer) { return layer ? layer->name : NULL; }
size_t btsp_layer_pop_count(const btsp_layer *layer) { return layer ? layer->pops.n : 0; }

btsp_pop *btsp_layer_pop_at(const btsp_layer *layer, size_t i)
{
    return layer && i < layer->pops.n ? layer->pops.items[i] : NULL;
}

btsp_status btsp_pop_add(btsp_layer *layer, const char *name, size_t size, btsp_pop **out)
{
    if (out)
        *out = NULL;
    if (!layer)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = layer->net;
    if (!out || !name)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_add: NULL argument");
    REQUIRE_BUILDING(net, "btsp_pop_add");
    btsp_status st = check_name(net, "btsp_pop_add", name);
    if (st)
        return st;
    if (size == 0 || size > (1u << 24))
        return btsp__net_error(net, BTSP_E_RANGE, "btsp_pop_add: size %zu of '%s.%s' is outside [1, 16777216]", size,
                         layer->name, name);
    for (size_t i = 0; i < layer->pops.n; i++)
        if (strcmp(((btsp_pop *)layer->pops.items[i])->name, name) == 0)
            return btsp__net_error(net, BTSP_E_EXISTS, "btsp_pop_add: population '%s.%s' exists", layer->name, name);
    btsp_pop *p = btsp__net_calloc(net, 1, sizeof *p);
    if (!p)
        return btsp__net_error(net, BTSP_E_NOMEM, "btsp_pop_add: out of memory");
    p->net = net;
    p->layer = layer;
    p->size = size;
    memcpy(p->name, name, strlen(name) + 1);
    snprintf(p->full_name, sizeof p->full_name, "%s.%s", layer->name, name);
    p->act = BTSP_ACT_LINEAR;
    p->bias_lo = -INFINITY;
    p->bias_hi = INFINITY;
    p->bias_init = BTSP_INIT_SCALED_KAIMING;
    p->bias_a = 1.0;
    /* Keep net->pops in sweep order (layer order, then population order) whatever the order of
     * the calls: insert after the last population of this layer or of any earlier layer. */
    size_t pos = net->pops.n; /* net->pops is sorted by layer: scan back from its end (O(1) when
                                 layers are filled in order, as configs are) */
    while (pos > 0 && ((btsp_pop *)net->pops.items[pos - 1])->layer->index > layer->index)
        pos--;
    if ((st = btsp__vec_push(net, &net->pops, p))) {
        btsp__net_free(net, p);
        return st;
    }
    if ((st = btsp__vec_push(net, &layer->pops, p))) {
        net->pops.n--;
        btsp__net_free(net, p);
        return st;
    }
    memmove(&net->pops.items[pos + 1], &net->pops.items[pos], (net->pops.n - 1 - pos) * sizeof(void *));
    net->pops.items[pos] = p;
    for (size_t i = pos; i < net->pops.n; i++) /* the ones before pos kept their places */
        ((btsp_pop *)net->pops.items[i])->index = i;
    *out = p;
    return BTSP_OK;
}

btsp_status btsp_pop_set_activation(btsp_pop *pop, btsp_activation act, double p0, double p1)
{
    if (!pop)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = pop->net;
    REQUIRE_BUILDING(net, "btsp_pop_set_activation");
    if ((int)act < BTSP_ACT_LINEAR || (int)act > BTSP_ACT_SOFTMAX)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_set_activation: unknown activation %d", (int)act);
    if (!btsp__float_value(p0) || !btsp__float_value(p1))
        return btsp__net_error(net, BTSP_E_RANGE,
                               "btsp_pop_set_activation: parameters must be finite floats (got %g, %g)", p0, p1);
    if (act == BTSP_ACT_CLAMP && !(p0 <= p1))
        return btsp__net_error(net, BTSP_E_RANGE, "btsp_pop_set_activation: clamp needs min <= max (got %g, %g)", p0, p1);
    if (act == BTSP_ACT_POLY && !(p1 > 0.0))
        return btsp__net_error(net, BTSP_E_RANGE, "btsp_pop_set_activation: polynomial exponent must be > 0 (got %g)", p1);
    pop->act = act;
    pop->act_p0 = p0;
    pop->act_p1 = p1;
    return BTSP_OK;
}

btsp_status btsp_pop_set(btsp_pop *pop, btsp_pop_param param, double value)
{
    if (!pop)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = pop->net;
    btsp_status st;
    switch (param) {
    case BTSP_POP_TAU:
        REQUIRE_BUILDING(net, "btsp_pop_set(BTSP_POP_TAU)");
        if ((st = btsp__check_range(net, "BTSP_POP_TAU", value, 1.0, 1e6)))
            return st;
        pop->tau = value;
        pop->tau_set = 1;
        return BTSP_OK;
    case BTSP_POP_INCLUDE_BIAS:
        REQUIRE_BUILDING(net, "btsp_pop_set(BTSP_POP_INCLUDE_BIAS)");
        if (!is_flag(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_POP_INCLUDE_BIAS must be 0 or 1, got %g", value);
        if (value == 0.0 && pop->bias_rule)
            return btsp__net_error(net, BTSP_E_STATE, "BTSP_POP_INCLUDE_BIAS: '%s' has a bias rule", pop->full_name);
        pop->include_bias = value != 0.0;
        return BTSP_OK;
    case BTSP_POP_BIAS_LO:
    case BTSP_POP_BIAS_HI: {
        if (isnan(value))
            return btsp__net_error(net, BTSP_E_RANGE, "bias bound of '%s' is NaN", pop->full_name);
        if (!btsp__float_bound(value, param == BTSP_POP_BIAS_HI))
            return btsp__net_error(net, BTSP_E_RANGE,
                                   "%s of '%s' = %g: a bound is a finite float or %sinf",
                                   param == BTSP_POP_BIAS_HI ? "BTSP_POP_BIAS_HI" : "BTSP_POP_BIAS_LO", pop->full_name,
                                   value, param == BTSP_POP_BIAS_HI ? "+" : "-");
        double lo = param == BTSP_POP_BIAS_LO ? value : pop->bias_lo;
        double hi = param == BTSP_POP_BIAS_HI ? value : pop->bias_hi;
        if (lo > hi)
            return btsp__net_error(net, BTSP_E_RANGE, "bias bounds of '%s' would be [%g, %g] (lo > hi)", pop->full_name, lo, hi);
        pop->bias_lo = lo;
        pop->bias_hi = hi;
        if (pop->bias)
            btsp_k_clip(pop->size, pop->bias, (float)lo, (float)hi);
        return BTSP_OK;
    }
    case BTSP_POP_OUTPUT:
        REQUIRE_BUILDING(net, "btsp_pop_set(BTSP_POP_OUTPUT)");
        if (!is_flag(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_POP_OUTPUT must be 0 or 1, got %g", value);
        if (value != 0.0)
            for (size_t i = 0; i < net->pops.n; i++)
                ((btsp_pop *)net->pops.items[i])->output_flag = 0;
        pop->output_flag = value != 0.0;
        return BTSP_OK;
    }
    return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_set: unknown parameter %d", (int)param);
}

btsp_status btsp_pop_get(const btsp_pop *pop, btsp_pop_param param, double *value)
{
    if (value)
        *value = 0.0;
    if (!pop)
        return BTSP_E_INVALID_ARG;
    if (!value)
        return btsp__net_error(pop->net, BTSP_E_INVALID_ARG, "btsp_pop_get: NULL value pointer");
    switch (param) {
    case BTSP_POP_TAU: *value = pop->tau_set || pop->net->finalized ? pop->tau : pop->net->tau; return BTSP_OK;
    case BTSP_POP_INCLUDE_BIAS: *value = pop->include_bias; return BTSP_OK;
    case BTSP_POP_BIAS_LO: *value = pop->bias_lo; return BTSP_OK;
    case BTSP_POP_BIAS_HI: *value = pop->bias_hi; return BTSP_OK;
    case BTSP_POP_OUTPUT: *value = btsp_net_output(pop->net) == pop; return BTSP_OK;
    }
    return btsp__net_error(pop->net, BTSP_E_INVALID_ARG, "btsp_pop_get: unknown parameter %d", (int)param);
}

static btsp_status check_init(btsp_net *net, const char *fn, btsp_init init, double a, double b)
{
    if ((int)init < BTSP_INIT_NONE || (int)init > BTSP_INIT_CONSTANT)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "%s: unknown init scheme %d", fn, (int)init);
    if (!btsp__float_value(a) || !btsp__float_value(b))
        return btsp__net_error(net, BTSP_E_RANGE, "%s: init arguments must be finite floats (got %g, %g)", fn, a, b);
    if ((init == BTSP_INIT_HALF_KAIMING || init == BTSP_INIT_SCALED_KAIMING) && a < 0.0)
        return btsp__net_error(net, BTSP_E_RANGE, "%s: Kaiming scale must be >= 0 (got %g)", fn, a);
    if (init == BTSP_INIT_UNIFORM && a > b)
        return btsp__net_error(net, BTSP_E_RANGE, "%s: uniform init needs a <= b (got %g, %g)", fn, a, b);
    return BTSP_OK;
}

btsp_status btsp_pop_set_bias_init(btsp_pop *pop, btsp_init init, double a, double b)
{
    if (!pop)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = pop->net;
    REQUIRE_BUILDING(net, "btsp_pop_set_bias_init");
    btsp_status st = check_init(net, "btsp_pop_set_bias_init", init, a, b);
    if (st)
        return st;
    pop->bias_init = init;
    pop->bias_a = a;
    pop->bias_b = b;
    pop->include_bias = 1;
    return BTSP_OK;
}

btsp_status btsp_pop_set_bias(btsp_pop *pop, const float *bias, size_t n)
{
    if (!pop)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = pop->net;
    if (!bias)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_set_bias: NULL bias");
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_pop_set_bias: finalize the network first");
    if (!pop->include_bias)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_pop_set_bias: '%s' has no bias", pop->full_name);
    if (n != pop->size)
        return btsp__net_error(net, BTSP_E_SHAPE, "btsp_pop_set_bias: '%s' has %zu units, got %zu values", pop->full_name,
                         pop->size, n);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(bias[i]))
            return btsp__net_error(net, BTSP_E_RANGE, "btsp_pop_set_bias: value %zu is not finite", i);
    memcpy(pop->bias, bias, n * sizeof *bias); /* the cached W x products do not include biases */
    return BTSP_OK;
}

btsp_status btsp_pop_set_bias_rule(btsp_pop *pop, btsp_rule *rule)
{
    if (!pop)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = pop->net;
    if (!rule)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_set_bias_rule: NULL rule");
    REQUIRE_BUILDING(net, "btsp_pop_set_bias_rule");
    if (rule->net != net)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_set_bias_rule: rule belongs to another network");
    if (rule->kind != BTSP_RULE_DENDRITIC_LOSS_BIAS && rule->kind != BTSP_RULE_BACKPROP_BIAS)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_set_bias_rule: rule '%s' is not a bias rule",
                         btsp_rule_kind_name(rule->kind));
    if (rule->proj || rule->bias_pop || pop->bias_rule)
        return btsp__net_error(net, BTSP_E_EXISTS, "btsp_pop_set_bias_rule: rule or population already attached");
    pop->bias_rule = rule;
    rule->bias_pop = pop;
    pop->include_bias = 1;
    return BTSP_OK;
}

size_t btsp_pop_size(const btsp_pop *pop) { return pop ? pop->size : 0; }
const char *btsp_pop_name(const btsp_pop *pop) { return pop ? pop->name : NULL; }
const char *btsp_pop_full_name(const btsp_pop *pop) { return pop ? pop->full_name : NULL; }
btsp_layer *btsp_pop_layer(const btsp_pop *pop) { return pop ? pop->layer : NULL; }

static float *pop_var(const btsp_pop *p, btsp_var var)
{
    switch (var) {
    case BTSP_VAR_ACTIVITY: return p->a;
    case BTSP_VAR_PREV_ACTIVITY: return p->prev;
    case BTSP_VAR_SOMA_STATE: return p->u;
    case BTSP_VAR_FORWARD_ACTIVITY: return p->fwd_a;
    case BTSP_VAR_FORWARD_PREV: return p->fwd_prev;
    case BTSP_VAR_FORWARD_DEND: return p->dend ? p->dend->fwd_state : NULL;
    case BTSP_VAR_DEND_STATE: return p->dend ? p->dend->state : NULL;
    case BTSP_VAR_PLATEAU: return p->plateau;
    case BTSP_VAR_NUDGE: return p->nudge;
    case BTSP_VAR_BIAS: return p->bias;
    default: return NULL;
    }
}

btsp_status btsp_pop_state(const btsp_pop *pop, btsp_var var, const float **data, size_t *n)
{
    if (data)
        *data = NULL;
    if (n)
        *n = 0;
    if (!pop)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = pop->net;
    if (!data || !n)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_state: NULL output pointer");
    if ((int)var < BTSP_VAR_ACTIVITY || (int)var > BTSP_VAR_BIAS)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_pop_state: variable %d is not a population variable",
                         (int)var);
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_pop_state: finalize the network first");
    float *v = pop_var(pop, var);
    if (!v)
        return btsp__net_error(net, BTSP_E_NOT_FOUND, "btsp_pop_state: '%s' has no variable %d (no dendrite, gate or bias)",
                         pop->full_name, (int)var);
    *data = v;
    *n = pop->size;
    return BTSP_OK;
}

btsp_status btsp_pop_copy_state(const btsp_pop *pop, btsp_var var, float *dst, size_t n)
{
    if (!pop)
        return BTSP_E_INVALID_ARG;
    if (!dst)
        return btsp__net_error(pop->net, BTSP_E_INVALID_ARG, "btsp_pop_copy_state: NULL destination");
    const float *src;
    size_t len;
    btsp_status st = btsp_pop_state(pop, var, &src, &len);
    if (st)
        return st;
    if (n != len)
        return btsp__net_error(pop->net, BTSP_E_SHAPE, "btsp_pop_copy_state: '%s' has %zu units, buffer has %zu",
                         pop->full_name, len, n);
    memcpy(dst, src, n * sizeof *dst);
    return BTSP_OK;
}

static btsp_status dend_create(btsp_pop *pop)
{
    btsp_dend *d = btsp__net_calloc(pop->net, 1, sizeof *d);
    if (!d)
        return btsp__net_error(pop->net, BTSP_E_NOMEM, "out of memory creating the dendrite of '%s'", pop->full_name);
    d->pop = pop;
    d->clip = 1.0;
    pop->dend = d;
    return BTSP_OK;
}

btsp_status btsp_pop_dend(btsp_pop *pop, btsp_dend **out)
{
    if (out)
        *out = NULL;
    if (!pop)
        return BTSP_E_INVALID_ARG;
    if (!out)
        return btsp__net_error(pop->net, BTSP_E_INVALID_ARG, "btsp_pop_dend: NULL output pointer");
    if (!pop->dend) {
        if (pop->net->finalized)
            return btsp__net_error(pop->net, BTSP_E_NOT_FOUND, "btsp_pop_dend: '%s' has no dendrite", pop->full_name);
        btsp_status st = dend_create(pop);
        if (st)
            return st;
    }
    *out = pop->dend;
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Dendrites */

btsp_status btsp_dend_set(btsp_dend *dend, btsp_dend_param param, double value)
{
    if (!dend)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = dend->pop->net;
    if (param != BTSP_DEND_CLIP)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_dend_set: unknown parameter %d", (int)param);
    if (!(value > 0.0 && value <= 1e6))
        return btsp__net_error(net, BTSP_E_RANGE, "BTSP_DEND_CLIP = %g is outside (0, 1e6]", value);
    dend->clip = value;
    return BTSP_OK;
}

btsp_status btsp_dend_get(const btsp_dend *dend, btsp_dend_param param, double *value)
{
    if (value)
        *value = 0.0;
    if (!dend)
        return BTSP_E_INVALID_ARG;
    if (!value)
        return btsp__net_error(dend->pop->net, BTSP_E_INVALID_ARG, "btsp_dend_get: NULL value pointer");
    if (param != BTSP_DEND_CLIP)
        return btsp__net_error(dend->pop->net, BTSP_E_INVALID_ARG, "btsp_dend_get: unknown parameter %d", (int)param);
    *value = dend->clip;
    return BTSP_OK;
}

btsp_pop *btsp_dend_pop(const btsp_dend *dend) { return dend ? dend->pop : NULL; }

/* ------------------------------------------------------------------------------------------ */
/* Projections */

btsp_status btsp_proj_add(btsp_pop *pre, btsp_pop *post, btsp_compartment comp, btsp_proj **out)
{
    if (out)
        *out = NULL;
    if (!pre || !post)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = post->net;
    if (!out)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_add: NULL output pointer");
    if (pre->net != net)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_add: populations belong to different networks");
    REQUIRE_BUILDING(net, "btsp_proj_add");
    if (comp != BTSP_SOMA && comp != BTSP_DEND)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_add: unknown compartment %d", (int)comp);
    for (size_t i = 0; i < post->in.n; i++)
        if (((btsp_proj *)post->in.items[i])->pre == pre)
            return btsp__net_error(net, BTSP_E_EXISTS, "btsp_proj_add: '%s' -> '%s' already exists", pre->full_name,
                             post->full_name);
    if (post->size > SIZE_MAX / sizeof(float) / pre->size)
        return btsp__net_error(net, BTSP_E_RANGE, "btsp_proj_add: weight matrix too large");
    btsp_status st;
    int made_dend = 0;
    if (comp == BTSP_DEND && !post->dend) {
        if ((st = dend_create(post)))
            return st;
        made_dend = 1;
    }
    btsp_proj *p = btsp__net_calloc(net, 1, sizeof *p);
    if (!p) {
        st = btsp__net_error(net, BTSP_E_NOMEM, "btsp_proj_add: out of memory");
        goto fail;
    }
    p->net = net;
    p->pre = pre;
    p->post = post;
    p->comp = comp;
    p->dir = BTSP_DIR_FORWARD;
    p->phase = BTSP_PHASE_FORWARD;
    p->lo = -INFINITY;
    p->hi = INFINITY;
    p->init = BTSP_INIT_DEFAULT_LINEAR;
    p->init_a = 1.0;
    p->rows = post->size;
    p->cols = pre->size;
    p->index = net->projs.n;
    snprintf(p->name, sizeof p->name, "%s%s_%s%s", post->layer->name, post->name, pre->layer->name, pre->name);
    if ((st = btsp__vec_push(net, &net->projs, p)))
        goto fail;
    if ((st = btsp__vec_push(net, &post->in, p))) {
        net->projs.n--;
        goto fail;
    }
    *out = p;
    return BTSP_OK;
fail:
    btsp__net_free(net, p);
    if (made_dend) {
        btsp__net_free(net, post->dend);
        post->dend = NULL;
    }
    return st;
}

btsp_status btsp_proj_set_direction(btsp_proj *proj, btsp_direction dir)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    REQUIRE_BUILDING(proj->net, "btsp_proj_set_direction");
    if (dir != BTSP_DIR_FORWARD && dir != BTSP_DIR_RECURRENT)
        return btsp__net_error(proj->net, BTSP_E_INVALID_ARG, "btsp_proj_set_direction: unknown direction %d", (int)dir);
    proj->dir = dir;
    return BTSP_OK;
}

btsp_status btsp_proj_set_phase(btsp_proj *proj, btsp_phase phase)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    REQUIRE_BUILDING(proj->net, "btsp_proj_set_phase");
    if (phase != BTSP_PHASE_FORWARD && phase != BTSP_PHASE_BACKWARD && phase != BTSP_PHASE_ALL)
        return btsp__net_error(proj->net, BTSP_E_INVALID_ARG, "btsp_proj_set_phase: unknown phase %d", (int)phase);
    proj->phase = phase;
    return BTSP_OK;
}

btsp_status btsp_proj_set_bounds(btsp_proj *proj, double lo, double hi)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    if (isnan(lo) || isnan(hi) || lo > hi || !btsp__float_bound(lo, 0) || !btsp__float_bound(hi, 1))
        return btsp__net_error(proj->net, BTSP_E_RANGE,
                               "btsp_proj_set_bounds(%s): invalid bounds [%g, %g] (lo <= hi, each a finite float, lo "
                               "may be -inf and hi +inf)",
                               proj->name, lo, hi);
    proj->lo = lo;
    proj->hi = hi;
    if (proj->net->finalized)
        btsp__engine_apply_bounds(proj->net, proj);
    return BTSP_OK;
}

btsp_status btsp_proj_get_bounds(const btsp_proj *proj, double *lo, double *hi)
{
    if (lo)
        *lo = 0.0;
    if (hi)
        *hi = 0.0;
    if (!proj)
        return BTSP_E_INVALID_ARG;
    if (!lo || !hi)
        return btsp__net_error(proj->net, BTSP_E_INVALID_ARG, "btsp_proj_get_bounds(%s): NULL output pointer", proj->name);
    *lo = proj->lo;
    *hi = proj->hi;
    return BTSP_OK;
}

btsp_status btsp_proj_set_init(btsp_proj *proj, btsp_init init, double a, double b)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    REQUIRE_BUILDING(proj->net, "btsp_proj_set_init");
    btsp_status st = check_init(proj->net, "btsp_proj_set_init", init, a, b);
    if (st)
        return st;
    proj->init = init;
    proj->init_a = a;
    proj->init_b = b;
    return BTSP_OK;
}

static btsp_status check_constraint_free(btsp_proj *proj, const char *fn)
{
    REQUIRE_BUILDING(proj->net, fn);
    if (proj->constraint != CONSTRAINT_NONE)
        return btsp__net_error(proj->net, BTSP_E_EXISTS, "%s: '%s' already has a constraint", fn, proj->name);
    return BTSP_OK;
}

btsp_status btsp_proj_set_normalize(btsp_proj *proj, double scale, int allow_autapses)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_status st = check_constraint_free(proj, "btsp_proj_set_normalize");
    if (st)
        return st;
    if (!(scale > 0.0) || !btsp__float_value(scale))
        return btsp__net_error(proj->net, BTSP_E_RANGE, "btsp_proj_set_normalize(%s): scale %g must be a finite float > 0",
                         proj->name, scale);
    proj->constraint = CONSTRAINT_NORMALIZE;
    proj->norm_scale = scale;
    proj->allow_autapses = allow_autapses != 0;
    return BTSP_OK;
}

btsp_status btsp_proj_set_no_autapses(btsp_proj *proj)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_status st = check_constraint_free(proj, "btsp_proj_set_no_autapses");
    if (st)
        return st;
    if (proj->pre != proj->post)
        return btsp__net_error(proj->net, BTSP_E_INVALID_ARG, "btsp_proj_set_no_autapses(%s): pre and post differ",
                         proj->name);
    proj->constraint = CONSTRAINT_NO_AUTAPSES;
    return BTSP_OK;
}

btsp_status btsp_proj_set_receptive_fields(btsp_proj *proj, size_t side, size_t channels, size_t height, size_t width,
                                           double norm_scale)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = proj->net;
    btsp_status st = check_constraint_free(proj, "btsp_proj_set_receptive_fields");
    if (st)
        return st;
    const size_t pre = proj->cols;
    if (!channels || !height || !width || height > UINT32_MAX || width > UINT32_MAX || channels > pre ||
        height > pre / channels || width > pre / channels / height || channels * height * width != pre)
        return btsp__net_error(net, BTSP_E_SHAPE,
                               "btsp_proj_set_receptive_fields(%s): an image of %zu x %zu x %zu (channels x "
                               "height x width) does not match the %zu presynaptic units",
                               proj->name, channels, height, width, pre);
    if (side < 1 || side > height || side > width)
        return btsp__net_error(net, BTSP_E_RANGE,
                               "btsp_proj_set_receptive_fields(%s): side %zu must be between 1 and the image's "
                               "height and width (%zu x %zu)",
                               proj->name, side, height, width);
    if (!(norm_scale >= 0.0) || !btsp__float_value(norm_scale))
        return btsp__net_error(net, BTSP_E_RANGE,
                               "btsp_proj_set_receptive_fields(%s): norm_scale %g must be a finite float >= 0 (0: no "
                               "normalisation)",
                               proj->name, norm_scale);
    proj->constraint = CONSTRAINT_RF;
    proj->rf_side = side;
    proj->rf_ch = channels;
    proj->rf_h = height;
    proj->rf_w = width;
    proj->norm_scale = norm_scale;
    proj->allow_autapses = 0;
    return BTSP_OK;
}

btsp_status btsp_proj_get_receptive_fields(const btsp_proj *proj, size_t *side, size_t *channels, size_t *height,
                                           size_t *width, double *norm_scale)
{
    const int has = proj && proj->constraint == CONSTRAINT_RF;
    if (side)
        *side = has ? proj->rf_side : 0;
    if (channels)
        *channels = has ? proj->rf_ch : 0;
    if (height)
        *height = has ? proj->rf_h : 0;
    if (width)
        *width = has ? proj->rf_w : 0;
    if (norm_scale)
        *norm_scale = has ? proj->norm_scale : 0.0;
    if (!proj)
        return BTSP_E_INVALID_ARG;
    if (!has)
        return btsp__net_error(proj->net, BTSP_E_STATE,
                               "btsp_proj_get_receptive_fields(%s): the projection has no receptive fields", proj->name);
    return BTSP_OK;
}

btsp_status btsp_proj_receptive_field(const btsp_proj *proj, size_t unit, size_t *row, size_t *col)
{
    if (row)
        *row = 0;
    if (col)
        *col = 0;
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = proj->net;
    if (!row || !col)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_receptive_field(%s): NULL output", proj->name);
    if (proj->constraint != CONSTRAINT_RF)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_proj_receptive_field(%s): the projection has no receptive fields "
                               "(btsp_proj_set_receptive_fields())",
                               proj->name);
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE,
                               "btsp_proj_receptive_field(%s): the fields are drawn at finalize; finalize first",
                               proj->name);
    if (unit >= proj->rows)
        return btsp__net_error(net, BTSP_E_RANGE, "btsp_proj_receptive_field(%s): unit %zu of %zu", proj->name, unit,
                               proj->rows);
    *row = proj->rf_corner[2 * unit];
    *col = proj->rf_corner[2 * unit + 1];
    return BTSP_OK;
}

btsp_status btsp_proj_set_clone(btsp_proj *proj, const btsp_proj *source, double scale, int transpose)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = proj->net;
    if (!source)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_set_clone: NULL source");
    btsp_status st = check_constraint_free(proj, "btsp_proj_set_clone");
    if (st)
        return st;
    if (source->net != net || source == proj)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_set_clone(%s): invalid source", proj->name);
    if (source->constraint == CONSTRAINT_CLONE)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_set_clone(%s): source '%s' is itself a clone",
                         proj->name, source->name);
    for (size_t i = 0; i < net->projs.n; i++) {
        const btsp_proj *o = net->projs.items[i];
        if (o->constraint == CONSTRAINT_CLONE && o->clone_src == proj)
            return btsp__net_error(net, BTSP_E_INVALID_ARG,
                             "btsp_proj_set_clone(%s): it is the source of clone '%s', so it cannot be a clone",
                             proj->name, o->name);
    }
    if (!btsp__float_value(scale))
        return btsp__net_error(net, BTSP_E_RANGE, "btsp_proj_set_clone(%s): scale %g must be a finite float", proj->name,
                               scale);
    size_t r = transpose ? source->cols : source->rows, c = transpose ? source->rows : source->cols;
    if (r != proj->rows || c != proj->cols)
        return btsp__net_error(net, BTSP_E_SHAPE, "btsp_proj_set_clone(%s): %zux%zu cannot clone '%s'%s (%zux%zu)", proj->name,
                         proj->rows, proj->cols, source->name, transpose ? " transposed" : "", r, c);
    if (proj->rule)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_proj_set_clone(%s): a cloned projection cannot have a rule",
                         proj->name);
    proj->constraint = CONSTRAINT_CLONE;
    proj->clone_src = source;
    proj->clone_scale = scale;
    proj->clone_transpose = transpose != 0;
    return BTSP_OK;
}

btsp_status btsp_proj_set_rule(btsp_proj *proj, btsp_rule *rule)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = proj->net;
    if (!rule)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_set_rule: NULL rule");
    REQUIRE_BUILDING(net, "btsp_proj_set_rule");
    if (rule->net != net)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_set_rule: rule belongs to another network");
    if (rule->kind == BTSP_RULE_DENDRITIC_LOSS_BIAS || rule->kind == BTSP_RULE_BACKPROP_BIAS)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_set_rule: '%s' is a bias rule",
                         btsp_rule_kind_name(rule->kind));
    if (proj->rule || rule->proj || rule->bias_pop)
        return btsp__net_error(net, BTSP_E_EXISTS, "btsp_proj_set_rule(%s): projection or rule already attached", proj->name);
    if (proj->constraint == CONSTRAINT_CLONE)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_proj_set_rule(%s): a cloned projection cannot learn", proj->name);
    proj->rule = rule;
    rule->proj = proj;
    return BTSP_OK;
}

btsp_rule *btsp_proj_rule(const btsp_proj *proj) { return proj ? proj->rule : NULL; }
const char *btsp_proj_name(const btsp_proj *proj) { return proj ? proj->name : NULL; }
btsp_pop *btsp_proj_pre(const btsp_proj *proj) { return proj ? proj->pre : NULL; }
btsp_pop *btsp_proj_post(const btsp_proj *proj) { return proj ? proj->post : NULL; }
btsp_compartment btsp_proj_compartment(const btsp_proj *proj) { return proj ? proj->comp : BTSP_SOMA; }
btsp_direction btsp_proj_direction(const btsp_proj *proj) { return proj ? proj->dir : BTSP_DIR_FORWARD; }
btsp_phase btsp_proj_phase(const btsp_proj *proj) { return proj ? proj->phase : BTSP_PHASE_FORWARD; }

btsp_status btsp_proj_weights(const btsp_proj *proj, const float **w, size_t *rows, size_t *cols)
{
    if (w)
        *w = NULL;
    if (rows)
        *rows = 0;
    if (cols)
        *cols = 0;
    if (!proj)
        return BTSP_E_INVALID_ARG;
    if (!w || !rows || !cols)
        return btsp__net_error(proj->net, BTSP_E_INVALID_ARG, "btsp_proj_weights: NULL output pointer");
    if (!proj->net->finalized)
        return btsp__net_error(proj->net, BTSP_E_STATE, "btsp_proj_weights: finalize the network first");
    *w = proj->W;
    *rows = proj->rows;
    *cols = proj->cols;
    return BTSP_OK;
}

btsp_status btsp_proj_set_weights(btsp_proj *proj, const float *w, size_t rows, size_t cols)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = proj->net;
    if (!w)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_set_weights: NULL weights");
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_proj_set_weights: finalize the network first");
    if (rows != proj->rows || cols != proj->cols)
        return btsp__net_error(net, BTSP_E_SHAPE, "btsp_proj_set_weights(%s): expected %zux%zu, got %zux%zu", proj->name,
                         proj->rows, proj->cols, rows, cols);
    for (size_t i = 0; i < rows * cols; i++)
        if (!isfinite(w[i]))
            return btsp__net_error(net, BTSP_E_RANGE, "btsp_proj_set_weights(%s): element %zu is not finite", proj->name, i);
    memcpy(proj->W, w, rows * cols * sizeof *w);
    proj->cache_valid = 0;
    proj->user_set = 1;
    return BTSP_OK;
}

btsp_status btsp_proj_copy_weights(const btsp_proj *proj, float *w, size_t rows, size_t cols)
{
    if (!proj)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = proj->net;
    if (!w)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_proj_copy_weights: NULL buffer");
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_proj_copy_weights: finalize the network first");
    if (rows != proj->rows || cols != proj->cols)
        return btsp__net_error(net, BTSP_E_SHAPE, "btsp_proj_copy_weights(%s): expected %zux%zu, got %zux%zu", proj->name,
                         proj->rows, proj->cols, rows, cols);
    memcpy(w, proj->W, rows * cols * sizeof *w);
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Rules */

btsp_status btsp_rule_create(btsp_net *net, btsp_rule_kind kind, btsp_rule **out)
{
    if (out)
        *out = NULL;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!out)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_create: NULL output pointer");
    REQUIRE_BUILDING(net, "btsp_rule_create");
    if (!btsp__rule_kind_known(kind))
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_create: unknown rule kind %d", (int)kind);
    btsp_rule *r = btsp__net_calloc(net, 1, sizeof *r);
    if (!r)
        return btsp__net_error(net, BTSP_E_NOMEM, "btsp_rule_create: out of memory");
    r->net = net;
    r->kind = kind;
    r->enabled = 1;
    r->sign = 1.0;
    r->dep_ratio = 1.0;
    r->dep_th = 0.01;
    r->dep_width = 0.01;
    r->discount = 0.25;
    r->forward_only = kind == BTSP_RULE_HEBB_WEIGHTNORM ? 1.0 : 0.0;
    r->theta_tau = 1.0;
    r->theta_k = 1.0;
    r->relu_gate = 1.0;
    btsp_status st = btsp__vec_push(net, &net->rules, r);
    if (st) {
        btsp__net_free(net, r);
        return st;
    }
    *out = r;
    return BTSP_OK;
}

btsp_status btsp_rule_set(btsp_rule *rule, btsp_rule_param param, double value)
{
    if (!rule)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = rule->net;
    const char *kname = btsp_rule_kind_name(rule->kind);
    if (!btsp__rule_accepts(rule->kind, param))
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_set: rule '%s' has no parameter %d", kname, (int)param);
    btsp_status st;
    switch (param) {
    case BTSP_RULE_LEARNING_RATE:
        if ((st = btsp__check_range(net, "BTSP_RULE_LEARNING_RATE", value, 0.0, 1e6)))
            return st;
        rule->lr = value;
        rule->lr_set = 1;
        return BTSP_OK;
    case BTSP_RULE_SIGN:
        if (value != 1.0 && value != -1.0)
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_RULE_SIGN must be +1 or -1, got %g", value);
        rule->sign = value;
        return BTSP_OK;
    case BTSP_RULE_DEP_RATIO:
        if ((st = btsp__check_range(net, "BTSP_RULE_DEP_RATIO", value, 0.0, 1e6)))
            return st;
        rule->dep_ratio = value;
        return BTSP_OK;
    case BTSP_RULE_DEP_TH:
        if ((st = btsp__check_range(net, "BTSP_RULE_DEP_TH", value, 0.0, 1.0)))
            return st;
        rule->dep_th = value;
        return BTSP_OK;
    case BTSP_RULE_DEP_WIDTH:
        if ((st = btsp__check_range(net, "BTSP_RULE_DEP_WIDTH", value, 1e-9, 1.0)))
            return st;
        rule->dep_width = value;
        return BTSP_OK;
    case BTSP_RULE_TEMPORAL_DISCOUNT:
        if ((st = btsp__check_range(net, "BTSP_RULE_TEMPORAL_DISCOUNT", value, 0.0, 1.0)))
            return st;
        rule->discount = value;
        return BTSP_OK;
    case BTSP_RULE_FORWARD_ONLY:
        if (!is_flag(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_RULE_FORWARD_ONLY must be 0 or 1, got %g", value);
        rule->forward_only = value;
        return BTSP_OK;
    case BTSP_RULE_W_MAX:
        if ((st = btsp__check_range(net, "BTSP_RULE_W_MAX", value, 0.0, 1e6)))
            return st;
        rule->w_max = value;
        rule->w_max_set = 1;
        return BTSP_OK;
    case BTSP_RULE_THETA_TAU:
        if ((st = btsp__check_range(net, "BTSP_RULE_THETA_TAU", value, 1.0, 1e9)))
            return st;
        rule->theta_tau = value;
        return BTSP_OK;
    case BTSP_RULE_THETA_K:
        if ((st = btsp__check_range(net, "BTSP_RULE_THETA_K", value, 1e-9, 1e9)))
            return st;
        rule->theta_k = value;
        return BTSP_OK;
    case BTSP_RULE_RELU_GATE:
        if (!is_flag(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_RULE_RELU_GATE must be 0 or 1, got %g", value);
        rule->relu_gate = value;
        return BTSP_OK;
    }
    return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_rule_set: unknown parameter %d", (int)param);
}

btsp_status btsp_rule_get(const btsp_rule *rule, btsp_rule_param param, double *value)
{
    if (value)
        *value = 0.0;
    if (!rule)
        return BTSP_E_INVALID_ARG;
    if (!value)
        return btsp__net_error(rule->net, BTSP_E_INVALID_ARG, "btsp_rule_get: NULL value pointer");
    if (!btsp__rule_accepts(rule->kind, param))
        return btsp__net_error(rule->net, BTSP_E_INVALID_ARG, "btsp_rule_get: rule '%s' has no parameter %d",
                         btsp_rule_kind_name(rule->kind), (int)param);
    switch (param) {
    case BTSP_RULE_LEARNING_RATE: *value = btsp__rule_lr(rule); return BTSP_OK;
    case BTSP_RULE_SIGN: *value = rule->sign; return BTSP_OK;
    case BTSP_RULE_DEP_RATIO: *value = rule->dep_ratio; return BTSP_OK;
    case BTSP_RULE_DEP_TH: *value = rule->dep_th; return BTSP_OK;
    case BTSP_RULE_DEP_WIDTH: *value = rule->dep_width; return BTSP_OK;
    case BTSP_RULE_TEMPORAL_DISCOUNT: *value = rule->discount; return BTSP_OK;
    case BTSP_RULE_FORWARD_ONLY: *value = rule->forward_only; return BTSP_OK;
    case BTSP_RULE_W_MAX: *value = btsp__rule_w_max(rule); return BTSP_OK;
    case BTSP_RULE_THETA_TAU: *value = rule->theta_tau; return BTSP_OK;
    case BTSP_RULE_THETA_K: *value = rule->theta_k; return BTSP_OK;
    case BTSP_RULE_RELU_GATE: *value = rule->relu_gate; return BTSP_OK;
    }
    return BTSP_E_INVALID_ARG;
}

btsp_rule_kind btsp_rule_get_kind(const btsp_rule *rule) { return rule ? rule->kind : (btsp_rule_kind)0; }

btsp_status btsp_rule_enable(btsp_rule *rule, int enabled)
{
    if (!rule)
        return BTSP_E_INVALID_ARG;
    rule->enabled = enabled != 0;
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Gates */

btsp_status btsp_gate_create(btsp_net *net, btsp_gate_kind kind, btsp_gate **out)
{
    if (out)
        *out = NULL;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!out)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_gate_create: NULL output pointer");
    REQUIRE_BUILDING(net, "btsp_gate_create");
    if (kind != BTSP_GATE_DENDRITIC && kind != BTSP_GATE_TARGET)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_gate_create: unknown gate kind %d", (int)kind);
    btsp_gate *g = btsp__net_calloc(net, 1, sizeof *g);
    if (!g)
        return btsp__net_error(net, BTSP_E_NOMEM, "btsp_gate_create: out of memory");
    g->net = net;
    g->kind = kind;
    g->max_frac = 1.0;
    g->stochastic = 0;
    g->neg_th = -INFINITY;
    g->relu_gate = 1;
    btsp_status st = btsp__vec_push(net, &net->gates, g);
    if (st) {
        btsp__net_free(net, g);
        return st;
    }
    *out = g;
    return BTSP_OK;
}

btsp_status btsp_gate_set(btsp_gate *gate, btsp_gate_param param, double value)
{
    if (!gate)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = gate->net;
    btsp_status st;
    switch (param) {
    case BTSP_GATE_MAX_POP_FRACTION:
        if ((st = btsp__check_range(net, "BTSP_GATE_MAX_POP_FRACTION", value, 0.0, 1.0)))
            return st;
        gate->max_frac = value;
        return BTSP_OK;
    case BTSP_GATE_STOCHASTIC:
        if (!is_flag(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_GATE_STOCHASTIC must be 0 or 1, got %g", value);
        gate->stochastic = value != 0.0;
        return BTSP_OK;
    case BTSP_GATE_NEG_RATE_TH:
        if (!btsp__float_bound(value, 0)) /* compared with float rates */
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_GATE_NEG_RATE_TH must be a finite float or -inf, got %g",
                                   value);
        gate->neg_th = value;
        return BTSP_OK;
    case BTSP_GATE_RELU_GATE:
        if (!is_flag(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_GATE_RELU_GATE must be 0 or 1, got %g", value);
        gate->relu_gate = value != 0.0;
        return BTSP_OK;
    }
    return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_gate_set: unknown parameter %d", (int)param);
}

btsp_status btsp_gate_get(const btsp_gate *gate, btsp_gate_param param, double *value)
{
    if (value)
        *value = 0.0;
    if (!gate)
        return BTSP_E_INVALID_ARG;
    if (!value)
        return btsp__net_error(gate->net, BTSP_E_INVALID_ARG, "btsp_gate_get: NULL value pointer");
    switch (param) {
    case BTSP_GATE_MAX_POP_FRACTION: *value = gate->max_frac; return BTSP_OK;
    case BTSP_GATE_STOCHASTIC: *value = gate->stochastic; return BTSP_OK;
    case BTSP_GATE_NEG_RATE_TH: *value = gate->neg_th; return BTSP_OK;
    case BTSP_GATE_RELU_GATE: *value = gate->relu_gate; return BTSP_OK;
    }
    return btsp__net_error(gate->net, BTSP_E_INVALID_ARG, "btsp_gate_get: unknown parameter %d", (int)param);
}

btsp_status btsp_gate_attach(btsp_gate *gate, btsp_pop *pop)
{
    if (!gate)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = gate->net;
    if (!pop)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_gate_attach: NULL population");
    REQUIRE_BUILDING(net, "btsp_gate_attach");
    if (pop->net != net)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_gate_attach: population belongs to another network");
    if (gate->pop || pop->gate)
        return btsp__net_error(net, BTSP_E_EXISTS, "btsp_gate_attach: gate or population '%s' already attached",
                         pop->full_name);
    gate->pop = pop;
    pop->gate = gate;
    return BTSP_OK;
}

btsp_gate_kind btsp_gate_get_kind(const btsp_gate *gate) { return gate ? gate->kind : (btsp_gate_kind)0; }
btsp_pop *btsp_gate_pop(const btsp_gate *gate) { return gate ? gate->pop : NULL; }
btsp_gate *btsp_pop_gate(const btsp_pop *pop) { return pop ? pop->gate : NULL; }
