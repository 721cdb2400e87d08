/* Monitors: preallocated recorders of one variable every `stride` training samples. */
#include "internal.h"

#include <string.h>

static btsp_status monitor_new(btsp_net *net, btsp_var var, uint32_t stride, size_t capacity, size_t width,
                               btsp_monitor **out)
{
    if (net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "monitors must be added before finalize");
    if (stride == 0)
        return btsp__net_error(net, BTSP_E_RANGE, "monitor stride must be >= 1");
    if (capacity == 0 || capacity > SIZE_MAX / sizeof(float) / width)
        return btsp__net_error(net, BTSP_E_RANGE, "monitor capacity %zu is 0 or too large", capacity);
    btsp_monitor *m = btsp__net_calloc(net, 1, sizeof *m);
    if (!m)
        return btsp__net_error(net, BTSP_E_NOMEM, "out of memory creating a monitor");
    m->net = net;
    m->var = var;
    m->stride = stride;
    m->capacity = capacity;
    m->width = width;
    btsp_status st = btsp__vec_push(net, &net->mons, m);
    if (st) {
        btsp__net_free(net, m);
        return st;
    }
    *out = m;
    return BTSP_OK;
}

btsp_status btsp_monitor_add_pop(btsp_pop *pop, btsp_var var, uint32_t stride, size_t capacity, btsp_monitor **out)
{
    if (out)
        *out = NULL;
    if (!pop)
        return BTSP_E_INVALID_ARG;
    btsp_net *net = pop->net;
    if (!out)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_monitor_add_pop: NULL output pointer");
    if ((int)var < BTSP_VAR_ACTIVITY || (int)var > BTSP_VAR_BIAS)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_monitor_add_pop: %d is not a population variable", (int)var);
    btsp_status st = monitor_new(net, var, stride, capacity, pop->size, out);
    if (!st)
        (*out)->pop = pop;
    return st;
}

btsp_status btsp_monitor_add_proj(btsp_proj *proj, uint32_t stride, size_t capacity, btsp_monitor **out)
{
    if (out)
        *out = NULL;
    if (!proj)
        return BTSP_E_INVALID_ARG;
    if (!out)
        return btsp__net_error(proj->net, BTSP_E_INVALID_ARG, "btsp_monitor_add_proj: NULL output pointer");
    btsp_status st = monitor_new(proj->net, BTSP_VAR_WEIGHTS, stride, capacity, proj->rows * proj->cols, out);
    if (!st)
        (*out)->proj = proj;
    return st;
}

btsp_status btsp_monitor_add_loss(btsp_net *net, uint32_t stride, size_t capacity, btsp_monitor **out)
{
    if (out)
        *out = NULL;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!out)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_monitor_add_loss: NULL output pointer");
    return monitor_new(net, BTSP_VAR_LOSS, stride, capacity, 1, out);
}

btsp_status btsp__monitor_finalize(btsp_net *net, btsp_monitor *m)
{
    m->data = btsp__net_calloc(net, m->capacity * m->width, sizeof(float));
    m->steps = btsp__net_calloc(net, m->capacity, sizeof(uint64_t));
    m->n = 0;
    m->dropped = 0;
    return m->data && m->steps ? BTSP_OK : BTSP_E_NOMEM;
}

void btsp__monitor_record(btsp_net *net, btsp_monitor *m)
{
    if (net->samples % m->stride != 0)
        return;
    if (m->n == m->capacity) {
        m->dropped++;
        return;
    }
    float *dst = m->data + m->n * m->width;
    const float *src = NULL;
    switch (m->var) {
    case BTSP_VAR_WEIGHTS: src = m->proj->W; break;
    case BTSP_VAR_LOSS: dst[0] = (float)net->last_loss; break;
    case BTSP_VAR_ACTIVITY: src = m->pop->a; break;
    case BTSP_VAR_PREV_ACTIVITY: src = m->pop->prev; break;
    case BTSP_VAR_SOMA_STATE: src = m->pop->u; break;
    case BTSP_VAR_FORWARD_ACTIVITY: src = m->pop->fwd_a; break;
    case BTSP_VAR_FORWARD_PREV: src = m->pop->fwd_prev; break;
    case BTSP_VAR_FORWARD_DEND: src = m->pop->dend->fwd_state; break;
    case BTSP_VAR_DEND_STATE: src = m->pop->dend->state; break;
    case BTSP_VAR_PLATEAU: src = m->pop->plateau; break;
    case BTSP_VAR_NUDGE: src = m->pop->nudge; break;
    case BTSP_VAR_BIAS: src = m->pop->bias; break;
    }
    if (m->var != BTSP_VAR_LOSS) {
        if (src)
            memcpy(dst, src, m->width * sizeof(float));
        else
            memset(dst, 0, m->width * sizeof(float));
    }
    m->steps[m->n++] = net->samples;
}

btsp_status btsp_monitor_data(const btsp_monitor *mon, const float **data, size_t *n_records, size_t *width,
                              const uint64_t **steps)
{
    if (data)
        *data = NULL;
    if (n_records)
        *n_records = 0;
    if (width)
        *width = 0;
    if (steps)
        *steps = NULL;
    if (!mon)
        return BTSP_E_INVALID_ARG;
    if (!data || !n_records || !width)
        return btsp__net_error(mon->net, BTSP_E_INVALID_ARG, "btsp_monitor_data: NULL output pointer");
    if (!mon->net->finalized)
        return btsp__net_error(mon->net, BTSP_E_STATE, "btsp_monitor_data: finalize the network first");
    *data = mon->data;
    *n_records = mon->n;
    *width = mon->width;
    if (steps)
        *steps = mon->steps;
    return BTSP_OK;
}

uint64_t btsp_monitor_dropped(const btsp_monitor *mon)
{
    return mon ? mon->dropped : 0;
}

btsp_status btsp_monitor_clear(btsp_monitor *mon)
{
    if (!mon)
        return BTSP_E_INVALID_ARG;
    mon->n = 0;
    mon->dropped = 0;
    return BTSP_OK;
}
