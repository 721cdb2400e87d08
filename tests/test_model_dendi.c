/* Dendritic inhibition learns to cancel the top-down drive (eiann-model.md sections 1.7, 3.3).
 *
 * Network (demo-like, one hidden layer): Input.E(20) -> H.E(20, dendrite), H.DendI(5) ->
 * Output.E(4), all relu, tau 3, 10 forward steps, settling backward phase:
 *   H.E <- Input.E      soma, F, [0, 1], half-Kaiming 1.9, fixed
 *   Output.E <- H.E     soma, F, [0, 1], half-Kaiming 2.3, fixed
 *   H.E <- Output.E     dendrite, F, phase B, clone = 2 * W(Output.E <- H.E)^T  (top-down)
 *   H.E <- H.DendI      dendrite, R, phase B, (-inf, 0], DendriticLoss_6, sign -1, lr 0.05
 *   H.DendI <- H.E      soma, R, [0, inf), Hebb_WeightNorm (lr 0.2) + row L1 norm 2
 * Gates: dendritic on H.E, target on Output.E. Trained on 12 random sparse patterns (30 % of
 * the inputs active) with labels, presented in random order, 400 samples.
 *
 * The forward (E <- E) weights are fixed on purpose: with BTSP on them the output activity,
 * and with it the top-down drive, shrinks by itself while the outputs learn their targets, so
 * the mean |d_fwd| falls even with DendriticLoss_6 disabled and the comparison would no longer
 * isolate the rule. With a stationary top-down drive:
 * DendriticLoss_6 drives the forward dendritic state towards 0, so the mean |d_fwd| of H.E over
 * the last 50 samples must fall well below (< 50 %) its mean over the first 50; with the same
 * rule disabled (btsp_rule_enable(rule, 0)) it must not (the reduction is the rule's doing).
 * Three seeds (each seed also draws its own patterns). */
#include "test_model_util.h"

#include "btsp/btsp_kernels.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { N_IN = 20, N_H = 20, N_D = 5, N_OUT = 4, N_PAT = 12, N_SAMPLES = 400, WINDOW = 50 };

