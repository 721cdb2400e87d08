/* API tour: build a small BTSP network by hand, train it online, read results.
 *
 * Input (16 rates) -> Output (4 rate units). The output population has a target gate: after
 * each forward phase its plateau is clip(target - rate, -1, 1) on units that were active, and
 * BTSP rewrites the input weights of units with a plateau in one shot (potentiation towards
 * w_max for eligible inputs, depression for the rest). Four classes, each a block of 4 active
 * inputs, are learned within a few presentations; input gradients then show what each output
 * unit has become tuned to. Last, a checkpoint: the state image saved mid-training and loaded
 * back lets training resume exactly where it stopped. */
#include <btsp/btsp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        btsp_status st_ = (call);                                                                    \
        if (st_ != BTSP_OK) {                                                                        \
            fprintf(stderr, "%s failed: %s (%s)\n", #call, btsp_status_name(st_), btsp_net_errmsg(net)); \
            btsp_net_destroy(net);                                                                   \
            return 1;                                                                                \
        }                                                                                            \
    } while (0)

int main(void)
{
    btsp_net *net = NULL;
    if (btsp_net_create(&net) != BTSP_OK)
        return 1;
    CHECK(btsp_net_set(net, BTSP_NET_TAU, 3.0));           /* leak: u += (I - u) / 3 per step */
    CHECK(btsp_net_set(net, BTSP_NET_FORWARD_STEPS, 10.0)); /* T integration steps per phase */
    CHECK(btsp_net_set_backward(net, BTSP_BACKWARD_SETTLE));
    CHECK(btsp_net_seed(net, 42));

    btsp_layer *lin, *lout;
    btsp_pop *in, *out;
    CHECK(btsp_layer_add(net, "Input", &lin));
    CHECK(btsp_pop_add(lin, "E", 16, &in));
    CHECK(btsp_layer_add(net, "Output", &lout));
    CHECK(btsp_pop_add(lout, "E", 4, &out));
    CHECK(btsp_pop_set_activation(out, BTSP_ACT_RELU, 0, 0));

    /* Excitatory (Dale: weights in [0, w_max]) projection onto the soma, learned by BTSP. */
    btsp_proj *w;
    CHECK(btsp_proj_add(in, out, BTSP_SOMA, &w));
    CHECK(btsp_proj_set_bounds(w, 0.0, 0.5));
    CHECK(btsp_proj_set_init(w, BTSP_INIT_HALF_KAIMING, 1.0, 0.0)); /* U(0, 1/sqrt(16)) */
    btsp_rule *rule;
    CHECK(btsp_rule_create(net, BTSP_RULE_BTSP, &rule));
    CHECK(btsp_rule_set(rule, BTSP_RULE_LEARNING_RATE, 0.5));
    CHECK(btsp_rule_set(rule, BTSP_RULE_TEMPORAL_DISCOUNT, 0.0));
    CHECK(btsp_proj_set_rule(w, rule));

    /* The instructive signal: a target gate on the output population. */
    btsp_gate *gate;
    CHECK(btsp_gate_create(net, BTSP_GATE_TARGET, &gate));
    CHECK(btsp_gate_attach(gate, out));

    btsp_monitor *loss;
    CHECK(btsp_monitor_add_loss(net, 1, 1000, &loss));
    CHECK(btsp_net_finalize(net)); /* validate, allocate, initialise weights */

    float x[4][16] = {{0}}, y[4][4] = {{0}};
    for (int c = 0; c < 4; c++) {
        for (int j = 0; j < 4; j++)
            x[c][4 * c + j] = 1.0f;
        y[c][c] = 1.0f;
    }
    for (int epoch = 0; epoch < 20; epoch++)
        for (int c = 0; c < 4; c++)
            CHECK(btsp_net_train_sample(net, x[c], 16, y[c], 4));

    int correct = 0;
    for (int c = 0; c < 4; c++) {
        float o[4];
        CHECK(btsp_net_evaluate(net, x[c], 1, 16, o, 4));
        int best = 0;
        for (int k = 1; k < 4; k++)
            if (o[k] > o[best])
                best = k;
        printf("class %d -> output [%.3f %.3f %.3f %.3f] -> %d\n", c, o[0], o[1], o[2], o[3], best);
        correct += best == c;
    }
    const float *hist;
    size_t n, width;
    CHECK(btsp_monitor_data(loss, &hist, &n, &width, NULL));
    printf("loss: first sample %.4f, last sample %.4f; %d/4 correct\n", hist[0], hist[n - 1], correct);

    /* What each output unit responds to: the gradient of its final rate with respect to the
     * input (a receptive field by activation maximisation), through all 10 integration steps,
     * at its own class pattern. One call gives all four units (cotangents = identity rows).
     * Without biases a relu network's rate is homogeneous of degree 1 in its input, so with the
     * window covering the whole phase x . grad equals the rate (Euler): each unit's block sum
     * below reproduces its output above. */
    float eye[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}, grad[4][16];
    int tuned = 0;
    for (int c = 0; c < 4; c++) {
        CHECK(btsp_net_input_gradient(net, x[c], 16, out, &eye[0][0], 4, 4, 10, &grad[0][0], 4 * 16));
        float block[4] = {0}; /* unit c's sensitivity to each block of 4 inputs */
        for (int i = 0; i < 16; i++)
            block[i / 4] += grad[c][i];
        int best = 0;
        for (int b = 1; b < 4; b++)
            if (block[b] > block[best])
                best = b;
        printf("unit %d: d rate / d input summed per block [%.3f %.3f %.3f %.3f]\n", c, block[0], block[1],
               block[2], block[3]);
        tuned += best == c;
    }

    /* Checkpoint: the state image (weights, traces, counters) in a buffer of our own; a file
     * would do as well (btsp_io_save_state() in btsp_io.h). Train one more epoch, go back to
     * the checkpoint, train the same epoch again: the weights come out bit for bit the same. */
    size_t bytes = btsp_net_state_size(net);
    unsigned char *image = malloc(bytes);
    float *w1 = malloc(4 * 16 * sizeof *w1);
    const float *wv;
    size_t rows, cols;
    if (!image || !w1) {
        free(image);
        free(w1);
        btsp_net_destroy(net);
        return 1;
    }
    CHECK(btsp_net_save_state(net, image, bytes, NULL));
    for (int c = 0; c < 4; c++)
        CHECK(btsp_net_train_sample(net, x[c], 16, y[c], 4));
    CHECK(btsp_proj_weights(w, &wv, &rows, &cols));
    memcpy(w1, wv, rows * cols * sizeof *w1);
    CHECK(btsp_net_load_state(net, image, bytes));
    unsigned long long at = (unsigned long long)btsp_net_sample_count(net);
    for (int c = 0; c < 4; c++)
        CHECK(btsp_net_train_sample(net, x[c], 16, y[c], 4));
    CHECK(btsp_proj_weights(w, &wv, &rows, &cols));
    int same = memcmp(w1, wv, rows * cols * sizeof *w1) == 0;
    printf("checkpoint: %zu bytes at sample %llu; the epoch after it, trained twice: %s weights\n", bytes, at,
           same ? "identical" : "DIFFERENT");
    free(image);
    free(w1);
    btsp_net_destroy(net);
    return correct == 4 && tuned == 4 && same ? 0 : 1;
}
