// Embedding libbtsp in a C++ simulator: the host owns the world and the clock; libbtsp is the
// plastic circuit. Shows the idioms a C++ code base wants around the C API:
//   - RAII: a std::unique_ptr with btsp_net_destroy as deleter, so every exit path frees the
//     network (and everything created from it);
//   - exceptions: every status checked in one place and turned into a std::runtime_error that
//     carries the network's own message;
//   - the host's loop: the simulator produces one sample per tick from its own state and calls
//     btsp_net_train_sample(), then reads the network's response with btsp_net_evaluate();
//   - checkpoints as a host feature: a state image (btsp_net_save_state) in a std::vector per
//     episode, restored to undo an episode, bit for bit.
//
// The world: an agent runs laps on a 1-D circular track of 100 positions; 40 input neurons have
// Gaussian place fields on it (sigma 2 positions), and a BTSP layer of 4 units learns, from a
// target signal that names the track quarter, to report which quarter the agent is in
// (plateau-driven one-shot learning: 94 % of positions after the first lap). Episode 3 is a
// "sensor fault" lap (inputs mirrored; 3 % correct after it) that the host detects and rolls
// back. Exit status 0 when the quarter is read out correctly at >= 90 % of positions at the end
// (93 %), the rollback restores the checkpoint exactly, and the final network is bit for bit
// the one a second simulator gets that never saw the faulty lap (so the undo really undid it:
// the accuracy alone would not show it, one good lap after the fault brings it back too).
#include <btsp/btsp.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

struct NetDeleter {
    void operator()(btsp_net *n) const { btsp_net_destroy(n); }
};
using NetPtr = std::unique_ptr<btsp_net, NetDeleter>;

// Throw with the library's message on any failure (net may be null for creation calls).
void check(btsp_status st, const btsp_net *net, const char *what) {
    if (st != BTSP_OK && st != BTSP_STOPPED)
        throw std::runtime_error(std::string(what) + ": " + btsp_status_name(st) + ": " + btsp_net_errmsg(net));
}

constexpr int kInputs = 40, kOut = 4, kTrack = 100;

// The plastic circuit: Input.E (40 place cells) -> Output.E (4 rate units, relu), somatic
// weights in [0, 0.5], learned by BTSP; a target gate turns the target into plateaus.
NetPtr build_circuit(uint64_t seed) {
    btsp_net *raw = nullptr;
    check(btsp_net_create(&raw), nullptr, "btsp_net_create");
    NetPtr net(raw);
    btsp_net *n = net.get();
    check(btsp_net_seed(n, seed), n, "seed");
    check(btsp_net_set(n, BTSP_NET_TAU, 2.0), n, "tau");
    check(btsp_net_set(n, BTSP_NET_FORWARD_STEPS, 6.0), n, "steps");
    check(btsp_net_set_backward(n, BTSP_BACKWARD_SETTLE), n, "backward");
    btsp_layer *lin = nullptr, *lout = nullptr;
    btsp_pop *in = nullptr, *out = nullptr;
    check(btsp_layer_add(n, "Input", &lin), n, "layer");
    check(btsp_pop_add(lin, "E", kInputs, &in), n, "pop");
    check(btsp_layer_add(n, "Output", &lout), n, "layer");
    check(btsp_pop_add(lout, "E", kOut, &out), n, "pop");
    check(btsp_pop_set_activation(out, BTSP_ACT_RELU, 0, 0), n, "activation");
    btsp_proj *w = nullptr;
    check(btsp_proj_add(in, out, BTSP_SOMA, &w), n, "projection");
    check(btsp_proj_set_bounds(w, 0.0, 0.5), n, "bounds");
    check(btsp_proj_set_init(w, BTSP_INIT_HALF_KAIMING, 1.0, 0.0), n, "init");
    btsp_rule *rule = nullptr;
    check(btsp_rule_create(n, BTSP_RULE_BTSP, &rule), n, "rule");
    check(btsp_rule_set(rule, BTSP_RULE_LEARNING_RATE, 0.5), n, "learning rate");
    check(btsp_proj_set_rule(w, rule), n, "set rule");
    btsp_gate *gate = nullptr;
    check(btsp_gate_create(n, BTSP_GATE_TARGET, &gate), n, "gate");
    check(btsp_gate_attach(gate, out), n, "attach");
    check(btsp_net_finalize(n), n, "finalize");
    return net;
}

