/* Network dynamics against hand computation (eiann-model.md sections 1.4, 1.5, 2.1-2.5), and
 * invariants of training on a small random E/I network: Dale's law (bounds) after every step,
 * exact clones, batched evaluation equal to single-sample forward passes, determinism. */
#include "test_model_util.h"

#include "btsp/btsp_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static btsp_pop *add_pop(btsp_net *net, btsp_layer *L, const char *name, size_t n, btsp_activation act)
{
    btsp_pop *p;
    OK(net, btsp_pop_add(L, name, n, &p));
    OK(net, btsp_pop_set_activation(p, act, 0, 0));
    return p;
}

static btsp_layer *add_layer(btsp_net *net, const char *name)
{
    btsp_layer *L;
    OK(net, btsp_layer_add(net, name, &L));
    return L;
}

static btsp_proj *connect(btsp_net *net, btsp_pop *pre, btsp_pop *post, btsp_compartment c, btsp_direction dir,
                          btsp_phase phase)
{
    btsp_proj *q;
    OK(net, btsp_proj_add(pre, post, c, &q));
    OK(net, btsp_proj_set_direction(q, dir));
    OK(net, btsp_proj_set_phase(q, phase));
    OK(net, btsp_proj_set_init(q, BTSP_INIT_NONE, 0, 0));
    return q;
}

static btsp_net *new_net(double tau, int T)
{
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    OK(net, btsp_net_set(net, BTSP_NET_TAU, tau));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, T));
    return net;
}

/* ------------------------------------------------------------------------------------------ */
/* Forward phase */

/* One population with constant drive I: u_t = u_{t-1} + (I - u_{t-1}) / tau from u_0 = 0 gives
 * u_T = I (1 - (1 - 1/tau)^T). Population L.E uses the network tau 3, L.F its own tau 5. */
