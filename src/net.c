/* Network lifecycle, memory accounting, error reporting, parameters and look-ups. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every block carries its size in front so memory_bytes stays exact; the union keeps the
 * payload aligned for any type. */
typedef union mem_header {
    size_t size;
    max_align_t align;
} mem_header;

static void *default_alloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void default_free(void *user, void *ptr)
{
    (void)user;
    free(ptr);
}

void *btsp__net_alloc(btsp_net *net, size_t size)
{
    if (size > SIZE_MAX - sizeof(mem_header))
        return NULL;
    mem_header *h = net->alloc.alloc(net->alloc.user, sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    net->bytes += size;
    return h + 1;
}

void *btsp__net_calloc(btsp_net *net, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = btsp__net_alloc(net, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void btsp__net_free(btsp_net *net, void *p)
{
    if (!p)
        return;
    mem_header *h = (mem_header *)p - 1;
    net->bytes -= h->size;
    net->alloc.free(net->alloc.user, h);
}

btsp_status btsp__net_error(btsp_net *net, btsp_status code, const char *fmt, ...)
{
    if (!net)
        return code;
    net->errcode = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(net->errmsg, sizeof net->errmsg, fmt, ap);
    va_end(ap);
    /* Messages are one line whatever the caller's strings hold (names, file contents). */
    for (char *p = net->errmsg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return code;
}

btsp_status btsp__vec_push(btsp_net *net, ptr_vec *v, void *item)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 8;
        void **items = btsp__net_alloc(net, cap * sizeof *items);
        if (!items)
            return btsp__net_error(net, BTSP_E_NOMEM, "out of memory growing an object list to %zu entries", cap);
        if (v->n)
            memcpy(items, v->items, v->n * sizeof *items);
        btsp__net_free(net, v->items);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = item;
    return BTSP_OK;
}

void btsp__vec_free(btsp_net *net, ptr_vec *v)
{
    btsp__net_free(net, v->items);
    v->items = NULL;
    v->n = v->cap = 0;
}

btsp_status btsp__check_range(btsp_net *net, const char *what, double v, double lo, double hi)
{
    if (!(v >= lo && v <= hi) || isnan(v))
        return btsp__net_error(net, BTSP_E_RANGE, "%s = %g is outside [%g, %g]", what, v, lo, hi);
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */

btsp_status btsp_net_create(btsp_net **out)
{
    btsp_allocator a = {default_alloc, default_free, NULL};
    return btsp_net_create_with_allocator(&a, out);
}

btsp_status btsp_net_create_with_allocator(const btsp_allocator *alloc, btsp_net **out)
{
    if (!out)
        return BTSP_E_INVALID_ARG;
    *out = NULL;
    if (!alloc || !alloc->alloc || !alloc->free)
        return BTSP_E_INVALID_ARG;
    mem_header *h = alloc->alloc(alloc->user, sizeof *h + sizeof(btsp_net));
    if (!h)
        return BTSP_E_NOMEM;
    h->size = sizeof(btsp_net);
    btsp_net *net = (btsp_net *)(h + 1);
    memset(net, 0, sizeof *net);
    net->alloc = *alloc;
    net->bytes = sizeof(btsp_net);
    net->tau = 1.0;
    net->forward_steps = 1;
    net->backward_steps = 1;
    net->lr = 0.01;
    net->eval_block = 64;
    net->backward = BTSP_BACKWARD_NONE;
    *out = net;
    return BTSP_OK;
}

void btsp_net_destroy(btsp_net *net)
{
    if (!net)
        return;
    btsp__engine_free_state(net);
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        btsp__vec_free(net, &p->in);
        btsp__net_free(net, p->dend);
        btsp__net_free(net, p);
    }
    for (size_t i = 0; i < net->layers.n; i++) {
        btsp_layer *l = net->layers.items[i];
        btsp__vec_free(net, &l->pops);
        btsp__net_free(net, l);
    }
    for (size_t i = 0; i < net->projs.n; i++)
        btsp__net_free(net, net->projs.items[i]);
    for (size_t i = 0; i < net->rules.n; i++)
        btsp__net_free(net, net->rules.items[i]);
    for (size_t i = 0; i < net->gates.n; i++)
        btsp__net_free(net, net->gates.items[i]);
    for (size_t i = 0; i < net->mons.n; i++)
        btsp__net_free(net, net->mons.items[i]);
    btsp__vec_free(net, &net->layers);
    btsp__vec_free(net, &net->pops);
    btsp__vec_free(net, &net->projs);
    btsp__vec_free(net, &net->rules);
    btsp__vec_free(net, &net->gates);
    btsp__vec_free(net, &net->mons);
    btsp_allocator a = net->alloc;
    a.free(a.user, (mem_header *)net - 1);
}

const char *btsp_net_errmsg(const btsp_net *net)
{
    if (!net)
        return "no network (NULL handle)";
    return net->errmsg;
}

btsp_status btsp_net_errcode(const btsp_net *net)
{
    return net ? net->errcode : BTSP_E_INVALID_ARG;
}

btsp_status btsp_net_set(btsp_net *net, btsp_net_param param, double value)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    btsp_status st;
    switch (param) {
    case BTSP_NET_TAU:
    case BTSP_NET_FORWARD_STEPS:
    case BTSP_NET_BACKWARD_STEPS:
    case BTSP_NET_EVAL_BLOCK:
    case BTSP_NET_INIT_RNG:
        if (net->finalized)
            return btsp__net_error(net, BTSP_E_STATE, "btsp_net_set: parameter %d can only be set before finalize",
                             (int)param);
        break;
    default:
        break;
    }
    switch (param) {
    case BTSP_NET_TAU:
        if ((st = btsp__check_range(net, "BTSP_NET_TAU", value, 1.0, 1e6)))
            return st;
        net->tau = value;
        return BTSP_OK;
    case BTSP_NET_FORWARD_STEPS:
        if ((st = btsp__check_range(net, "BTSP_NET_FORWARD_STEPS", value, 1.0, 100000.0)))
            return st;
        if (value != floor(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_NET_FORWARD_STEPS = %g is not an integer", value);
        net->forward_steps = value;
        return BTSP_OK;
    case BTSP_NET_BACKWARD_STEPS:
        if ((st = btsp__check_range(net, "BTSP_NET_BACKWARD_STEPS", value, 0.0, 100000.0)))
            return st;
        if (value != floor(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_NET_BACKWARD_STEPS = %g is not an integer", value);
        net->backward_steps = value;
        return BTSP_OK;
    case BTSP_NET_LEARNING_RATE:
        if ((st = btsp__check_range(net, "BTSP_NET_LEARNING_RATE", value, 0.0, 1e6)))
            return st;
        net->lr = value;
        return BTSP_OK;
    case BTSP_NET_CHECK_FINITE:
        if (value != 0.0 && value != 1.0)
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_NET_CHECK_FINITE must be 0 or 1, got %g", value);
        net->check_finite = value != 0.0;
        return BTSP_OK;
    case BTSP_NET_EVAL_BLOCK:
        if ((st = btsp__check_range(net, "BTSP_NET_EVAL_BLOCK", value, 1.0, 65536.0)))
            return st;
        if (value != floor(value))
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_NET_EVAL_BLOCK = %g is not an integer", value);
        net->eval_block = (size_t)value;
        return BTSP_OK;
    case BTSP_NET_INIT_RNG:
        if (value != BTSP_INIT_RNG_COUNTER && value != BTSP_INIT_RNG_TORCH)
            return btsp__net_error(net, BTSP_E_RANGE, "BTSP_NET_INIT_RNG must be %d (counter) or %d (torch), got %g",
                                   BTSP_INIT_RNG_COUNTER, BTSP_INIT_RNG_TORCH, value);
        net->init_rng = (int)value;
        return BTSP_OK;
    }
    return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_net_set: unknown parameter %d", (int)param);
}

btsp_status btsp_net_get(const btsp_net *net, btsp_net_param param, double *value)
{
    if (value)
        *value = 0.0;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!value)
        return btsp__net_error((btsp_net *)net, BTSP_E_INVALID_ARG, "btsp_net_get: NULL value pointer");
    switch (param) {
    case BTSP_NET_TAU: *value = net->tau; return BTSP_OK;
    case BTSP_NET_FORWARD_STEPS: *value = net->forward_steps; return BTSP_OK;
    case BTSP_NET_BACKWARD_STEPS: *value = net->backward_steps; return BTSP_OK;
    case BTSP_NET_LEARNING_RATE: *value = net->lr; return BTSP_OK;
    case BTSP_NET_CHECK_FINITE: *value = net->check_finite; return BTSP_OK;
    case BTSP_NET_EVAL_BLOCK: *value = (double)net->eval_block; return BTSP_OK;
    case BTSP_NET_INIT_RNG: *value = (double)net->init_rng; return BTSP_OK;
    }
    return btsp__net_error((btsp_net *)net, BTSP_E_INVALID_ARG, "btsp_net_get: unknown parameter %d", (int)param);
}

btsp_status btsp_net_seed(btsp_net *net, uint64_t seed)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    net->seed = seed;
    return BTSP_OK;
}

uint64_t btsp_net_get_seed(const btsp_net *net)
{
    return net ? net->seed : 0;
}

btsp_status btsp_net_set_backward(btsp_net *net, btsp_backward_mode mode)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_set_backward: network already finalized");
    switch (mode) {
    case BTSP_BACKWARD_NONE:
    case BTSP_BACKWARD_SETTLE:
    case BTSP_BACKWARD_SINGLE:
    case BTSP_BACKWARD_OUTPUT_ONLY:
        net->backward = mode;
        return BTSP_OK;
    }
    return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_net_set_backward: unknown mode %d", (int)mode);
}

btsp_backward_mode btsp_net_get_backward(const btsp_net *net)
{
    return net ? net->backward : BTSP_BACKWARD_NONE;
}

btsp_status btsp_net_set_step_hook(btsp_net *net, btsp_step_fn fn, void *user)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    net->hook = fn;
    net->hook_user = user;
    return BTSP_OK;
}

void btsp_net_set_user_data(btsp_net *net, void *user)
{
    if (net)
        net->user = user;
}

void *btsp_net_user_data(const btsp_net *net)
{
    return net ? net->user : NULL;
}

int btsp_net_is_finalized(const btsp_net *net)
{
    return net ? net->finalized : 0;
}

uint64_t btsp_net_sample_count(const btsp_net *net)
{
    return net ? net->samples : 0;
}

double btsp_net_last_loss(const btsp_net *net)
{
    return net ? net->last_loss : 0.0;
}

size_t btsp_net_memory_bytes(const btsp_net *net)
{
    return net ? net->bytes : 0;
}

btsp_pop *btsp_net_input(const btsp_net *net)
{
    if (!net || net->layers.n == 0)
        return NULL;
    const btsp_layer *l = net->layers.items[0];
    return l->pops.n ? l->pops.items[0] : NULL;
}

btsp_pop *btsp_net_output(const btsp_net *net)
{
    if (!net)
        return NULL;
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        if (p->output_flag)
            return p;
    }
    if (net->layers.n < 2)
        return NULL;
    const btsp_layer *l = net->layers.items[net->layers.n - 1];
    return l->pops.n ? l->pops.items[0] : NULL;
}

size_t btsp_net_layer_count(const btsp_net *net) { return net ? net->layers.n : 0; }
size_t btsp_net_pop_count(const btsp_net *net) { return net ? net->pops.n : 0; }
size_t btsp_net_proj_count(const btsp_net *net) { return net ? net->projs.n : 0; }

btsp_layer *btsp_net_layer_at(const btsp_net *net, size_t i)
{
    return net && i < net->layers.n ? net->layers.items[i] : NULL;
}

btsp_pop *btsp_net_pop_at(const btsp_net *net, size_t i)
{
    return net && i < net->pops.n ? net->pops.items[i] : NULL;
}

btsp_proj *btsp_net_proj_at(const btsp_net *net, size_t i)
{
    return net && i < net->projs.n ? net->projs.items[i] : NULL;
}

btsp_status btsp_net_find_pop(const btsp_net *net, const char *name, btsp_pop **out)
{
    if (out)
        *out = NULL;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!out || !name)
        return btsp__net_error((btsp_net *)net, BTSP_E_INVALID_ARG, "btsp_net_find_pop: NULL argument");
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        if (strcmp(p->full_name, name) == 0) {
            *out = p;
            return BTSP_OK;
        }
    }
    return btsp__net_error((btsp_net *)net, BTSP_E_NOT_FOUND, "no population named '%s'", name);
}

btsp_status btsp_net_find_proj(const btsp_net *net, const char *name, btsp_proj **out)
{
    if (out)
        *out = NULL;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!out || !name)
        return btsp__net_error((btsp_net *)net, BTSP_E_INVALID_ARG, "btsp_net_find_proj: NULL argument");
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *p = net->projs.items[i];
        if (strcmp(p->name, name) == 0) {
            *out = p;
            return BTSP_OK;
        }
    }
    return btsp__net_error((btsp_net *)net, BTSP_E_NOT_FOUND, "no projection named '%s'", name);
}
