/* The local non-BTSP rules and their backward phases against hand computation (eiann-model.md
 * sections 2.3, 3.4; docs/model.md "Rules"):
 *
 *  - BP_like_2E (BTSP_RULE_DTP_2E) with the single-pass backward phase,
 *  - BP_like_2L (BTSP_RULE_DTP_2L) with the settling backward phase (forward_only 0 and 1),
 *  - Top_Layer_BP_like_2L (BTSP_RULE_TOP_LAYER_DTP) with the output-only backward phase, where
 *    the other populations of the output layer with backward projections re-integrate too,
 *  - Hebbian_Temporal_Contrast (relu gate on and off),
 *  - Top_Down_Hebbian_Temporal_Contrast_1 (forward_only 0 and 1; the temporal change clipped at -1),
 *  - Supervised_BCM_4 over two samples (theta starts at k, moves after every step, resets),
 *  - Hebb_WeightNorm_4 and Ojas_rule (current and forward-phase rates, sign, clipping).
 *
 * Each test builds a tiny network through the public API, sets hand-chosen weights after
 * finalize, trains one or two samples and compares weights and states with values computed here
 * in double from the formulas (using the float weights the library holds). Tolerance: 1e-6
 * relative plus 1e-7 absolute (the library works in float). */
#include "test_model_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void check_matrix(const btsp_proj *q, const double *want, size_t n, const char *what)
{
    const float *w = weights(q);
    for (size_t k = 0; k < n; k++) {
        double tol = 1e-6 * fabs(want[k]) + 1e-7;
        if (!(fabs((double)w[k] - want[k]) <= tol))
            fail_msg("%s: %s[%zu] = %.9g, expected %.9g", what, btsp_proj_name(q), k, (double)w[k], want[k]);
    }
}

static void check_vec(const btsp_pop *p, btsp_var var, const double *want, size_t n, const char *what)
{
    const float *v = state(p, var);
    for (size_t k = 0; k < n; k++) {
        double tol = 1e-6 * fabs(want[k]) + 1e-7;
        if (!(fabs((double)v[k] - want[k]) <= tol))
            fail_msg("%s: %s var %d [%zu] = %.9g, expected %.9g", what, btsp_pop_full_name(p), (int)var, k,
                     (double)v[k], want[k]);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Network A: Input.E(3) -> H.E(3, relu) -> Output.E(2, relu), top-down Output.E -> H.E
 * (dendrite, phase B, weights B). Rules (0 = fixed) on W1 = H.E <- Input.E, W2 = Output.E <-
 * H.E and on B; optional dendritic gate on H.E and target gate on Output.E.
 *
 * Weights and sample: x = (1, 0.5, 2) (the third input exceeds 1: rules clip it), y = (0, 1) or
 * (1, 1).
 *   W1 x = (0.6, -0.65, 1.2): H unit 1 is silent, unit 2 exceeds 1.
 *   W2 relu(W1 x) = (0.78, -0.12) with tau 1: output unit 1 is silent.
 * With y = (0, 1) the nudged output is 0 (P_out = (-0.78, 0) with the relu gate), so the hidden
 * plateaus vanish; y = (1, 1) (P_out = (0.22, 0)) moves the hidden layer in the settling phase. */

static const float X_A[3] = {1.0f, 0.5f, 2.0f}, Y_A[2] = {0.0f, 1.0f}, Y_11[2] = {1.0f, 1.0f};
static const float W1_A[9] = {0.2f, 0.4f, 0.1f, -0.3f, 0.1f, -0.2f, 0.5f, 0.2f, 0.3f};
static const float W2_A[6] = {0.5f, 0.3f, 0.4f, 0.2f, 0.6f, -0.2f};
static const float B_A[6] = {1.0f, 0.5f, 0.8f, -0.3f, -0.6f, 2.0f};

typedef struct anet {
    btsp_net *net;
    btsp_pop *in, *h, *out;
    btsp_proj *w1, *w2, *b;
    btsp_rule *r1, *r2, *rb;
    btsp_gate *gh, *gout;
} anet;

static btsp_rule *attach(btsp_net *net, btsp_proj *q, int kind, double lr)
{
    btsp_rule *r = NULL;
    if (!kind)
        return NULL;
    OK(net, btsp_rule_create(net, (btsp_rule_kind)kind, &r));
    OK(net, btsp_rule_set(r, BTSP_RULE_LEARNING_RATE, lr));
    OK(net, btsp_proj_set_rule(q, r));
    return r;
}

/* relu gates: -1 = no gate, 0/1 = gate with that BTSP_GATE_RELU_GATE. */
static void anet_build(anet *a, double tau, int T, btsp_backward_mode mode, int k1, int k2, int kb, int gate_h,
                       int gate_out)
{
    memset(a, 0, sizeof *a);
    btsp_layer *L0, *L1, *L2;
    assert_int_equal(btsp_net_create(&a->net), BTSP_OK);
    btsp_net *net = a->net;
    OK(net, btsp_net_set(net, BTSP_NET_TAU, tau));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, T));
    OK(net, btsp_net_set_backward(net, mode));
    OK(net, btsp_layer_add(net, "Input", &L0));
    OK(net, btsp_layer_add(net, "H", &L1));
    OK(net, btsp_layer_add(net, "Output", &L2));
    OK(net, btsp_pop_add(L0, "E", 3, &a->in));
    OK(net, btsp_pop_add(L1, "E", 3, &a->h));
    OK(net, btsp_pop_add(L2, "E", 2, &a->out));
    OK(net, btsp_pop_set_activation(a->h, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set_activation(a->out, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_proj_add(a->in, a->h, BTSP_SOMA, &a->w1));
    OK(net, btsp_proj_add(a->h, a->out, BTSP_SOMA, &a->w2));
    OK(net, btsp_proj_add(a->out, a->h, BTSP_DEND, &a->b));
    OK(net, btsp_proj_set_phase(a->b, BTSP_PHASE_BACKWARD));
    a->r1 = attach(net, a->w1, k1, 0.5);
    a->r2 = attach(net, a->w2, k2, 0.25);
    a->rb = attach(net, a->b, kb, 0.125);
    if (gate_h >= 0) {
        OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &a->gh));
        OK(net, btsp_gate_set(a->gh, BTSP_GATE_RELU_GATE, gate_h));
        OK(net, btsp_gate_attach(a->gh, a->h));
    }
    if (gate_out >= 0) {
        OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &a->gout));
        OK(net, btsp_gate_set(a->gout, BTSP_GATE_RELU_GATE, gate_out));
        OK(net, btsp_gate_attach(a->gout, a->out));
    }
}