static btsp_proj *proj(btsp_net *net, btsp_pop *pre, btsp_pop *post, btsp_compartment c, btsp_direction dir,
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

static btsp_rule *rule(btsp_net *net, btsp_proj *q, btsp_rule_kind kind, double lr, double sign)
{
    btsp_rule *r;
    OK(net, btsp_rule_create(net, kind, &r));
    OK(net, btsp_rule_set(r, BTSP_RULE_LEARNING_RATE, lr));
    if (sign != 0.0)
        OK(net, btsp_rule_set(r, BTSP_RULE_SIGN, sign));
    OK(net, btsp_proj_set_rule(q, r));
    return r;
}

/* Train one network; returns mean |d_fwd| over the first and the last WINDOW samples. */
static void run(uint64_t seed, int dl_enabled, double *first, double *last)
{
    const double inf = INFINITY;
    btsp_net *net;
    btsp_layer *L0, *L1, *L2;
    btsp_pop *in, *he, *hd, *oe;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    OK(net, btsp_net_seed(net, seed));
    OK(net, btsp_net_set(net, BTSP_NET_TAU, 3));
    OK(net, btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 10));
    OK(net, btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    OK(net, btsp_layer_add(net, "Input", &L0));
    OK(net, btsp_layer_add(net, "H", &L1));
    OK(net, btsp_layer_add(net, "Output", &L2));
    OK(net, btsp_pop_add(L0, "E", N_IN, &in));
    OK(net, btsp_pop_add(L1, "E", N_H, &he));
    OK(net, btsp_pop_add(L1, "DendI", N_D, &hd));
    OK(net, btsp_pop_add(L2, "E", N_OUT, &oe));
    OK(net, btsp_pop_set_activation(he, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set_activation(hd, BTSP_ACT_RELU, 0, 0));
    OK(net, btsp_pop_set_activation(oe, BTSP_ACT_RELU, 0, 0));
    const btsp_direction F = BTSP_DIR_FORWARD, R = BTSP_DIR_RECURRENT;
    btsp_proj *q;
    proj(net, in, he, BTSP_SOMA, F, 0, 1, 1.9);
    btsp_proj *y = proj(net, hd, he, BTSP_DEND, R, -inf, 0, 0.2);
    btsp_rule *dl = rule(net, y, BTSP_RULE_DENDRITIC_LOSS, 0.05, -1);
    q = proj(net, he, hd, BTSP_SOMA, R, 0, inf, 1.0);
    OK(net, btsp_proj_set_normalize(q, 2.0, 0));
    rule(net, q, BTSP_RULE_HEBB_WEIGHTNORM, 0.2, 1);
    btsp_proj *w2 = proj(net, he, oe, BTSP_SOMA, F, 0, 1, 2.3);
    OK(net, btsp_proj_add(oe, he, BTSP_DEND, &q));
    OK(net, btsp_proj_set_phase(q, BTSP_PHASE_BACKWARD));
    OK(net, btsp_proj_set_clone(q, w2, 2.0, 1));
    btsp_gate *g;
    OK(net, btsp_gate_create(net, BTSP_GATE_DENDRITIC, &g));
    OK(net, btsp_gate_set(g, BTSP_GATE_NEG_RATE_TH, 0.0));
    OK(net, btsp_gate_attach(g, he));
    OK(net, btsp_gate_create(net, BTSP_GATE_TARGET, &g));
    OK(net, btsp_gate_attach(g, oe));
    OK(net, btsp_net_finalize(net));
    OK(net, btsp_rule_enable(dl, dl_enabled));

    /* Patterns: each input active with probability 0.3, rate in [0.5, 1]; labels random. The
     * data depend on the seed too, so each seed is a different task. */
    static float X[N_PAT][N_IN], Y[N_PAT][N_OUT];
    for (int p = 0; p < N_PAT; p++) {
        for (int j = 0; j < N_IN; j++) {
            uint64_t k = (uint64_t)(p * N_IN + j);
            X[p][j] = btsp_k_rand_uniform(seed, 501, k) < 0.3 ? (float)(0.5 + 0.5 * btsp_k_rand_uniform(seed, 502, k))
                                                              : 0.0f;
        }
        int c = p % N_OUT;
        for (int i = 0; i < N_OUT; i++)
            Y[p][i] = i == c ? 1.0f : 0.0f;
    }
    double sum_first = 0, sum_last = 0;
    for (int s = 0; s < N_SAMPLES; s++) {
        int p = (int)(btsp_k_rand_uniform(seed, 503, (uint64_t)s) * N_PAT);
        OK(net, btsp_net_train_sample(net, X[p], N_IN, Y[p], N_OUT));
        const float *d;
        size_t n;
        OK(net, btsp_pop_state(he, BTSP_VAR_FORWARD_DEND, &d, &n));
        double m = 0;
        for (size_t i = 0; i < n; i++)
            m += fabs((double)d[i]);
        m /= (double)n;
        if (s < WINDOW)
            sum_first += m;
        if (s >= N_SAMPLES - WINDOW)
            sum_last += m;
    }
    *first = sum_first / WINDOW;
    *last = sum_last / WINDOW;
    btsp_net_destroy(net);
}

static void dendritic_inhibition_cancels_top_down(void **state_)
{
    (void)state_;
    const uint64_t seeds[3] = {1, 2, 3};
    for (int k = 0; k < 3; k++) {
        double f1, l1, f0, l0;
        run(seeds[k], 1, &f1, &l1);
        run(seeds[k], 0, &f0, &l0);
        print_message("seed %llu: mean |d_fwd| first/last 50: with DendriticLoss %.4f -> %.4f (%.0f%%), "
                      "disabled %.4f -> %.4f (%.0f%%)\n",
                      (unsigned long long)seeds[k], f1, l1, 100 * l1 / f1, f0, l0, 100 * l0 / f0);
        assert_true(f1 > 0.0 && f0 > 0.0);
        assert_true(l1 < 0.5 * f1);  /* the rule cancels most of the dendritic drive */
        assert_true(l0 > 0.75 * f0); /* without it the drive stays */
        assert_true(l1 < 0.5 * l0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dendritic_inhibition_cancels_top_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