// The host's world: place-cell rates at a position (circular track), and the target quarter.
void observe(int pos, float *x, float *y) {
    for (int j = 0; j < kInputs; j++) {
        double centre = (j + 0.5) * kTrack / kInputs;
        double d = std::fabs(pos - centre);
        d = std::fmin(d, kTrack - d);
        x[j] = static_cast<float>(std::exp(-d * d / (2.0 * 2.0 * 2.0)));
    }
    for (int k = 0; k < kOut; k++)
        y[k] = (pos * kOut / kTrack == k) ? 1.0f : 0.0f;
}

// Fraction of track positions at which the largest output names the right quarter.
double readout_accuracy(btsp_net *n) {
    int correct = 0;
    for (int pos = 0; pos < kTrack; pos++) {
        float x[kInputs], y[kOut], o[kOut];
        observe(pos, x, y);
        check(btsp_net_evaluate(n, x, 1, kInputs, o, kOut), n, "evaluate");
        int best = 0;
        for (int k = 1; k < kOut; k++)
            if (o[k] > o[best])
                best = k;
        correct += y[best] == 1.0f;
    }
    return static_cast<double>(correct) / kTrack;
}

std::vector<unsigned char> checkpoint(btsp_net *n) {
    std::vector<unsigned char> image(btsp_net_state_size(n));
    check(btsp_net_save_state(n, image.data(), image.size(), nullptr), n, "save state");
    return image;
}

} // namespace

// One lap of training; a faulty sensor mirrors the place cells (learning from it would hurt).
void lap(btsp_net *n, bool fault) {
    float x[kInputs], y[kOut];
    for (int tick = 0; tick < kTrack; tick += 2) { // a sample every 2 positions
        observe(tick, x, y);
        if (fault)
            for (int j = 0; j < kInputs / 2; j++)
                std::swap(x[j], x[kInputs - 1 - j]);
        check(btsp_net_train_sample(n, x, kInputs, y, kOut), n, "train");
    }
}

int main() {
    try {
        NetPtr net = build_circuit(7);
        btsp_net *n = net.get();
        bool rollback_exact = false;
        for (int episode = 0; episode < 6; episode++) {
            std::vector<unsigned char> before = checkpoint(n); // the host's undo point
            bool fault = episode == 3;                          // a corrupted sensor this lap
            lap(n, fault);
            double acc = readout_accuracy(n);
            std::printf("episode %d%s: quarter read out correctly at %.0f%% of positions\n", episode,
                        fault ? " (sensor fault)" : "", 100.0 * acc);
            if (fault) { // the host detects the fault afterwards and undoes the episode
                check(btsp_net_load_state(n, before.data(), before.size()), n, "load state");
                rollback_exact = checkpoint(n) == before;
                std::printf("  rolled back to the checkpoint: %s\n", rollback_exact ? "bit for bit" : "DIFFERENT");
            }
        }
        // a second simulator that never saw the faulty lap: five good laps, then the same
        // read-out (an evaluation leaves its last row's activities in the state image too)
        NetPtr ref = build_circuit(7);
        for (int episode = 0; episode < 5; episode++)
            lap(ref.get(), false);
        readout_accuracy(ref.get());
        bool same_as_clean = checkpoint(n) == checkpoint(ref.get());
        double final_acc = readout_accuracy(n);
        std::printf("final: %.0f%% correct after %llu samples; %s the network of a run without the faulty lap\n",
                    100.0 * final_acc, static_cast<unsigned long long>(btsp_net_sample_count(n)),
                    same_as_clean ? "bit for bit" : "NOT");
        return final_acc >= 0.9 && rollback_exact && same_as_clean ? 0 : 1;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "cpp_simulator: %s\n", e.what());
        return 1;
    }
}