static void anet_start(anet *a, const float *y)
{
    OK(a->net, btsp_net_finalize(a->net));
    OK(a->net, btsp_proj_set_weights(a->w1, W1_A, 3, 3));
    OK(a->net, btsp_proj_set_weights(a->w2, W2_A, 2, 3));
    OK(a->net, btsp_proj_set_weights(a->b, B_A, 3, 2));
    OK(a->net, btsp_net_train_sample(a->net, X_A, 3, y, 2));
}

/* Forward phase of network A in double (no recurrent projections): T steps of
 * u += (I - u) / tau, a = relu(u), H before Output; the top-down projection is dendritic. */
typedef struct afwd {
    double uh[3], ah[3], uo[2], ao[2];
} afwd;

static void anet_forward_ref(double tau, int T, afwd *f)
{
    memset(f, 0, sizeof *f);
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < 3; i++) {
            double I = 0;
            for (int j = 0; j < 3; j++)
                I += (double)W1_A[i * 3 + j] * X_A[j];
            f->uh[i] += (I - f->uh[i]) / tau;
            f->ah[i] = relu(f->uh[i]);
        }
        for (int i = 0; i < 2; i++) {
            double I = 0;
            for (int j = 0; j < 3; j++)
                I += (double)W2_A[i * 3 + j] * f->ah[j];
            f->uo[i] += (I - f->uo[i]) / tau;
            f->ao[i] = relu(f->uo[i]);
        }
    }
}

/* Target plateau: e = clip(y - a_fwd, -1, 1), 0 where a_fwd == 0 if the relu gate is on. */
static void target_plateau(const afwd *f, const float *y, int relu_gate, double *P)
{
    for (int i = 0; i < 2; i++)
        P[i] = relu_gate && f->ao[i] == 0.0 ? 0.0 : clipd(y[i] - f->ao[i], -1, 1);
}

/* Dendritic plateau with max_pop_fraction 1 (every candidate selected):
 * d = clip(B a_out, -1, 1), 0 where a_fwd == 0 if the relu gate is on. */
static void dend_plateau(const double *aout, const double *ah_fwd, int relu_gate, double *d, double *P)
{
    for (int i = 0; i < 3; i++) {
        d[i] = clipd((double)B_A[i * 2] * aout[0] + (double)B_A[i * 2 + 1] * aout[1], -1, 1);
        P[i] = relu_gate && ah_fwd[i] == 0.0 ? 0.0 : d[i];
    }
}

/* ------------------------------------------------------------------------------------------ */
/* BP_like_2E: one top-down pass. tau 2, T 2 so that re-integration would change u:
 *   forward: u(1) = I/2, u(2) = 3I/4 for both layers' drives (the output's drive uses a_H(t)).
 *   Output: P_out = clip(y - a_fwd) (relu gate off, as EIANN's default: the silent unit 1 gets
 *           P = 1); prev = a_fwd; a = relu(u_fwd + P_out), u unchanged.
 *   H: d = clip(B a_out_nudged), P_H = d where a_H_fwd > 0; a_H = relu(u_H + P_H).
 *   dW1 = 0.5 P_H x clip(x, 0, 1); dW2 = 0.25 P_out x clip(a_H_fwd, 0, 1) (forward rates). */
static void dtp_2e_single_pass(void **state_)
{
    (void)state_;
    anet a;
    anet_build(&a, 2.0, 2, BTSP_BACKWARD_SINGLE, BTSP_RULE_DTP_2E, BTSP_RULE_DTP_2E, 0, 1, 0);
    anet_start(&a, Y_A);
    afwd f;
    anet_forward_ref(2.0, 2, &f);
    CLOSE(f.uh[0], 0.75 * 0.6); /* 3/4 of the drive after two steps */
    double Po[2], ao[2], d[3], Ph[3], ah[3];
    target_plateau(&f, Y_A, 0, Po);
    CLOSE(Po[1], 1.0); /* silent output unit, target 1, no relu gate */
    for (int i = 0; i < 2; i++)
        ao[i] = relu(f.uo[i] + Po[i]);
    dend_plateau(ao, f.ah, 1, d, Ph);
    CLOSE(Ph[1], 0.0); /* silent hidden unit: relu gate */
    for (int i = 0; i < 3; i++)
        ah[i] = relu(f.uh[i] + Ph[i]);

    check_vec(a.out, BTSP_VAR_PLATEAU, Po, 2, "2E output plateau");
    check_vec(a.out, BTSP_VAR_NUDGE, Po, 2, "2E output nudge");
    check_vec(a.out, BTSP_VAR_ACTIVITY, ao, 2, "2E nudged output");
    check_vec(a.out, BTSP_VAR_SOMA_STATE, f.uo, 2, "2E output u untouched");
    check_vec(a.out, BTSP_VAR_PREV_ACTIVITY, f.ao, 2, "2E output prev = forward rate");
    check_vec(a.h, BTSP_VAR_DEND_STATE, d, 3, "2E dendritic state");
    check_vec(a.h, BTSP_VAR_PLATEAU, Ph, 3, "2E hidden plateau");
    check_vec(a.h, BTSP_VAR_ACTIVITY, ah, 3, "2E nudged hidden");
    check_vec(a.h, BTSP_VAR_SOMA_STATE, f.uh, 3, "2E hidden u untouched");
    check_vec(a.h, BTSP_VAR_FORWARD_ACTIVITY, f.ah, 3, "2E hidden forward rate");

    double W1[9], W2[6];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            W1[i * 3 + j] = (double)W1_A[i * 3 + j] + 0.5 * Ph[i] * clipd(X_A[j], 0, 1);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            W2[i * 3 + j] = (double)W2_A[i * 3 + j] + 0.25 * Po[i] * clipd(f.ah[j], 0, 1);
    /* e.g. W2[1][2] = -0.2 + 0.25 * 1 * clip(a_H2 = 0.9, 0, 1) = 0.025 */
    CLOSE(W2[5], -0.2 + 0.25 * 1.0 * 0.9);
    check_matrix(a.w1, W1, 9, "2E W1");
    check_matrix(a.w2, W2, 6, "2E W2");
    btsp_net_destroy(a.net);
}