static void forward_closed_form(void **state_)
{
    (void)state_;
    const int T = 7;
    btsp_net *net = new_net(3, T);
    btsp_layer *L0 = add_layer(net, "Input"), *L1 = add_layer(net, "L");
    btsp_pop *in = add_pop(net, L0, "E", 2, BTSP_ACT_LINEAR);
    btsp_pop *e = add_pop(net, L1, "E", 2, BTSP_ACT_LINEAR);
    btsp_pop *f = add_pop(net, L1, "F", 2, BTSP_ACT_LINEAR);
    OK(net, btsp_pop_set(f, BTSP_POP_TAU, 5));
    btsp_proj *we = connect(net, in, e, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
    btsp_proj *wf = connect(net, in, f, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
    OK(net, btsp_net_finalize(net));
    const float W[4] = {1.0f, 0.5f, 0.25f, -1.0f};
    OK(net, btsp_proj_set_weights(we, W, 2, 2));
    OK(net, btsp_proj_set_weights(wf, W, 2, 2));
    const float x[2] = {0.8f, 0.4f};
    OK(net, btsp_net_forward(net, x, 2));
    /* I = (0.8 + 0.2, 0.2 - 0.4) = (1.0, -0.2) */
    const double I[2] = {1.0, -0.2};
    for (int i = 0; i < 2; i++) {
        /* tau 3: u_7 = I (1 - (2/3)^7) = 0.941472 I; u_6 = I (1 - (2/3)^6) */
        CLOSE(state(e, BTSP_VAR_SOMA_STATE)[i], I[i] * (1.0 - pow(2.0 / 3.0, T)));
        CLOSE(state(e, BTSP_VAR_ACTIVITY)[i], I[i] * (1.0 - pow(2.0 / 3.0, T)));
        CLOSE(state(e, BTSP_VAR_PREV_ACTIVITY)[i], I[i] * (1.0 - pow(2.0 / 3.0, T - 1)));
        /* tau 5: u_7 = I (1 - 0.8^7) = 0.7902848 I */
        CLOSE(state(f, BTSP_VAR_SOMA_STATE)[i], I[i] * (1.0 - pow(0.8, T)));
    }
    CLOSE(state(e, BTSP_VAR_ACTIVITY)[0], 1.0 - 128.0 / 2187.0);
    btsp_net_destroy(net);
}

/* Chain Input -> A -> B -> C (one population per layer, linear, weights 1, tau 2, T = 3, x = 1).
 * With A -> B recurrent (reads A of the previous step):
 *   t=1: A = 0 + (1 - 0)/2 = 0.5      B = 0 + (0 - 0)/2 = 0           C = 0
 *   t=2: A = 0.5 + 0.5/2  = 0.75      B = 0 + (0.5 - 0)/2 = 0.25      C = 0 + 0.25/2 = 0.125
 *   t=3: A = 0.875                    B = 0.25 + (0.75 - 0.25)/2 = 0.5  C = 0.125 + (0.5 - 0.125)/2 = 0.3125
 * With all forward (B reads A of the same step):
 *   t=1: A = 0.5   B = 0.25     C = 0.125
 *   t=2: A = 0.75  B = 0.5      C = 0.3125
 *   t=3: A = 0.875 B = 0.6875   C = 0.5 */
static void chain_forward_vs_recurrent(void **state_)
{
    (void)state_;
    const double want[2][2][3] = {
        {{0.875, 0.5, 0.3125}, {0.75, 0.25, 0.125}},  /* recurrent A -> B: step 3, step 2 */
        {{0.875, 0.6875, 0.5}, {0.75, 0.5, 0.3125}}, /* forward */
    };
    for (int v = 0; v < 2; v++) {
        btsp_net *net = new_net(2, 3);
        btsp_pop *in = add_pop(net, add_layer(net, "Input"), "E", 1, BTSP_ACT_LINEAR);
        btsp_pop *a = add_pop(net, add_layer(net, "A"), "E", 1, BTSP_ACT_LINEAR);
        btsp_pop *b = add_pop(net, add_layer(net, "B"), "E", 1, BTSP_ACT_LINEAR);
        btsp_pop *c = add_pop(net, add_layer(net, "C"), "E", 1, BTSP_ACT_LINEAR);
        btsp_proj *q[3];
        q[0] = connect(net, in, a, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
        q[1] = connect(net, a, b, BTSP_SOMA, v == 0 ? BTSP_DIR_RECURRENT : BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
        q[2] = connect(net, b, c, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
        OK(net, btsp_net_finalize(net));
        const float one = 1.0f;
        for (int k = 0; k < 3; k++)
            OK(net, btsp_proj_set_weights(q[k], &one, 1, 1));
        OK(net, btsp_net_forward(net, &one, 1));
        btsp_pop *pops[3] = {a, b, c};
        for (int k = 0; k < 3; k++) {
            CLOSE(state(pops[k], BTSP_VAR_ACTIVITY)[0], want[v][0][k]);
            CLOSE(state(pops[k], BTSP_VAR_PREV_ACTIVITY)[0], want[v][1][k]);
        }
        btsp_net_destroy(net);
    }
}

/* Sweep order inside a layer L = (P1, P2), tau 1, x = 1: Input -> P1 (1), P1 -> P2 forward (2),
 * P2 -> P1 forward (0.5). P1 comes first, so P2 sees P1 of the same step while P1 sees P2 of the
 * previous step (forward projection from a later population):
 *   t=1: P1 = 1 + 0.5 * 0 = 1   P2 = 2 * 1 = 2
 *   t=2: P1 = 1 + 0.5 * 2 = 2   P2 = 2 * 2 = 4
 *   t=3: P1 = 1 + 0.5 * 4 = 3   P2 = 6 */
static void sweep_order(void **state_)
{
    (void)state_;
    for (int T = 1; T <= 3; T++) {
        btsp_net *net = new_net(1, T);
        btsp_pop *in = add_pop(net, add_layer(net, "Input"), "E", 1, BTSP_ACT_LINEAR);
        btsp_layer *L = add_layer(net, "L");
        btsp_pop *p1 = add_pop(net, L, "P1", 1, BTSP_ACT_LINEAR);
        btsp_pop *p2 = add_pop(net, L, "P2", 1, BTSP_ACT_LINEAR);
        btsp_proj *a = connect(net, in, p1, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
        btsp_proj *b = connect(net, p1, p2, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
        btsp_proj *c = connect(net, p2, p1, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
        OK(net, btsp_net_finalize(net));
        const float w1 = 1.0f, w2 = 2.0f, w3 = 0.5f, x = 1.0f;
        OK(net, btsp_proj_set_weights(a, &w1, 1, 1));
        OK(net, btsp_proj_set_weights(b, &w2, 1, 1));
        OK(net, btsp_proj_set_weights(c, &w3, 1, 1));
        OK(net, btsp_net_forward(net, &x, 1));
        CLOSE(state(p1, BTSP_VAR_ACTIVITY)[0], (double)T);
        CLOSE(state(p2, BTSP_VAR_ACTIVITY)[0], 2.0 * T);
        btsp_net_destroy(net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Backward phase */

/* Input(2) -> Output(2, relu) with a target gate, tau 2, T = 3, x = (1, 1),
 * W = [0.5 0.25; 0.75 0.5]: I = (0.75, 1.25).
 * Forward: u = I (1 - 1/8) = (0.65625, 1.09375) = a_fwd. Target (1, 0):
 *   P = n = (1 - 0.65625, clip(0 - 1.09375)) = (0.34375, -1).
 * Backward, 3 more steps: u keeps integrating I only: u = I (1 - 1/64) = (0.73828125, 1.23046875),
 *   a = relu(u + n) = (1.08203125, 0.23046875).
 * (Were the nudge integrated, u would move towards I + n.) */
static void backward_nudge_not_integrated(void **state_)
{
    (void)state_;
    btsp_net *net = new_net(2, 3);
    OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    btsp_pop *in = add_pop(net, add_layer(net, "Input"), "E", 2, BTSP_ACT_LINEAR);
    btsp_pop *out = add_pop(net, add_layer(net, "Output"), "E", 2, BTSP_ACT_RELU);
    btsp_proj *w = connect(net, in, out, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
    btsp_gate *g;
    OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    OK(net, btsp_gate_attach(g, out));
    OK(net, btsp_net_finalize(net));
    const float W[4] = {0.5f, 0.25f, 0.75f, 0.5f}, x[2] = {1.0f, 1.0f}, y[2] = {1.0f, 0.0f};
    OK(net, btsp_proj_set_weights(w, W, 2, 2));
    OK(net, btsp_net_train_sample(net, x, 2, y, 2));
    CLOSE(state(out, BTSP_VAR_FORWARD_ACTIVITY)[0], 0.65625);
    CLOSE(state(out, BTSP_VAR_FORWARD_ACTIVITY)[1], 1.09375);
    CLOSE(state(out, BTSP_VAR_NUDGE)[0], 0.34375);
    CLOSE(state(out, BTSP_VAR_NUDGE)[1], -1.0);
    CLOSE(state(out, BTSP_VAR_SOMA_STATE)[0], 0.73828125);
    CLOSE(state(out, BTSP_VAR_SOMA_STATE)[1], 1.23046875);
    CLOSE(state(out, BTSP_VAR_ACTIVITY)[0], 0.73828125 + 0.34375);
    CLOSE(state(out, BTSP_VAR_ACTIVITY)[1], 1.23046875 - 1.0);
    /* loss of the forward output: mean((0.65625 - 1)^2, 1.09375^2) */
    CLOSE(btsp_net_last_loss(net), (0.34375 * 0.34375 + 1.09375 * 1.09375) / 2.0);
    btsp_net_destroy(net);
}

/* Input(2) -> H: E(2), I(2) -> Output.E(2), all relu, tau 1, T = 2, target gate on the output.
 *   x = (0.6, 0.2); W1 = [1 0; 0.5 0.5]: a_E = (0.6, 0.4)
 *   W_IE (E -> I, F) = [1 1; 0.5 0]: a_I = (1.0, 0.3)
 *   W2 (E -> Out)    = [1 0.5; 0 1]: a_out = (0.8, 0.4)
 *   W_B (Out -> E, soma, phase B only) = [0.5 0; 0 -0.25]: no effect in the forward phase.
 * Target (1, 0): n_out = (0.2, -0.4).
 * Backward step 0: Output u = W2 a_E = (0.8, 0.4), a = relu(u + n) = (1.0, 0.0);
 *   H.E (has a backward projection): I = W1 x + W_B a_out = (0.6 + 0.5, 0.4 - 0) -> a_E = (1.1, 0.4)
 *   H.I (no backward projection): frozen at (1.0, 0.3) (re-integration would give (1.5, 0.55)).
 * Backward step 1: Output u = W2 (1.1, 0.4) = (1.3, 0.4), a = (1.5, 0.0);
 *   H.E: I = (0.6 + 0.75, 0.4 - 0) -> (1.35, 0.4); H.I still (1.0, 0.3).
 * H.E also has a dendrite, fed by itself through W_D (H.E -> H.E, dendrite, F, phase B) =
 * [0.5 0.25; -0.5 0], and no gate: its dendritic state is still computed in the backward phase
 * (H.E has backward projections), before the layer settles in every step. Forward snapshot:
 * W_D a_E = W_D (0.6, 0.4) = (0.4, -0.3); last backward update (step 1, a_E = (1.1, 0.4) from
 * step 0): clip(W_D (1.1, 0.4)) = (0.65, -0.55). The dendrite has no gate, so it nudges nothing
 * and the values above hold. */
static void backward_frozen_and_b_only(void **state_)
{
    (void)state_;
    btsp_net *net = new_net(1, 2);
    OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    btsp_pop *in = add_pop(net, add_layer(net, "Input"), "E", 2, BTSP_ACT_LINEAR);
    btsp_layer *H = add_layer(net, "H");
    btsp_pop *e = add_pop(net, H, "E", 2, BTSP_ACT_RELU);
    btsp_pop *inh = add_pop(net, H, "I", 2, BTSP_ACT_RELU);
    btsp_pop *out = add_pop(net, add_layer(net, "Output"), "E", 2, BTSP_ACT_RELU);
    btsp_proj *w1 = connect(net, in, e, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
    btsp_proj *wie = connect(net, e, inh, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
    btsp_proj *w2 = connect(net, e, out, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_FORWARD);
    btsp_proj *wb = connect(net, out, e, BTSP_SOMA, BTSP_DIR_FORWARD, BTSP_PHASE_BACKWARD);
    btsp_proj *wd = connect(net, e, e, BTSP_DEND, BTSP_DIR_FORWARD, BTSP_PHASE_BACKWARD);
    btsp_gate *g;
    OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    OK(net, btsp_gate_attach(g, out));
    OK(net, btsp_net_finalize(net));
    const float W1[4] = {1.0f, 0.0f, 0.5f, 0.5f}, WIE[4] = {1.0f, 1.0f, 0.5f, 0.0f};
    const float W2[4] = {1.0f, 0.5f, 0.0f, 1.0f}, WB[4] = {0.5f, 0.0f, 0.0f, -0.25f};
    OK(net, btsp_proj_set_weights(w1, W1, 2, 2));
    OK(net, btsp_proj_set_weights(wie, WIE, 2, 2));
    OK(net, btsp_proj_set_weights(w2, W2, 2, 2));
    OK(net, btsp_proj_set_weights(wb, WB, 2, 2));
    const float WD[4] = {0.5f, 0.25f, -0.5f, 0.0f};
    OK(net, btsp_proj_set_weights(wd, WD, 2, 2));
    const float x[2] = {0.6f, 0.2f}, y[2] = {1.0f, 0.0f};

    /* Forward only: the B-only projection does not count. */
    OK(net, btsp_net_forward(net, x, 2));
    CLOSE(state(e, BTSP_VAR_ACTIVITY)[0], 0.6);
    CLOSE(state(e, BTSP_VAR_ACTIVITY)[1], 0.4);
    CLOSE(state(out, BTSP_VAR_ACTIVITY)[0], 0.8);

    OK(net, btsp_net_train_sample(net, x, 2, y, 2));
    const double fE[2] = {0.6, 0.4}, fI[2] = {1.0, 0.3}, fO[2] = {0.8, 0.4};
    const double bE[2] = {1.35, 0.4}, bO[2] = {1.5, 0.0}, uO[2] = {1.3, 0.4};
    for (int i = 0; i < 2; i++) {
        CLOSE(state(e, BTSP_VAR_FORWARD_ACTIVITY)[i], fE[i]);
        CLOSE(state(inh, BTSP_VAR_FORWARD_ACTIVITY)[i], fI[i]);
        CLOSE(state(out, BTSP_VAR_FORWARD_ACTIVITY)[i], fO[i]);
        CLOSE(state(e, BTSP_VAR_ACTIVITY)[i], bE[i]);
        CLOSE(state(e, BTSP_VAR_PREV_ACTIVITY)[i], i == 0 ? 1.1 : 0.4); /* step-0 value */
        CLOSE(state(inh, BTSP_VAR_ACTIVITY)[i], fI[i]);                 /* frozen */
        CLOSE(state(inh, BTSP_VAR_SOMA_STATE)[i], fI[i]);
        CLOSE(state(out, BTSP_VAR_ACTIVITY)[i], bO[i]);
        CLOSE(state(out, BTSP_VAR_SOMA_STATE)[i], uO[i]);
    }
    CLOSE(state(e, BTSP_VAR_FORWARD_DEND)[0], 0.4);
    CLOSE(state(e, BTSP_VAR_FORWARD_DEND)[1], -0.3);
    CLOSE(state(e, BTSP_VAR_DEND_STATE)[0], 0.65);
    CLOSE(state(e, BTSP_VAR_DEND_STATE)[1], -0.55);
    btsp_net_destroy(net);
}

/* ------------------------------------------------------------------------------------------ */
/* A small random E/I network in the 5L style (one hidden layer):
 *   Input.E 6; H.E 5 (dendrite), H.SomaI 2, H.DendI 2; Output.E 3, Output.SomaI 2; tau 3, T 6.
 * BTSP on Input->H.E and H.E->Output.E, DendriticLoss_6 on H.DendI->H.E (dendrite),
 * Hebb_WeightNorm + L1 normalisation on H.E->H.DendI and H.DendI->H.DendI, symmetric top-down
 * clone Output.E->H.E = 1.7 * W(Output.E<-H.E)^T, stochastic dendritic gate. */

#define CLONE_SCALE 1.7

typedef struct mnet {
    btsp_net *net;
    btsp_proj *clone, *src;
    btsp_pop *oe; /* post population of src (its rows) */
} mnet;

static btsp_proj *mproj(btsp_net *net, btsp_pop *pre, btsp_pop *post, btsp_compartment c, btsp_direction dir,
                        double lo, double hi, double scale)
{
    btsp_proj *q;
    OK(net, btsp_proj_add(pre, post, c, &q));
    OK(net, btsp_proj_set_direction(q, dir));
    OK(net, btsp_proj_set_bounds(q, lo, hi));
    OK(net, btsp_proj_set_init(q, BTSP_INIT_HALF_KAIMING, scale, 0));
    if (c == BTSP_DEND)
        OK(net, btsp_proj_set_phase(q, BTSP_PHASE_BACKWARD));
    return q;
}

static void mrule(btsp_net *net, btsp_proj *q, btsp_rule_kind kind, double lr, double sign)
{
    btsp_rule *r;
    OK(net, btsp_rule_create(net, kind, &r));
    OK(net, btsp_rule_set(r, BTSP_RULE_LEARNING_RATE, lr));
    if (sign != 0.0)
        OK(net, btsp_rule_set(r, BTSP_RULE_SIGN, sign));
    OK(net, btsp_proj_set_rule(q, r));
}

static void mnet_build(mnet *m, uint64_t seed, double eval_block)
{
    const double inf = INFINITY;
    btsp_net *net = new_net(3, 6);
    m->net = net;
    OK(net, btsp_net_seed(net, seed));
    OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    OK(net, btsp_net_set(net, BTSP_NET_EVAL_BLOCK, eval_block));
    btsp_pop *in = add_pop(net, add_layer(net, "Input"), "E", 6, BTSP_ACT_LINEAR);
    btsp_layer *H = add_layer(net, "H"), *O = add_layer(net, "Output");
    btsp_pop *he = add_pop(net, H, "E", 5, BTSP_ACT_RELU);
    btsp_pop *hs = add_pop(net, H, "SomaI", 2, BTSP_ACT_RELU);
    btsp_pop *hd = add_pop(net, H, "DendI", 2, BTSP_ACT_RELU);
    btsp_pop *oe = add_pop(net, O, "E", 3, BTSP_ACT_RELU);
    m->oe = oe;
    btsp_pop *os = add_pop(net, O, "SomaI", 2, BTSP_ACT_RELU);
    const btsp_direction F = BTSP_DIR_FORWARD, R = BTSP_DIR_RECURRENT;
    btsp_proj *q;
    q = mproj(net, in, he, BTSP_SOMA, F, 0, 1, 1.5);
    mrule(net, q, BTSP_RULE_BTSP, 0.3, 0);
    mproj(net, hs, he, BTSP_SOMA, R, -inf, 0, 1.0);
    q = mproj(net, hd, he, BTSP_DEND, R, -inf, 0, 1.0);
    mrule(net, q, BTSP_RULE_DENDRITIC_LOSS, 0.3, -1);
    mproj(net, in, hs, BTSP_SOMA, F, 0, inf, 1.0);
    mproj(net, he, hs, BTSP_SOMA, R, 0, inf, 0.5);
    q = mproj(net, hs, hs, BTSP_SOMA, R, -inf, 0, 0.5);
    OK(net, btsp_proj_set_no_autapses(q));
    q = mproj(net, he, hd, BTSP_SOMA, R, 0, inf, 1.0);
    OK(net, btsp_proj_set_normalize(q, 2.0, 0));
    mrule(net, q, BTSP_RULE_HEBB_WEIGHTNORM, 0.3, 1);
    q = mproj(net, hd, hd, BTSP_SOMA, R, -inf, 0, 1.0);
    OK(net, btsp_proj_set_normalize(q, 0.5, 0));
    mrule(net, q, BTSP_RULE_HEBB_WEIGHTNORM, 0.3, -1);
    m->src = mproj(net, he, oe, BTSP_SOMA, F, 0, 1, 2.0);
    mrule(net, m->src, BTSP_RULE_BTSP, 0.3, 0);
    mproj(net, os, oe, BTSP_SOMA, R, -inf, 0, 1.0);
    mproj(net, he, os, BTSP_SOMA, F, 0, inf, 1.0);
    mproj(net, oe, os, BTSP_SOMA, R, 0, inf, 0.5);
    OK(net, btsp_proj_add(oe, he, BTSP_DEND, &m->clone));
    OK(net, btsp_proj_set_phase(m->clone, BTSP_PHASE_BACKWARD));
    OK(net, btsp_proj_set_clone(m->clone, m->src, CLONE_SCALE, 1));
    btsp_gate *g;
    OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &g));
    OK(net, btsp_gate_set(g, BTSP_GATE_STOCHASTIC, 1));
    OK(net, btsp_gate_set(g, BTSP_GATE_MAX_POP_FRACTION, 0.6));
    OK(net, btsp_gate_set(g, BTSP_GATE_NEG_RATE_TH, 0.0));
    OK(net, btsp_gate_attach(g, he));
    OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    OK(net, btsp_gate_attach(g, oe));
    OK(net, btsp_net_finalize(net));
}

/* Deterministic test data: sparse inputs (about half the units active, rates in [0, 1.5)) and
 * one-hot targets over 3 classes. */
static void make_sample(uint64_t k, float *x, float *y)
{
    for (int j = 0; j < 6; j++) {
        double u = btsp_k_rand_uniform(99, 1, 12 * k + (uint64_t)j);
        double v = btsp_k_rand_uniform(99, 2, 12 * k + (uint64_t)j);
        x[j] = u < 0.5 ? (float)(1.5 * v) : 0.0f;
    }
    int c = (int)(btsp_k_rand_uniform(99, 3, k) * 3.0);
    for (int i = 0; i < 3; i++)
        y[i] = i == c ? 1.0f : 0.0f;
}

static void check_bounds_and_clone(const mnet *m, int sample)
{
    size_t np = btsp_net_proj_count(m->net);
    for (size_t k = 0; k < np; k++) {
        btsp_proj *q = btsp_net_proj_at(m->net, k);
        const float *w;
        size_t rows, cols;
        double lo, hi;
        OK(m->net, btsp_proj_weights(q, &w, &rows, &cols));
        OK(m->net, btsp_proj_get_bounds(q, &lo, &hi));
        for (size_t i = 0; i < rows * cols; i++)
            if (!isfinite(w[i]) || !((double)w[i] >= lo && (double)w[i] <= hi))
                fail_msg("sample %d: %s[%zu] = %g outside [%g, %g]", sample, btsp_proj_name(q), i, (double)w[i], lo,
                         hi);
    }
    /* The clone (5 x 3) is exactly 1.7f * W_src^T, W_src 3 x 5, multiplied in float. */
    const float *b, *w;
    size_t r1, c1, r2, c2;
    OK(m->net, btsp_proj_weights(m->clone, &b, &r1, &c1));
    OK(m->net, btsp_proj_weights(m->src, &w, &r2, &c2));
    assert_true(r1 == c2 && c1 == r2);
    const float c = (float)CLONE_SCALE;
    for (size_t i = 0; i < r1; i++)
        for (size_t j = 0; j < c1; j++) {
            float want = c * w[j * c2 + i];
            if (memcmp(&b[i * c1 + j], &want, sizeof want) != 0)
                fail_msg("sample %d: clone[%zu][%zu] = %a, expected %a", sample, i, j, (double)b[i * c1 + j],
                         (double)want);
        }
}

/* Dale's law (every projection within its bounds) and the exact clone after every sample. */
static void dale_and_clone_during_training(void **state_)
{
    (void)state_;
    mnet m;
    mnet_build(&m, 3, 64);
    check_bounds_and_clone(&m, 0);
    float x[6], y[3];
    int changed = 0;
    float w0[15];
    OK(m.net, btsp_proj_copy_weights(m.src, w0, 3, 5));
    int partial = 0; /* samples where only some rows of src had a plateau: the clone is then
                        refreshed column by column (engine.c apply_clone_rows) */
    for (int s = 1; s <= 200; s++) {
        make_sample((uint64_t)s, x, y);
        OK(m.net, btsp_net_train_sample(m.net, x, 6, y, 3));
        check_bounds_and_clone(&m, s);
        const float *P = state(m.oe, BTSP_VAR_PLATEAU);
        int with = (P[0] != 0.0f) + (P[1] != 0.0f) + (P[2] != 0.0f);
        partial += with > 0 && with < 3;
    }
    assert_true(partial > 0);
    /* Weights written by the caller may lie anywhere (no bounds applied, btsp.h); the next
     * training step clamps and clones all of them, not only the rows with plateaus. */
    float big[15];
    for (int k = 0; k < 15; k++)
        big[k] = 1.5f + 0.1f * (float)k; /* above the upper bound 1 */
    partial = 0;
    for (int s = 1000; s < 1100; s++) {
        OK(m.net, btsp_proj_set_weights(m.src, big, 3, 5));
        make_sample((uint64_t)s, x, y);
        OK(m.net, btsp_net_train_sample(m.net, x, 6, y, 3));
        check_bounds_and_clone(&m, s);
        const float *P = state(m.oe, BTSP_VAR_PLATEAU);
        int with = (P[0] != 0.0f) + (P[1] != 0.0f) + (P[2] != 0.0f);
        partial += with < 3;
    }
    assert_true(partial > 0); /* some of those steps left rows without a plateau */
    /* The same for weights written into the clone itself: the next step re-derives all of it. */
    for (int s = 1100; s < 1300; s++) {
        OK(m.net, btsp_proj_set_weights(m.clone, big, 5, 3));
        make_sample((uint64_t)s, x, y);
        OK(m.net, btsp_net_train_sample(m.net, x, 6, y, 3));
        check_bounds_and_clone(&m, s);
    }
    const float *w;
    size_t r, c;
    OK(m.net, btsp_proj_weights(m.src, &w, &r, &c));
    changed = memcmp(w, w0, sizeof w0) != 0;
    assert_true(changed); /* the rules did act */
    btsp_net_destroy(m.net);
}

/* btsp_net_evaluate (blocks of 4, so 11 samples make blocks of 4, 4, 3) gives bitwise the
 * output activity of btsp_net_forward on each sample. */
static void evaluate_equals_forward(void **state_)
{
    (void)state_;
    mnet m;
    mnet_build(&m, 5, 4);
    float x[6], y[3];
    for (int s = 0; s < 30; s++) {
        make_sample((uint64_t)s, x, y);
        OK(m.net, btsp_net_train_sample(m.net, x, 6, y, 3));
    }
    enum { N = 11 };
    float X[N * 6], out[N * 3];
    for (int s = 0; s < N; s++)
        make_sample(1000u + (uint64_t)s, X + 6 * s, y);
    OK(m.net, btsp_net_evaluate(m.net, X, N, 6, out, 3));
    btsp_pop *o = btsp_net_output(m.net);
    int nonzero = 0;
    for (int s = 0; s < N; s++) {
        OK(m.net, btsp_net_forward(m.net, X + 6 * s, 6));
        const float *a = state(o, BTSP_VAR_ACTIVITY);
        for (int i = 0; i < 3; i++) {
            if (memcmp(&a[i], &out[3 * s + i], sizeof(float)) != 0)
                fail_msg("sample %d unit %d: evaluate %a, forward %a", s, i, (double)out[3 * s + i], (double)a[i]);
            nonzero += a[i] != 0.0f;
        }
    }
    assert_true(nonzero > 0);
    /* btsp_net_evaluate_activity: every population's a(T) and a(T-1), bitwise as forward's */
    size_t np = btsp_net_pop_count(m.net);
    assert_true(np >= 3 && np <= 16);
    float *act[16] = {0}, *prev[16] = {0};
    for (size_t i = 0; i < np; i++) {
        size_t n = btsp_pop_size(btsp_net_pop_at(m.net, i));
        act[i] = malloc(N * n * sizeof(float));
        prev[i] = i == 1 ? NULL : malloc(N * n * sizeof(float)); /* a population not asked for */
        assert_non_null(act[i]);
    }
    OK(m.net, btsp_net_evaluate_activity(m.net, X, N, 6, act, prev, np));
    int differ = 0;
    for (int s = 0; s < N; s++) {
        OK(m.net, btsp_net_forward(m.net, X + 6 * s, 6));
        for (size_t i = 0; i < np; i++) {
            const btsp_pop *p = btsp_net_pop_at(m.net, i);
            size_t n = btsp_pop_size(p);
            const float *a = state(p, BTSP_VAR_ACTIVITY), *pa = state(p, BTSP_VAR_PREV_ACTIVITY);
            for (size_t u = 0; u < n; u++) {
                if (memcmp(&a[u], &act[i][s * n + u], sizeof(float)) != 0)
                    fail_msg("sample %d %s unit %zu: %a vs forward %a", s, btsp_pop_full_name(p), u,
                             (double)act[i][s * n + u], (double)a[u]);
                if (prev[i] && memcmp(&pa[u], &prev[i][s * n + u], sizeof(float)) != 0)
                    fail_msg("sample %d %s unit %zu: previous %a vs forward %a", s, btsp_pop_full_name(p), u,
                             (double)prev[i][s * n + u], (double)pa[u]);
                differ += prev[i] && pa[u] != a[u];
            }
        }
    }
    assert_true(differ > 0); /* a(T-1) is not a(T): the two buffers are not filled alike */
    /* Shape and state errors write nothing. */
    act[0][0] = -7.0f;
    assert_int_equal(btsp_net_evaluate_activity(m.net, X, N, 6, act, prev, np - 1), BTSP_E_SHAPE);
    assert_non_null(strstr(btsp_net_errmsg(m.net), "n_pops"));
    assert_int_equal(btsp_net_evaluate_activity(m.net, X, N, 5, act, prev, np), BTSP_E_SHAPE);
    assert_non_null(strstr(btsp_net_errmsg(m.net), "btsp_net_evaluate_activity: input has 5 values"));
    assert_int_equal(btsp_net_evaluate_activity(m.net, NULL, N, 6, act, prev, np), BTSP_E_INVALID_ARG);
    assert_non_null(strstr(btsp_net_errmsg(m.net), "NULL input"));
    assert_true(act[0][0] == -7.0f);
    assert_int_equal(btsp_net_evaluate_activity(NULL, X, N, 6, act, prev, np), BTSP_E_INVALID_ARG);
    OK(m.net, btsp_net_evaluate_activity(m.net, X, N, 6, NULL, NULL, np)); /* nothing asked: fine */
    OK(m.net, btsp_net_evaluate_activity(m.net, X, 0, 6, act, prev, np));
    assert_true(act[0][0] == -7.0f);
    for (size_t i = 0; i < np; i++) {
        free(act[i]);
        free(prev[i]);
    }
    btsp_net_destroy(m.net);
}

/* Copy every projection's weights into buf (returns the number of floats). */
static size_t all_weights(btsp_net *net, float *buf, size_t cap)
{
    size_t n = 0;
    for (size_t k = 0; k < btsp_net_proj_count(net); k++) {
        const float *w;
        size_t r, c;
        OK(net, btsp_proj_weights(btsp_net_proj_at(net, k), &w, &r, &c));
        assert_true(n + r * c <= cap);
        memcpy(buf + n, w, r * c * sizeof *w);
        n += r * c;
    }
    return n;
}

static size_t train_and_dump(uint64_t seed, float *buf, size_t cap, float *plateau_log)
{
    mnet m;
    mnet_build(&m, seed, 64);
    btsp_pop *he;
    OK(m.net, btsp_net_find_pop(m.net, "H.E", &he));
    float x[6], y[3];
    for (int s = 0; s < 100; s++) {
        make_sample((uint64_t)s, x, y);
        OK(m.net, btsp_net_train_sample(m.net, x, 6, y, 3));
        memcpy(plateau_log + 5 * s, state(he, BTSP_VAR_PLATEAU), 5 * sizeof(float));
    }
    size_t n = all_weights(m.net, buf, cap);
    /* Reset state and weights: retraining reproduces the same weights. */
    float again[256];
    OK(m.net, btsp_net_reset(m.net, BTSP_RESET_STATE | BTSP_RESET_WEIGHTS));
    for (int s = 0; s < 100; s++) {
        make_sample((uint64_t)s, x, y);
        OK(m.net, btsp_net_train_sample(m.net, x, 6, y, 3));
    }
    assert_int_equal(all_weights(m.net, again, 256), n);
    assert_memory_equal(again, buf, n * sizeof(float));
    btsp_net_destroy(m.net);
    return n;
}

static void determinism(void **state_)
{
    (void)state_;
    float a[256], b[256], c[256], pa[500], pb[500], pc[500];
    size_t na = train_and_dump(11, a, 256, pa);
    size_t nb = train_and_dump(11, b, 256, pb);
    size_t nc = train_and_dump(12, c, 256, pc);
    assert_int_equal(na, nb);
    assert_int_equal(na, nc);
    assert_memory_equal(a, b, na * sizeof(float));
    assert_memory_equal(pa, pb, sizeof pa);
    assert_true(memcmp(a, c, na * sizeof(float)) != 0);
    int any = 0;
    for (int i = 0; i < 500; i++)
        any |= pa[i] != 0.0f;
    assert_true(any); /* plateaus (and the gate's RNG) were exercised */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_closed_form),
        cmocka_unit_test(chain_forward_vs_recurrent),
        cmocka_unit_test(sweep_order),
        cmocka_unit_test(backward_nudge_not_integrated),
        cmocka_unit_test(backward_frozen_and_b_only),
        cmocka_unit_test(dale_and_clone_during_training),
        cmocka_unit_test(evaluate_equals_forward),
        cmocka_unit_test(determinism),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
