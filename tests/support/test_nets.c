#include "test_nets.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define TRY(call)                                                                                    \
    do {                                                                                             \
        btsp_status st_ = (call);                                                                    \
        if (st_ != BTSP_OK)                                                                          \
            return st_;                                                                              \
    } while (0)

btsp_status tiny_build(btsp_net *net, tiny_net *t)
{
    t->net = net;
    TRY(btsp_net_set(net, BTSP_NET_TAU, 2.5));
    TRY(btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 3.0));
    TRY(btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    TRY(btsp_layer_add(net, "Input", &t->lin));
    TRY(btsp_pop_add(t->lin, "E", TINY_IN, &t->in));
    TRY(btsp_layer_add(net, "Output", &t->lout));
    TRY(btsp_pop_add(t->lout, "E", TINY_OUT, &t->out));
    TRY(btsp_pop_set_activation(t->out, BTSP_ACT_RELU, 0.0, 0.0));
    TRY(btsp_proj_add(t->in, t->out, BTSP_SOMA, &t->w));
    TRY(btsp_proj_set_bounds(t->w, 0.0, 0.875));
    TRY(btsp_proj_set_init(t->w, BTSP_INIT_HALF_KAIMING, 1.15, 0.0));
    TRY(btsp_rule_create(net, BTSP_RULE_BTSP, &t->rule));
    TRY(btsp_rule_set(t->rule, BTSP_RULE_LEARNING_RATE, 0.37));
    TRY(btsp_proj_set_rule(t->w, t->rule));
    TRY(btsp_gate_create(net, BTSP_GATE_TARGET, &t->gate));
    TRY(btsp_gate_attach(t->gate, t->out));
    return BTSP_OK;
}

btsp_status tiny_create(tiny_net *t, uint64_t seed)
{
    btsp_net *net = NULL;
    t->net = NULL;
    TRY(btsp_net_create(&net));
    t->net = net;
    TRY(btsp_net_seed(net, seed));
    TRY(tiny_build(net, t));
    return btsp_net_finalize(net);
}

void test_fill_data(float *X, float *Y, size_t n, size_t nx, size_t ny, uint32_t salt)
{
    uint32_t s = 0x9E3779B9u ^ (salt * 0x85EBCA6Bu);
    for (size_t i = 0; i < n * nx; i++) {
        s = s * 1664525u + 1013904223u;
        uint32_t v = s >> 8;
        X[i] = (v % 7u == 0u) ? 0.0f : (float)v / 16777216.0f;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < ny; j++)
            Y[i * ny + j] = (j == i % ny) ? 1.0f : 0.0f;
}

/* ------------------------------------------------------------------------------------------ */