/* ------------------------------------------------------------------------------------------ */
/* BP_like_2L: settling backward phase, tau 1, T 2, y = (1, 1). With tau 1 every step sets u = I:
 *   s = 0: Output: P_out (relu gate on), a_out' = relu(W2 a_H_fwd + P_out);
 *          H: d = clip(B a_out'), P_H, a_H' = relu(W1 x + P_H).
 *   s = 1: Output reads the nudged H: a_out'' = relu(W2 a_H' + P_out); H: a_H'' = a_H'.
 *   dW2 = 0.25 P_out x clip(a_H', 0, 1) (post-backward pre rate), or clip(a_H_fwd) with
 *   forward_only; dW1 = 0.5 P_H x clip(x, 0, 1).
 * By hand: P_out = (clip(1 - 0.78), 0 (silent unit, relu gate)) = (0.22, 0), a_out' = (1, 0);
 *   d = clip(B (1, 0)) = (1, 0.8, -0.6), P_H = (1, 0 (silent unit), -0.6);
 *   a_H' = relu((0.6, -0.65, 1.2) + P_H) = (1.6, 0, 0.6), clipped (1, 0, 0.6) where the forward
 *   rates clip to (0.6, 0, 1); a_out'' = relu((0.8 + 0.24, 0.32 - 0.12) + P_out) = (1.26, 0.2).
 *   W2 row 0 += 0.25 * 0.22 * (1, 0, 0.6) = (0.055, 0, 0.033), with forward_only
 *   0.055 * (0.6, 0, 1) = (0.033, 0, 0.055); row 1 keeps its weights (P_out = 0).
 *   W1 row 0 += 0.5 * 1 * (1, 0.5, 1) -> (0.7, 0.65, 0.6); row 1 unchanged;
 *   row 2 += 0.5 * (-0.6) * (1, 0.5, 1) -> (0.2, 0.05, 0). */
