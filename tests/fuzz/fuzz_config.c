/* Fuzz target: EIANN YAML configs (btsp_config_load_string), then finalize and train two
 * samples on whatever network loaded. Properties checked: no crash, no sanitizer report, no
 * leak; every failure returns a status other than BTSP_OK with a one-line message; a network
 * that loads and finalizes trains or fails cleanly. */
#include "fuzz_common.h"

#include <btsp/btsp_config.h>

#include <stdint.h>

/* Keeps one input fast: skip training when a phase would take longer than this many steps or
 * the populations are larger than this (the loader and finalize still run on them). */
#define FUZZ_MAX_STEPS 40.0
#define FUZZ_MAX_UNITS 4096u

static void fuzz_train(btsp_net *net)
{
    double fwd = 0, bwd = 0;
    FUZZ_EXPECT(btsp_net_get(net, BTSP_NET_FORWARD_STEPS, &fwd) == BTSP_OK);
    FUZZ_EXPECT(btsp_net_get(net, BTSP_NET_BACKWARD_STEPS, &bwd) == BTSP_OK);
    if (fwd > FUZZ_MAX_STEPS || bwd > FUZZ_MAX_STEPS)
        return;
    size_t units = 0;
    for (size_t i = 0; i < btsp_net_pop_count(net); i++)
        units += btsp_pop_size(btsp_net_pop_at(net, i));
    if (units > FUZZ_MAX_UNITS)
        return;
    btsp_pop *in = btsp_net_input(net), *out = btsp_net_output(net);
    FUZZ_EXPECT(in != NULL && out != NULL);
    size_t nx = btsp_pop_size(in), ny = btsp_pop_size(out);
    float x[FUZZ_MAX_UNITS], y[FUZZ_MAX_UNITS], o[FUZZ_MAX_UNITS];
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)((i * 7u) % 11u) / 10.0f;
    for (size_t i = 0; i < ny; i++)
        y[i] = i == 0 ? 1.0f : 0.0f;
    for (int k = 0; k < 2; k++) {
        btsp_status st = btsp_net_train_sample(net, x, nx, y, ny);
        if (st != BTSP_OK) {
            fuzz_expect_message(btsp_net_errmsg(net), 4096);
            return;
        }
    }
    btsp_status st = btsp_net_evaluate(net, x, 1, nx, o, ny);
    if (st != BTSP_OK)
        fuzz_expect_message(btsp_net_errmsg(net), 4096);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_budget budget = {0, (size_t)64 << 20};
    btsp_allocator alloc = {fuzz_alloc, fuzz_free, &budget};
    btsp_net *net = NULL;
    char err[512];
    memset(err, 'x', sizeof err);
    btsp_status st = btsp_config_load_string((const char *)data, size, "fuzz.yaml", &alloc, &net,
                                             err, sizeof err);
    if (st != BTSP_OK) {
        FUZZ_EXPECT(net == NULL);
        fuzz_expect_message(err, sizeof err);
        FUZZ_EXPECT(budget.used == 0);
        return 0;
    }
    FUZZ_EXPECT(net != NULL);
    st = btsp_net_finalize(net);
    if (st == BTSP_OK)
        fuzz_train(net);
    else
        fuzz_expect_message(btsp_net_errmsg(net), 4096);
    btsp_net_destroy(net);
    FUZZ_EXPECT(budget.used == 0);
    return 0;
}