static btsp_status rep_do(rep_net *r, size_t i)
{
    btsp_net *net = r->net;
    switch (i) {
    case 0:
        if (r->alloc)
            return btsp_net_create_with_allocator(r->alloc, &r->net);
        return btsp_net_create(&r->net);
    case 1: return btsp_net_seed(net, r->seed);
    case 2: return btsp_net_set(net, BTSP_NET_TAU, 2.0);
    case 3: return btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 4.0);
    case 4: return btsp_net_set(net, BTSP_NET_EVAL_BLOCK, 7.0);
    case 5: return btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE);
    case 6: return btsp_layer_add(net, "Input", &r->lin);
    case 7: return btsp_pop_add(r->lin, "E", REP_IN, &r->in);
    case 8: return btsp_layer_add(net, "H1", &r->lh);
    case 9: return btsp_pop_add(r->lh, "E", REP_HE, &r->hE);
    case 10: return btsp_pop_add(r->lh, "I", REP_HI, &r->hI);
    case 11: return btsp_layer_add(net, "Output", &r->lout);
    case 12: return btsp_pop_add(r->lout, "E", REP_OUT, &r->out);
    case 13: return btsp_pop_set_activation(r->hE, BTSP_ACT_RELU, 0.0, 0.0);
    case 14: return btsp_pop_set_activation(r->hI, BTSP_ACT_RELU, 0.0, 0.0);
    case 15: return btsp_pop_set_activation(r->out, BTSP_ACT_RELU, 0.0, 0.0);
    case 16: return btsp_pop_set_bias_init(r->hE, BTSP_INIT_UNIFORM, -0.0625, 0.1875);
    case 17: return btsp_pop_dend(r->hE, &r->dend);
    case 18: return btsp_dend_set(r->dend, BTSP_DEND_CLIP, 0.8125);
    case 19: return btsp_proj_add(r->in, r->hE, BTSP_SOMA, &r->hE_in);
    case 20: return btsp_proj_set_bounds(r->hE_in, 0.0, 1.25);
    case 21: return btsp_proj_set_init(r->hE_in, BTSP_INIT_HALF_KAIMING, 1.0, 0.0);
    case 22: return btsp_proj_add(r->hE, r->hI, BTSP_SOMA, &r->hI_hE);
    case 23: return btsp_proj_set_bounds(r->hI_hE, 0.0, INFINITY);
    case 24: return btsp_proj_set_normalize(r->hI_hE, 1.3, 1);
    case 25: return btsp_proj_add(r->hI, r->hE, BTSP_SOMA, &r->hE_hI);
    case 26: return btsp_proj_set_bounds(r->hE_hI, -INFINITY, 0.0);
    case 27: return btsp_proj_set_init(r->hE_hI, BTSP_INIT_HALF_KAIMING, 0.7, 0.0);
    case 28: return btsp_proj_set_direction(r->hE_hI, BTSP_DIR_RECURRENT);
    case 29: return btsp_proj_set_phase(r->hE_hI, BTSP_PHASE_ALL);
    case 30: return btsp_proj_add(r->hE, r->out, BTSP_SOMA, &r->out_hE);
    case 31: return btsp_proj_set_bounds(r->out_hE, 0.0, 0.9);
    case 32: return btsp_proj_set_init(r->out_hE, BTSP_INIT_HALF_KAIMING, 1.4, 0.0);
    case 33: return btsp_proj_add(r->out, r->hE, BTSP_DEND, &r->hEd_out);
    case 34: return btsp_proj_set_clone(r->hEd_out, r->out_hE, 0.75, 1);
    case 35: return btsp_rule_create(net, BTSP_RULE_BTSP, &r->r_in);
    case 36: return btsp_rule_set(r->r_in, BTSP_RULE_LEARNING_RATE, 0.41);
    case 37: return btsp_proj_set_rule(r->hE_in, r->r_in);
    case 38: return btsp_rule_create(net, BTSP_RULE_BTSP, &r->r_out);
    case 39: return btsp_rule_set(r->r_out, BTSP_RULE_TEMPORAL_DISCOUNT, 0.3);
    case 40: return btsp_proj_set_rule(r->out_hE, r->r_out);
    case 41: return btsp_rule_create(net, BTSP_RULE_DENDRITIC_LOSS_BIAS, &r->r_bias);
    case 42: return btsp_rule_set(r->r_bias, BTSP_RULE_LEARNING_RATE, 0.053);
    case 43: return btsp_pop_set_bias_rule(r->hE, r->r_bias);
    case 44: return btsp_gate_create(net, BTSP_GATE_DENDRITIC, &r->g_h);
    case 45: return btsp_gate_set(r->g_h, BTSP_GATE_MAX_POP_FRACTION, 0.34);
    case 46: return btsp_gate_attach(r->g_h, r->hE);
    case 47: return btsp_gate_create(net, BTSP_GATE_TARGET, &r->g_out);
    case 48: return btsp_gate_attach(r->g_out, r->out);
    case 49: return btsp_monitor_add_pop(r->hE, BTSP_VAR_ACTIVITY, 2, 5, &r->m_act);
    case 50: return btsp_monitor_add_proj(r->out_hE, 1, 8, &r->m_w);
    case 51: return btsp_monitor_add_loss(net, 1, 16, &r->m_loss);
    case 52: return btsp_net_finalize(net);
    default: return BTSP_E_INTERNAL;
    }
}

size_t rep_n_steps(void) { return 53; }

btsp_status rep_step(rep_net *r, size_t i) { return rep_do(r, i); }

btsp_status rep_build(rep_net *r)
{
    for (size_t i = 0; i < rep_n_steps(); i++)
        TRY(rep_do(r, i));
    return BTSP_OK;
}

int test_nets_equal(const btsp_net *a, const btsp_net *b)
{
    if (btsp_net_proj_count(a) != btsp_net_proj_count(b) || btsp_net_pop_count(a) != btsp_net_pop_count(b))
        return 0;
    for (size_t i = 0; i < btsp_net_proj_count(a); i++) {
        const float *wa, *wb;
        size_t ra, ca, rb, cb;
        if (btsp_proj_weights(btsp_net_proj_at(a, i), &wa, &ra, &ca) != BTSP_OK ||
            btsp_proj_weights(btsp_net_proj_at(b, i), &wb, &rb, &cb) != BTSP_OK || ra != rb || ca != cb)
            return 0;
        if (memcmp(wa, wb, ra * ca * sizeof *wa) != 0)
            return 0;
    }
    for (size_t i = 0; i < btsp_net_pop_count(a); i++) {
        const float *ba, *bb;
        size_t na, nb;
        btsp_status sa = btsp_pop_state(btsp_net_pop_at(a, i), BTSP_VAR_BIAS, &ba, &na);
        btsp_status sb = btsp_pop_state(btsp_net_pop_at(b, i), BTSP_VAR_BIAS, &bb, &nb);
        if (sa != sb)
            return 0;
        if (sa == BTSP_OK && (na != nb || memcmp(ba, bb, na * sizeof *ba) != 0))
            return 0;
    }
    return 1;
}