static void dtp_2l_settle(void **state_)
{
    (void)state_;
    for (int fo = 0; fo <= 1; fo++) {
        anet a;
        anet_build(&a, 1.0, 2, BTSP_BACKWARD_SETTLE, BTSP_RULE_DTP_2L, BTSP_RULE_DTP_2L, 0, 1, 1);
        OK(a.net, btsp_rule_set(a.r2, BTSP_RULE_FORWARD_ONLY, fo));
        anet_start(&a, Y_11);
        afwd f;
        anet_forward_ref(1.0, 2, &f);
        double Po[2], ao1[2], d[3], Ph[3], ah1[3], ao2[2];
        target_plateau(&f, Y_11, 1, Po);
        CLOSE(Po[0], 0.22); /* clip(1 - 0.78) */
        CLOSE(Po[1], 0.0);  /* silent unit, relu gate on (1 without it) */
        for (int i = 0; i < 2; i++)
            ao1[i] = relu(f.uo[i] + Po[i]);
        dend_plateau(ao1, f.ah, 1, d, Ph);
        CLOSE(Ph[0], 1.0);
        CLOSE(Ph[1], 0.0); /* d = 0.8 on the silent unit, relu gate */
        CLOSE(Ph[2], -0.6);
        for (int i = 0; i < 3; i++)
            ah1[i] = relu(f.uh[i] + Ph[i]);
        CLOSE(ah1[0], 1.6);
        CLOSE(ah1[2], 0.6);
        for (int i = 0; i < 2; i++) {
            double I = 0;
            for (int j = 0; j < 3; j++)
                I += (double)W2_A[i * 3 + j] * ah1[j];
            ao2[i] = relu(I + Po[i]);
        }
        CLOSE(ao2[0], 1.26);
        CLOSE(ao2[1], 0.2);
        check_vec(a.out, BTSP_VAR_PLATEAU, Po, 2, "2L output plateau");
        check_vec(a.h, BTSP_VAR_PLATEAU, Ph, 3, "2L hidden plateau");
        check_vec(a.h, BTSP_VAR_FORWARD_ACTIVITY, f.ah, 3, "2L hidden forward");
        check_vec(a.h, BTSP_VAR_ACTIVITY, ah1, 3, "2L hidden after settling");
        check_vec(a.out, BTSP_VAR_ACTIVITY, ao2, 2, "2L output after settling");
        double W1[9], W2[6];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                W1[i * 3 + j] = (double)W1_A[i * 3 + j] + 0.5 * Ph[i] * clipd(X_A[j], 0, 1);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                W2[i * 3 + j] = (double)W2_A[i * 3 + j] + 0.25 * Po[i] * clipd(fo ? f.ah[j] : ah1[j], 0, 1);
        CLOSE(W1[0], 0.7);
        CLOSE(W1[7], 0.05);
        CLOSE(W1[8], 0.0);
        CLOSE(W2[0], 0.5 + (fo ? 0.033 : 0.055));
        CLOSE(W2[2], 0.4 + (fo ? 0.055 : 0.033));
        check_matrix(a.w1, W1, 9, "2L W1");
        check_matrix(a.w2, W2, 6, fo ? "2L W2 forward_only" : "2L W2");
        btsp_net_destroy(a.net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Top_Layer_BP_like_2L with the output-only backward phase. Network B:
 *   Input.E(3) -> H.E(3, relu) -> Output.E(2, relu); Output.I(2, relu) in the output layer with
 *   Output.I <- Output.E (recurrent, phase A: it has a backward projection) and
 *   Output.E <- Output.I (recurrent, inhibitory, phase F). tau 1, T 2 or 1; y = (1, 0).
 * Forward: t1: a_H = relu(W1 x), a_E = relu(W2 a_H), a_I = relu(W_IE * 0) = 0;
 *          t2: a_E unchanged (prev_I = 0), a_I = relu(W_IE a_E).
 * Backward (T steps, output layer only; H keeps its forward values):
 *   P = clip(y - a_E) where a_E > 0;
 *   s0: prev = a for E and I; E: a_E' = relu(W2 a_H + W_EI a_I + P); I: relu(W_IE a_E) (same);
 *   s1: E: the same drive, a_E' again; I: a_I'' = relu(W_IE a_E').
 * Rules: Top_Layer on W2: dW2 = 0.25 P x clip(a_H, 0, 1); Top_Layer on W_EI (lr 0.5) reads
 *        I's post-backward previous-step rate, which for T 2 differs from the forward one;
 *        Hebb_WeightNorm_4 (current rates) on W_IE: dW = 0.125 clip(a_I, 0, 1) x clip(prev_E), the
 *        presynaptic rate of a recurrent projection being E's previous-step value prev_E.
 *   T 2: a_I = a_I'' and prev_E = a_E' (the current a_E as well).
 *   T 1: the forward a_I is 0, so a_E' = relu(W2 a_H + P) = relu((0.78, 0.48) + (0.22, -0.48))
 *        = (1, 0); a_I' = relu(W_IE a_E) = (0.39 + 0.12, 1.17 + 0.36) = (0.51, 1.53) and
 *        prev_E = a_E = (0.78, 0.48), not a_E' = (1, 0):
 *        W_IE += 0.125 (0.51, 1) x (0.78, 0.48) = ((0.049725, 0.0306), (0.0975, 0.06)). */
static void top_layer_output_only(void **state_)
{
    (void)state_;
    for (int T = 2; T >= 1; T--) {
        btsp_net *net;
        btsp_layer *L0, *L1, *L2;
        btsp_pop *in, *h, *oe, *oi;
        btsp_proj *w1, *w2, *wie, *wei;
        btsp_rule *r2, *rie;
        btsp_gate *g;
        assert_int_equal(btsp_net_create(&net), BTSP_OK);
        OK(net, btsp_net_set(net, BTSP_NET_TAU, 1));
        OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, T));
        OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_OUTPUT_ONLY));
        OK(net, btsp_layer_add(net, "Input", &L0));
        OK(net, btsp_layer_add(net, "H", &L1));
        OK(net, btsp_layer_add(net, "Output", &L2));
        OK(net, btsp_pop_add(L0, "E", 3, &in));
        OK(net, btsp_pop_add(L1, "E", 3, &h));
        OK(net, btsp_pop_add(L2, "E", 2, &oe));
        OK(net, btsp_pop_add(L2, "I", 2, &oi));
        OK(net, btsp_pop_set_activation(h, BTSP_ACT_RELU, 0, 0));
        OK(net, btsp_pop_set_activation(oe, BTSP_ACT_RELU, 0, 0));
        OK(net, btsp_pop_set_activation(oi, BTSP_ACT_RELU, 0, 0));
        OK(net, btsp_proj_add(in, h, BTSP_SOMA, &w1));
        OK(net, btsp_proj_add(h, oe, BTSP_SOMA, &w2));
        OK(net, btsp_proj_add(oi, oe, BTSP_SOMA, &wei));
        OK(net, btsp_proj_set_direction(wei, BTSP_DIR_RECURRENT));
        OK(net, btsp_proj_add(oe, oi, BTSP_SOMA, &wie));
        OK(net, btsp_proj_set_direction(wie, BTSP_DIR_RECURRENT));
        OK(net, btsp_proj_set_phase(wie, BTSP_PHASE_ALL));
        r2 = attach(net, w2, BTSP_RULE_TOP_LAYER_DTP, 0.25);
        (void)attach(net, wei, BTSP_RULE_TOP_LAYER_DTP, 0.5); /* a presynaptic population that moves */
        rie = attach(net, wie, BTSP_RULE_HEBB_WEIGHTNORM_4, 0.125);
        OK(net, btsp_rule_set(rie, BTSP_RULE_FORWARD_ONLY, 0));
        (void)r2;
        OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
        OK(net, btsp_gate_attach(g, oe));
        OK(net, btsp_net_finalize(net));
        /* W2 x a_H chosen so that both outputs are active: a_H = (0.6, 0, 1.2). */
        const float W2[6] = {0.5f, 0.3f, 0.4f, 0.2f, 0.6f, 0.3f};
        const float WIE[4] = {0.5f, 0.25f, 1.5f, 0.75f}, WEI[4] = {-0.5f, -0.25f, -0.125f, -1.0f};
        OK(net, btsp_proj_set_weights(w1, W1_A, 3, 3));
        OK(net, btsp_proj_set_weights(w2, W2, 2, 3));
        OK(net, btsp_proj_set_weights(wie, WIE, 2, 2));
        OK(net, btsp_proj_set_weights(wei, WEI, 2, 2));
        const float y[2] = {1.0f, 0.0f};
        OK(net, btsp_net_train_sample(net, X_A, 3, y, 2));

        double ah[3], aE[2], aI[2], P[2], aE1[2], aI2[2], pE[2], pI[2];
        for (int i = 0; i < 3; i++) {
            double I = 0;
            for (int j = 0; j < 3; j++)
                I += (double)W1_A[i * 3 + j] * X_A[j];
            ah[i] = relu(I);
        }
        for (int i = 0; i < 2; i++) {
            double I = 0;
            for (int j = 0; j < 3; j++)
                I += (double)W2[i * 3 + j] * ah[j];
            aE[i] = relu(I); /* (0.78, 0.48) */
        }
        CLOSE(aE[0], 0.78);
        CLOSE(aE[1], 0.12 + 0.36);
        for (int i = 0; i < 2; i++) /* 0 after one step (prev_E = 0) */
            aI[i] = T >= 2 ? relu((double)WIE[i * 2] * aE[0] + (double)WIE[i * 2 + 1] * aE[1]) : 0.0;
        check_vec(oe, BTSP_VAR_FORWARD_ACTIVITY, aE, 2, "output forward");
        check_vec(oi, BTSP_VAR_FORWARD_ACTIVITY, aI, 2, "output I forward");
        for (int i = 0; i < 2; i++)
            P[i] = clipd(y[i] - aE[i], -1, 1); /* (0.22, -0.48) */
        for (int i = 0; i < 2; i++) {
            double I = (double)WEI[i * 2] * aI[0] + (double)WEI[i * 2 + 1] * aI[1];
            for (int j = 0; j < 3; j++)
                I += (double)W2[i * 3 + j] * ah[j];
            aE1[i] = relu(I + P[i]);
        }
        /* the last backward step: T 2 reads a_E' (and a_I' = the forward a_I), T 1 the forward a_E */
        for (int i = 0; i < 2; i++) {
            pE[i] = T >= 2 ? aE1[i] : aE[i];
            pI[i] = aI[i];
        }
        for (int i = 0; i < 2; i++)
            aI2[i] = relu((double)WIE[i * 2] * pE[0] + (double)WIE[i * 2 + 1] * pE[1]);
        if (T == 1) {
            CLOSE(aE1[0], 1.0);
            CLOSE(aE1[1], 0.0);
            CLOSE(aI2[0], 0.51);
            CLOSE(aI2[1], 1.53);
        }
        check_vec(oe, BTSP_VAR_PLATEAU, P, 2, "top-layer plateau");
        check_vec(oe, BTSP_VAR_ACTIVITY, aE1, 2, "output after the backward phase");
        check_vec(oe, BTSP_VAR_PREV_ACTIVITY, pE, 2, "output prev");
        check_vec(oi, BTSP_VAR_ACTIVITY, aI2, 2, "output-layer I re-integrated");
        check_vec(oi, BTSP_VAR_PREV_ACTIVITY, pI, 2, "output-layer I prev");
        check_vec(h, BTSP_VAR_ACTIVITY, ah, 3, "hidden untouched");
        double dW2[6], dIE[4], dEI[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                dW2[i * 3 + j] = (double)W2[i * 3 + j] + 0.25 * P[i] * clipd(ah[j], 0, 1);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                dIE[i * 2 + j] = (double)WIE[i * 2 + j] + 0.125 * clipd(aI2[i], 0, 1) * clipd(pE[j], 0, 1);
        if (T == 1) {
            CLOSE(dIE[0], 0.5 + 0.125 * 0.51 * 0.78);
            CLOSE(dIE[1], 0.25 + 0.125 * 0.51 * 0.48);
            CLOSE(dIE[2], 1.5 + 0.125 * 0.78);
            CLOSE(dIE[3], 0.75 + 0.125 * 0.48);
        }
        /* Top_Layer on W_EI, inside the output layer: the post-backward presynaptic rate, for a
         * recurrent projection I's previous-step value pI (T 2: the forward a_I, where the
         * forward phase's previous step had a_I = 0) */
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                dEI[i * 2 + j] = (double)WEI[i * 2 + j] + 0.5 * P[i] * clipd(pI[j], 0, 1);
        check_matrix(wei, dEI, 4, T == 1 ? "top-layer W_EI (T 1)" : "top-layer W_EI");
        check_matrix(w2, dW2, 6, T == 1 ? "top-layer W2 (T 1)" : "top-layer W2");
        check_matrix(wie, dIE, 4, T == 1 ? "Hebb_WeightNorm_4 W_IE (T 1)" : "Hebb_WeightNorm_4 (current rates) W_IE");
        btsp_net_destroy(net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Hebbian_Temporal_Contrast on W1 and W2, settling backward phase, tau 1, T 1:
 *   Output (target gate, relu gate off): P_out = clip(y - a_fwd) = (-0.78, 1);
 *     a_out' = relu(u_out + P_out) = (0, 0.88): the forward-silent unit 1 becomes active.
 *   H (dendritic gate, relu on): d = clip(B a_out'), P_H, a_H' = relu(u_H + P_H).
 *   dW = lr [g(clip(a_post')) x clip(a_pre') - clip(a_post_fwd) x clip(a_pre_fwd)], clip to [0, 1],
 *   g zeroing post units whose clipped forward rate is 0 when the rule's relu gate is on. */
static void hebbian_temporal_contrast(void **state_)
{
    (void)state_;
    for (int rg = 1; rg >= 0; rg--) {
        anet a;
        anet_build(&a, 1.0, 1, BTSP_BACKWARD_SETTLE, BTSP_RULE_HEBB_TEMPORAL_CONTRAST,
                   BTSP_RULE_HEBB_TEMPORAL_CONTRAST, 0, 1, 0);
        double v = -1;
        OK(a.net, btsp_rule_get(a.r2, BTSP_RULE_RELU_GATE, &v));
        assert_true(v == 1.0); /* EIANN's default */
        OK(a.net, btsp_rule_set(a.r1, BTSP_RULE_RELU_GATE, rg));
        OK(a.net, btsp_rule_set(a.r2, BTSP_RULE_RELU_GATE, rg));
        anet_start(&a, Y_A);
        afwd f;
        anet_forward_ref(1.0, 1, &f);
        double Po[2], ao[2], d[3], Ph[3], ah[3];
        target_plateau(&f, Y_A, 0, Po);
        for (int i = 0; i < 2; i++)
            ao[i] = relu(f.uo[i] + Po[i]);
        CLOSE(ao[1], 0.88);
        dend_plateau(ao, f.ah, 1, d, Ph);
        for (int i = 0; i < 3; i++)
            ah[i] = relu(f.uh[i] + Ph[i]);
        check_vec(a.out, BTSP_VAR_ACTIVITY, ao, 2, "HTC output");
        check_vec(a.h, BTSP_VAR_ACTIVITY, ah, 3, "HTC hidden");
        double W1[9], W2[6];
        for (int i = 0; i < 3; i++) {
            double fp = clipd(f.ah[i], 0, 1), bp = rg && fp == 0.0 ? 0.0 : clipd(ah[i], 0, 1);
            for (int j = 0; j < 3; j++) {
                double xj = clipd(X_A[j], 0, 1); /* the input is the same in both phases */
                W1[i * 3 + j] = (double)W1_A[i * 3 + j] + 0.5 * (bp * xj - fp * xj);
            }
        }
        for (int i = 0; i < 2; i++) {
            double fp = clipd(f.ao[i], 0, 1), bp = rg && fp == 0.0 ? 0.0 : clipd(ao[i], 0, 1);
            for (int j = 0; j < 3; j++)
                W2[i * 3 + j] =
                    (double)W2_A[i * 3 + j] + 0.25 * (bp * clipd(ah[j], 0, 1) - fp * clipd(f.ah[j], 0, 1));
        }
        /* Unit 1 of the output was silent forward: with the gate its row does not change at all. */
        if (rg)
            CLOSE(W2[3], W2_A[3]);
        else
            CLOSE(W2[3], (double)W2_A[3] + 0.25 * 0.88 * clipd(ah[0], 0, 1));
        check_matrix(a.w1, W1, 9, rg ? "HTC W1" : "HTC W1 (no relu gate)");
        check_matrix(a.w2, W2, 6, rg ? "HTC W2" : "HTC W2 (no relu gate)");
        btsp_net_destroy(a.net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Top_Down_Hebbian_Temporal_Contrast_1 on the top-down weights B (post H, pre Output), with
 * BP_like_2L (learning rate 0) on W1 and W2 providing plateaus and the settling phase (tau 1,
 * T 1, relu gates on, y = (1, 1)): a_out' = relu(u_out + P_out), a_H' = relu(u_H + P_H).
 *   forward_only: dB = 0.125 clip(a_H_fwd, 0, 1) x clip(a_out' - a_out_fwd, -1, 1)
 *   otherwise:    dB = 0.125 [clip(a_H') x clip(a_out') - clip(a_H_fwd) x clip(a_out_fwd)].
 * By hand (as in dtp_2l_settle): a_out_fwd = (0.78, 0), a_out' = (1, 0); a_H_fwd = (0.6, 0, 1.2)
 * (clipped (0.6, 0, 1)), P_H = (1, 0, -0.6), a_H' = (1.6, 0, 0.6) (clipped (1, 0, 0.6)).
 *   forward_only: column 0 += 0.125 * 0.22 * (0.6, 0, 1) = (0.0165, 0, 0.0275), column 1 unchanged
 *                 (output unit 1 silent in both phases);
 *   otherwise:    column 0 += 0.125 * ((1, 0, 0.6) * 1 - (0.6, 0, 1) * 0.78) = (0.0665, 0, -0.0225),
 *                 column 1 unchanged. */
static void topdown_temporal_contrast_1(void **state_)
{
    (void)state_;
    for (int fo = 1; fo >= 0; fo--) {
        anet a;
        anet_build(&a, 1.0, 1, BTSP_BACKWARD_SETTLE, BTSP_RULE_DTP_2L, BTSP_RULE_DTP_2L,
                   BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1, 1, 1);
        OK(a.net, btsp_rule_set(a.r1, BTSP_RULE_LEARNING_RATE, 0.0));
        OK(a.net, btsp_rule_set(a.r2, BTSP_RULE_LEARNING_RATE, 0.0));
        OK(a.net, btsp_rule_set(a.rb, BTSP_RULE_FORWARD_ONLY, fo));
        anet_start(&a, Y_11);
        afwd f;
        anet_forward_ref(1.0, 1, &f);
        double Po[2], ao[2], d[3], Ph[3], ah[3], Bw[6];
        target_plateau(&f, Y_11, 1, Po);
        for (int i = 0; i < 2; i++)
            ao[i] = relu(f.uo[i] + Po[i]);
        dend_plateau(ao, f.ah, 1, d, Ph);
        for (int i = 0; i < 3; i++)
            ah[i] = relu(f.uh[i] + Ph[i]);
        CLOSE(ao[0], 1.0);
        CLOSE(ah[0], 1.6);
        CLOSE(ah[2], 0.6);
        check_vec(a.out, BTSP_VAR_ACTIVITY, ao, 2, "TDHTC1 output");
        check_vec(a.h, BTSP_VAR_ACTIVITY, ah, 3, "TDHTC1 hidden");
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) {
                double dB = fo ? clipd(f.ah[i], 0, 1) * clipd(ao[j] - f.ao[j], -1, 1)
                               : clipd(ah[i], 0, 1) * clipd(ao[j], 0, 1) - clipd(f.ah[i], 0, 1) * clipd(f.ao[j], 0, 1);
                Bw[i * 2 + j] = (double)B_A[i * 2 + j] + 0.125 * dB;
            }
        CLOSE(Bw[0], 1.0 + (fo ? 0.0165 : 0.0665));
        CLOSE(Bw[4], -0.6 + (fo ? 0.0275 : -0.0225));
        CLOSE(Bw[5], 2.0);
        check_matrix(a.b, Bw, 6, fo ? "TDHTC1 forward_only" : "TDHTC1");
        btsp_net_destroy(a.net);
    }
}

/* The temporal change of Top_Down_Hebbian_Temporal_Contrast_1 (forward_only) is clipped to
 * [-1, 1]: a drop of the output by more than 1. Network A with T 2 (settling phase, tau 1, relu
 * gates on, BP_like_2L with learning rate 0 on W1 and W2), x = (2, 1, 4), y = (0, 0) and
 * B = ((-2, 0.5), (0.8, -0.3), (-2, 2)):
 *   forward: a_H = relu(W1 x) = relu(1.2, -1.3, 2.4) = (1.2, 0, 2.4);
 *            a_out = relu(W2 a_H) = relu(0.6 + 0.96, 0.24 - 0.48) = (1.56, 0).
 *   s = 0:   P_out = (clip(0 - 1.56) = -1, 0 (silent)); a_out' = relu((1.56, -0.24) + P_out) = (0.56, 0);
 *            d = clip(B (0.56, 0)) = (clip(-1.12) = -1, 0.448, -1), P_H = (-1, 0 (silent), -1);
 *            a_H' = relu((1.2, -1.3, 2.4) + P_H) = (0.2, 0, 1.4).
 *   s = 1:   a_out'' = relu(W2 a_H' + P_out) = relu(0.1 + 0.56 - 1, 0.04 - 0.28) = (0, 0).
 *   change a_out'' - a_out_fwd = (-1.56, 0), clipped to (-1, 0):
 *   dB = 0.125 clip(a_H_fwd) x (-1, 0) = 0.125 (1, 0, 1) x (-1, 0): B00 = -2.125, B20 = -2.125,
 *   the rest unchanged. */
static void topdown_temporal_contrast_1_clip(void **state_)
{
    (void)state_;
    const float x[3] = {2.0f, 1.0f, 4.0f}, y[2] = {0.0f, 0.0f};
    const float B[6] = {-2.0f, 0.5f, 0.8f, -0.3f, -2.0f, 2.0f};
    anet a;
    anet_build(&a, 1.0, 2, BTSP_BACKWARD_SETTLE, BTSP_RULE_DTP_2L, BTSP_RULE_DTP_2L,
               BTSP_RULE_TOPDOWN_TEMPORAL_CONTRAST_1, 1, 1);
    OK(a.net, btsp_rule_set(a.r1, BTSP_RULE_LEARNING_RATE, 0.0));
    OK(a.net, btsp_rule_set(a.r2, BTSP_RULE_LEARNING_RATE, 0.0));
    OK(a.net, btsp_rule_set(a.rb, BTSP_RULE_FORWARD_ONLY, 1));
    OK(a.net, btsp_net_finalize(a.net));
    OK(a.net, btsp_proj_set_weights(a.w1, W1_A, 3, 3));
    OK(a.net, btsp_proj_set_weights(a.w2, W2_A, 2, 3));
    OK(a.net, btsp_proj_set_weights(a.b, B, 3, 2));
    OK(a.net, btsp_net_train_sample(a.net, x, 3, y, 2));
    double uh[3], ah[3], uo[2], ao[2], Po[2], ao1[2], Ph[3], ah1[3], ao2[2], Bw[6];
    for (int i = 0; i < 3; i++) {
        uh[i] = 0;
        for (int j = 0; j < 3; j++)
            uh[i] += (double)W1_A[i * 3 + j] * x[j];
        ah[i] = relu(uh[i]);
    }
    for (int i = 0; i < 2; i++) {
        uo[i] = 0;
        for (int j = 0; j < 3; j++)
            uo[i] += (double)W2_A[i * 3 + j] * ah[j];
        ao[i] = relu(uo[i]);
        Po[i] = ao[i] == 0.0 ? 0.0 : clipd(y[i] - ao[i], -1, 1);
        ao1[i] = relu(uo[i] + Po[i]);
    }
    for (int i = 0; i < 3; i++) {
        double d = clipd((double)B[i * 2] * ao1[0] + (double)B[i * 2 + 1] * ao1[1], -1, 1);
        Ph[i] = ah[i] == 0.0 ? 0.0 : d;
        ah1[i] = relu(uh[i] + Ph[i]);
    }
    for (int i = 0; i < 2; i++) {
        double I = 0;
        for (int j = 0; j < 3; j++)
            I += (double)W2_A[i * 3 + j] * ah1[j];
        ao2[i] = relu(I + Po[i]);
    }
    CLOSE(ao[0], 1.56);
    CLOSE(Po[0], -1.0);
    CLOSE(ao1[0], 0.56);
    CLOSE(Ph[0], -1.0);
    CLOSE(Ph[2], -1.0);
    CLOSE(ah1[0], 0.2);
    CLOSE(ah1[2], 1.4);
    CLOSE(ao2[0], 0.0);
    CLOSE(ao2[0] - ao[0], -1.56); /* below -1: the clip acts */
    check_vec(a.out, BTSP_VAR_FORWARD_ACTIVITY, ao, 2, "TDHTC1 clip output forward");
    check_vec(a.out, BTSP_VAR_PLATEAU, Po, 2, "TDHTC1 clip output plateau");
    check_vec(a.h, BTSP_VAR_PLATEAU, Ph, 3, "TDHTC1 clip hidden plateau");
    check_vec(a.h, BTSP_VAR_ACTIVITY, ah1, 3, "TDHTC1 clip hidden after settling");
    check_vec(a.out, BTSP_VAR_ACTIVITY, ao2, 2, "TDHTC1 clip output after settling");
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            Bw[i * 2 + j] = (double)B[i * 2 + j] + 0.125 * clipd(ah[i], 0, 1) * clipd(ao2[j] - ao[j], -1, 1);
    CLOSE(Bw[0], -2.125);
    CLOSE(Bw[4], -2.125);
    check_matrix(a.b, Bw, 6, "TDHTC1 forward_only, change below -1");
    btsp_net_destroy(a.net);
}

/* ------------------------------------------------------------------------------------------ */
/* Supervised_BCM_4 on W2 (output, target gate with relu gate), settling phase, tau 1, T 1.
 * H has no gate, so a_H' = a_H_fwd; y = a_out' = relu(u_out + P_out) (not clipped).
 *   dW2 = sign * 0.25 * (y_i (y_i - theta_i)) x clip(a_H', 0, 1);
 *   then theta_i += (y_i^2 / k - theta_i) / theta_tau, theta starting at k.
 * Two samples (the second reads the first's theta), sign +1 and -1; a state reset restores
 * theta = k. */
static void bcm_step(const double *W, const double *ah, const double *y, const double *theta, double sign,
                     double *out)
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            out[i * 3 + j] = W[i * 3 + j] + sign * 0.25 * (y[i] * (y[i] - theta[i])) * clipd(ah[j], 0, 1);
}

static void supervised_bcm(void **state_)
{
    (void)state_;
    const double k = 0.2, ttau = 4.0;
    for (int sgn = 1; sgn >= -1; sgn -= 2) {
        anet a;
        anet_build(&a, 1.0, 1, BTSP_BACKWARD_SETTLE, 0, BTSP_RULE_SUPERVISED_BCM, 0, -1, 1);
        OK(a.net, btsp_rule_set(a.r2, BTSP_RULE_THETA_K, k));
        OK(a.net, btsp_rule_set(a.r2, BTSP_RULE_THETA_TAU, ttau));
        OK(a.net, btsp_rule_set(a.r2, BTSP_RULE_SIGN, sgn));
        /* y = (0.5, 1) so the nudged output unit 0 is active: y - a_fwd = -0.28 */
        const float y1[2] = {0.5f, 1.0f};
        OK(a.net, btsp_net_finalize(a.net));
        OK(a.net, btsp_proj_set_weights(a.w1, W1_A, 3, 3));
        OK(a.net, btsp_proj_set_weights(a.w2, W2_A, 2, 3));
        OK(a.net, btsp_proj_set_weights(a.b, B_A, 3, 2));
        OK(a.net, btsp_net_train_sample(a.net, X_A, 3, y1, 2));
        afwd f;
        anet_forward_ref(1.0, 1, &f);
        double theta[2] = {k, k}, yv[2], W[6], want[6];
        for (int i = 0; i < 2; i++) {
            double P = f.ao[i] == 0.0 ? 0.0 : clipd(y1[i] - f.ao[i], -1, 1);
            yv[i] = relu(f.uo[i] + P); /* (0.5, 0) */
        }
        CLOSE(yv[0], 0.5);
        for (int n = 0; n < 6; n++)
            W[n] = W2_A[n];
        bcm_step(W, f.ah, yv, theta, sgn, want);
        /* W2[0][0] = 0.5 + sign * 0.25 * 0.5 * (0.5 - 0.2) * 0.6 */
        CLOSE(want[0], 0.5 + sgn * 0.25 * 0.5 * 0.3 * 0.6);
        check_matrix(a.w2, want, 6, "BCM sample 1");
        for (int i = 0; i < 2; i++)
            theta[i] += (yv[i] * yv[i] / k - theta[i]) / ttau; /* (0.2 + (1.25 - 0.2)/4, 0.15) */
        CLOSE(theta[0], 0.4625);

        /* Sample 2: x' = (0.5, 1, 0.25), y = (1, 0); from the weights the library holds now. */
        const float x2[3] = {0.5f, 1.0f, 0.25f}, y2[2] = {1.0f, 0.0f};
        float W2f[6];
        OK(a.net, btsp_proj_copy_weights(a.w2, W2f, 2, 3));
        OK(a.net, btsp_net_train_sample(a.net, x2, 3, y2, 2));
        double ah2[3], ao2[2];
        for (int i = 0; i < 3; i++) {
            double I = 0;
            for (int j = 0; j < 3; j++)
                I += (double)W1_A[i * 3 + j] * x2[j];
            ah2[i] = relu(I);
        }
        for (int i = 0; i < 2; i++) {
            double I = 0;
            for (int j = 0; j < 3; j++)
                I += (double)W2f[i * 3 + j] * ah2[j];
            double aF = relu(I), P = aF == 0.0 ? 0.0 : clipd(y2[i] - aF, -1, 1);
            ao2[i] = relu(I + P);
        }
        assert_true(ao2[0] > 0.0);
        for (int n = 0; n < 6; n++)
            W[n] = W2f[n];
        bcm_step(W, ah2, ao2, theta, sgn, want);
        check_matrix(a.w2, want, 6, "BCM sample 2 (theta moved)");

        /* A state reset puts theta back to k: sample 1 again gives the first update. */
        OK(a.net, btsp_net_reset(a.net, BTSP_RESET_STATE));
        OK(a.net, btsp_proj_set_weights(a.w2, W2_A, 2, 3));
        OK(a.net, btsp_net_train_sample(a.net, X_A, 3, y1, 2));
        theta[0] = theta[1] = k;
        for (int n = 0; n < 6; n++)
            W[n] = W2_A[n];
        bcm_step(W, f.ah, yv, theta, sgn, want);
        check_matrix(a.w2, want, 6, "BCM after reset");
        btsp_net_destroy(a.net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Hebb_WeightNorm_4 and Ojas_rule on a single projection Input.E(3) -> Output.E(2, relu) with a
 * target gate (relu gate off) and the settling phase (tau 1, T 1), so that the current output
 * rate a' = relu(u + clip(y - a_fwd)) differs from the forward one:
 *   x = (1, 0.5, 2), W = ((0.6, 0.4, 0.5), (0.1, -0.2, 0.3)): u = (1.8, 0.6), a_fwd = u,
 *   y = (1, 0): P = (-0.8, -0.6), a' = (1.0, 0.0).
 *   Hebb_WeightNorm_4: dW = sign * 0.25 * clip(y) x clip(x)   (y = a' or a_fwd)
 *   Ojas_rule:         dW = 0.25 * (y x - y^2 W), y = clip(a' or a_fwd), x = clip(x). */
static void one_layer(btsp_net **pnet, btsp_proj **pw, btsp_rule **pr, int kind)
{
    btsp_layer *L0, *L1;
    btsp_pop *in, *out;
    btsp_gate *g;
    assert_int_equal(btsp_net_create(pnet), BTSP_OK);
    btsp_net *net = *pnet;
    OK(net, btsp_net_set(net, BTSP_NET_TAU, 1));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 1));
    OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    OK(net, btsp_layer_add(net, "Input", &L0));
    OK(net, btsp_layer_add(net, "Output", &L1));
    OK(net, btsp_pop_add(L0, "E", 3, &in));
    OK(net, btsp_pop_add(L1, "E", 2, &out));
    OK(net, btsp_pop_set_activation(out, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_proj_add(in, out, BTSP_SOMA, pw));
    *pr = attach(net, *pw, kind, 0.25);
    OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    OK(net, btsp_gate_set(g, BTSP_GATE_RELU_GATE, 0));
    OK(net, btsp_gate_attach(g, out));
}

static const float W_1L[6] = {0.6f, 0.4f, 0.5f, 0.1f, -0.2f, 0.3f}, Y_1L[2] = {1.0f, 0.0f};

static void one_layer_rates(int forward, double *y)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        u[i] = 0;
        for (int j = 0; j < 3; j++)
            u[i] += (double)W_1L[i * 3 + j] * X_A[j];
    }
    CLOSE(u[0], 1.8);
    for (int i = 0; i < 2; i++) {
        double a = relu(u[i]);
        y[i] = forward ? a : relu(u[i] + clipd(Y_1L[i] - a, -1, 1));
    }
}

static void hebb_weightnorm_4(void **state_)
{
    (void)state_;
    for (int fo = 0; fo <= 1; fo++)
        for (int sgn = 1; sgn >= -1; sgn -= 2) {
            btsp_net *net;
            btsp_proj *w;
            btsp_rule *r;
            one_layer(&net, &w, &r, BTSP_RULE_HEBB_WEIGHTNORM_4);
            double v = -1;
            OK(net, btsp_rule_get(r, BTSP_RULE_FORWARD_ONLY, &v));
            assert_true(v == 0.0); /* EIANN's default */
            OK(net, btsp_rule_set(r, BTSP_RULE_FORWARD_ONLY, fo));
            OK(net, btsp_rule_set(r, BTSP_RULE_SIGN, sgn));
            OK(net, btsp_net_finalize(net));
            OK(net, btsp_proj_set_weights(w, W_1L, 2, 3));
            OK(net, btsp_net_train_sample(net, X_A, 3, Y_1L, 2));
            double y[2], want[6];
            one_layer_rates(fo, y); /* current (1, 0) or forward (1.8, 0.6) */
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    want[i * 3 + j] = (double)W_1L[i * 3 + j] + sgn * 0.25 * clipd(y[i], 0, 1) * clipd(X_A[j], 0, 1);
            /* forward rates: row 1 has y = 0.6: W[1][2] = 0.3 + sign * 0.25 * 0.6 * 1 */
            if (fo)
                CLOSE(want[5], 0.3 + sgn * 0.15);
            else
                CLOSE(want[5], 0.3); /* current rate of unit 1 is 0 */
            check_matrix(w, want, 6, fo ? "Hebb_WeightNorm_4 forward" : "Hebb_WeightNorm_4 current");
            btsp_net_destroy(net);
        }
}

static void oja(void **state_)
{
    (void)state_;
    for (int fo = 0; fo <= 1; fo++) {
        btsp_net *net;
        btsp_proj *w;
        btsp_rule *r;
        one_layer(&net, &w, &r, BTSP_RULE_OJA);
        OK(net, btsp_rule_set(r, BTSP_RULE_FORWARD_ONLY, fo));
        OK(net, btsp_net_finalize(net));
        OK(net, btsp_proj_set_weights(w, W_1L, 2, 3));
        OK(net, btsp_net_train_sample(net, X_A, 3, Y_1L, 2));
        double y[2], want[6];
        one_layer_rates(fo, y);
        for (int i = 0; i < 2; i++) {
            double yi = clipd(y[i], 0, 1);
            for (int j = 0; j < 3; j++) {
                double wij = W_1L[i * 3 + j];
                want[i * 3 + j] = wij + 0.25 * (yi * clipd(X_A[j], 0, 1) - yi * yi * wij);
            }
        }
        /* y0 = 1 either way (1.8 clipped): W[0][0] = 0.6 + 0.25 * (1 - 0.6) = 0.7 */
        CLOSE(want[0], 0.7);
        check_matrix(w, want, 6, fo ? "Oja forward" : "Oja current");
        btsp_net_destroy(net);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Plateau rules need a gate on their post population; BTSP_RULE_RELU_GATE belongs to
 * Hebbian_Temporal_Contrast only. */
static void validation_and_params(void **state_)
{
    (void)state_;
    const int plateau_kinds[] = {BTSP_RULE_DTP_2E, BTSP_RULE_DTP_2L, BTSP_RULE_TOP_LAYER_DTP};
    for (size_t k = 0; k < sizeof plateau_kinds / sizeof plateau_kinds[0]; k++) {
        anet a;
        anet_build(&a, 1.0, 1, BTSP_BACKWARD_SETTLE, 0, plateau_kinds[k], 0, -1, -1);
        btsp_status st = btsp_net_finalize(a.net);
        assert_int_equal(st, BTSP_E_STATE);
        assert_non_null(strstr(btsp_net_errmsg(a.net), "needs a gate"));
        btsp_net_destroy(a.net);
    }
    btsp_net *net;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    btsp_rule *r;
    OK(net, btsp_rule_create(net, BTSP_RULE_HEBB_TEMPORAL_CONTRAST, &r));
    assert_int_equal(btsp_rule_set(r, BTSP_RULE_RELU_GATE, 0.5), BTSP_E_RANGE);
    OK(net, btsp_rule_set(r, BTSP_RULE_RELU_GATE, 0));
    OK(net, btsp_rule_create(net, BTSP_RULE_DTP_2L, &r));
    assert_int_equal(btsp_rule_set(r, BTSP_RULE_RELU_GATE, 0), BTSP_E_INVALID_ARG);
    OK(net, btsp_rule_create(net, BTSP_RULE_SUPERVISED_BCM, &r));
    double v = 0;
    OK(net, btsp_rule_get(r, BTSP_RULE_THETA_K, &v));
    assert_true(v == 1.0);
    OK(net, btsp_rule_get(r, BTSP_RULE_THETA_TAU, &v));
    assert_true(v == 1.0);
    btsp_net_destroy(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dtp_2e_single_pass),
        cmocka_unit_test(dtp_2l_settle),
        cmocka_unit_test(top_layer_output_only),
        cmocka_unit_test(hebbian_temporal_contrast),
        cmocka_unit_test(topdown_temporal_contrast_1),
        cmocka_unit_test(topdown_temporal_contrast_1_clip),
        cmocka_unit_test(supervised_bcm),
        cmocka_unit_test(hebb_weightnorm_4),
        cmocka_unit_test(oja),
        cmocka_unit_test(validation_and_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
