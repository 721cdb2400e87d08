/* Small valid networks built through the public API, shared by the API misuse tests.
 *
 * tiny:  Input.E (TINY_IN) -> Output.E (TINY_OUT, relu), one somatic projection with bounds
 *        [0, 0.875] and half-Kaiming init, learned by BTSP; a target gate on the output;
 *        settling backward phase, tau 2.5, 3 forward steps.
 * rep:   a representative network used by the allocation and monitor tests, built step by step
 *        so a test can retry a single failed step:
 *          Input.E (REP_IN) -> H1.E (REP_HE, relu, bias with DendriticLossBias, dendrite,
 *          dendritic gate) <-> H1.I (REP_HI, inhibitory, normalized E->I), Output.E (REP_OUT,
 *          relu, target gate); Output.E -> H1.E dendrite is a transposed clone of H1.E ->
 *          Output.E; BTSP on Input->H1.E and H1.E->Output; a few monitors. */
#ifndef BTSP_TEST_NETS_H
#define BTSP_TEST_NETS_H

#include "btsp/btsp.h"

#define TINY_IN 5
#define TINY_OUT 3

typedef struct tiny_net {
    btsp_net *net;
    btsp_layer *lin, *lout;
    btsp_pop *in, *out;
    btsp_proj *w;
    btsp_rule *rule;
    btsp_gate *gate;
} tiny_net;

/* Build the tiny structure into an existing (building) network; returns the first failure.
 * Does not finalize. */
btsp_status tiny_build(btsp_net *net, tiny_net *t);
/* Create (malloc), build and finalize with the given seed; returns the first failure. */
btsp_status tiny_create(tiny_net *t, uint64_t seed);

/* Deterministic, high-entropy data: X is n x nx in [0, 1) with some exact zeros, Y is one-hot
 * n x ny (class i % ny). */
void test_fill_data(float *X, float *Y, size_t n, size_t nx, size_t ny, uint32_t salt);

#define REP_IN 8
#define REP_HE 6
#define REP_HI 3
#define REP_OUT 4

typedef struct rep_net {
    const btsp_allocator *alloc; /* NULL: btsp_net_create */
    uint64_t seed;
    btsp_net *net;
    btsp_layer *lin, *lh, *lout;
    btsp_pop *in, *hE, *hI, *out;
    btsp_dend *dend;
    btsp_proj *hE_in, *hI_hE, *hE_hI, *out_hE, *hEd_out;
    btsp_rule *r_in, *r_out, *r_bias;
    btsp_gate *g_h, *g_out;
    btsp_monitor *m_act, *m_w, *m_loss;
} rep_net;

/* Number of build steps (the last one is btsp_net_finalize). */
size_t rep_n_steps(void);
/* Run build step i (0 = create the network). A failed step changes nothing, so it may be retried. */
btsp_status rep_step(rep_net *r, size_t i);
/* All steps in order; stops at the first failure. */
btsp_status rep_build(rep_net *r);


/* 1 if two finalized networks of the same structure have bitwise identical weights and biases
 * (0 if anything differs or cannot be read). */
int test_nets_equal(const btsp_net *a, const btsp_net *b);

/* ---- Assertion helpers for status-returning calls (need test_support.h / CMocka first) ---- */

/* The call must succeed; on failure print the status and the network's message. */
#define EXPECT_OK(net, call)                                                                         \
    do {                                                                                             \
        btsp_status s_ = (call);                                                                     \
        if (s_ != BTSP_OK)                                                                           \
            fail_msg("%s -> %s (%s)", #call, btsp_status_name(s_), btsp_net_errmsg(net));            \
    } while (0)

/* The call must fail with `code`; if `net` is not NULL its errcode must be `code` and its message
 * non-empty and containing `ctx` (if ctx is not NULL). */
#define EXPECT_FAIL(net, call, code, ctx)                                                            \
    do {                                                                                             \
        btsp_status s_ = (call);                                                                     \
        btsp_status e_ = (code);                                                                     \
        const char *c_ = (ctx);                                                                      \
        const btsp_net *n_ = (net);                                                                  \
        if (s_ != e_)                                                                                \
            fail_msg("%s -> %s, expected %s (%s)", #call, btsp_status_name(s_), btsp_status_name(e_), \
                     btsp_net_errmsg(n_));                                                           \
        if (n_) {                                                                                    \
            const char *m_ = btsp_net_errmsg(n_);                                                    \
            if (btsp_net_errcode(n_) != e_)                                                          \
                fail_msg("%s: errcode %s, expected %s", #call, btsp_status_name(btsp_net_errcode(n_)), \
                         btsp_status_name(e_));                                                      \
            if (!m_ || !m_[0])                                                                       \
                fail_msg("%s: empty error message", #call);                                          \
            if (c_ && !strstr(m_, c_))                                                               \
                fail_msg("%s: message '%s' does not mention '%s'", #call, m_, c_);                   \
        }                                                                                            \
    } while (0)

#endif
