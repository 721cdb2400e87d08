/* Consumer of an installed libbtsp_io (component io): loads an EIANN-format YAML network from
 * memory, trains one sample, and round-trips a weight matrix through a .npy file. Built by
 * tests/consumer/run.sh with find_package(btsp COMPONENTS io) and with pkg-config libbtsp_io. */
#include <btsp/btsp.h>
#include <btsp/btsp_config.h>
#include <btsp/btsp_io.h>

#include <stdio.h>
#include <string.h>

static const char yaml[] =
    "layer_config:\n"
    "  Input:\n"
    "    E: {size: 4}\n"
    "  Output:\n"
    "    E: {size: 2, activation: linear}\n"
    "projection_config:\n"
    "  Output.E:\n"
    "    Input.E:\n"
    "      weight_init: scaled_kaiming\n"
    "      weight_init_args: !!python/tuple [1.0]\n"
    "      direction: F\n"
    "      learning_rule: Backprop\n"
    "      learning_rule_kwargs: {learning_rate: 0.5}\n"
    "training_kwargs: {tau: 1, forward_steps: 1, backward_steps: 1, learning_rate: 0.5}\n";

int main(int argc, char **argv) {
    char err[512];
    btsp_net *net = NULL;
    btsp_proj *proj = NULL;
    const float x[4] = {1.0f, 0.5f, 0.25f, 0.0f}, y[2] = {1.0f, 0.0f};
    float before[8], after[8], *back = NULL;
    size_t shape[2], nd;
    char path[1024];
    if (argc != 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    if (btsp_config_load_string(yaml, sizeof yaml - 1, "consumer.yaml", NULL, &net, err, sizeof err)) {
        fprintf(stderr, "consumer_io: %s\n", err);
        return 1;
    }
    if (btsp_net_finalize(net) || btsp_net_find_proj(net, "OutputE_InputE", &proj) ||
        btsp_proj_copy_weights(proj, before, 2, 4) || btsp_net_train_sample(net, x, 4, y, 2) ||
        btsp_proj_copy_weights(proj, after, 2, 4)) {
        fprintf(stderr, "consumer_io: %s\n", btsp_net_errmsg(net));
        btsp_net_destroy(net);
        return 1;
    }
    if (memcmp(before, after, sizeof before) == 0) {
        fprintf(stderr, "consumer_io: training changed no weight\n");
        btsp_net_destroy(net);
        return 1;
    }
    snprintf(path, sizeof path, "%s/w.npy", argv[1]);
    if (btsp_npy_write_f32(path, after, 2, (size_t[]){2, 4}, err, sizeof err) ||
        btsp_npy_read_f32(path, &back, shape, &nd, err, sizeof err)) {
        fprintf(stderr, "consumer_io: %s\n", err);
        btsp_net_destroy(net);
        return 1;
    }
    int ok = nd == 2 && shape[0] == 2 && shape[1] == 4 && memcmp(back, after, sizeof after) == 0;
    btsp_npy_free(back);
    btsp_net_destroy(net);
    if (!ok) {
        fprintf(stderr, "consumer_io: .npy round trip changed the weights\n");
        return 1;
    }
    printf("consumer_io: libbtsp_io config load, training step and .npy round trip OK\n");
    return 0;
}
