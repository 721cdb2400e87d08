/* Fuzz target: state images (btsp_net_load_state) on a small network with every kind of state
 * (the demo network with the layer sizes shrunk: BTSP traces, a dendrite, gates, plateaus).
 * The first input byte selects the mode: even, the rest is loaded as it is (so mostly header and
 * checksum checks run); odd, the fuzz target first rewrites the checksum field of the rest to
 * match its contents, so that arbitrary payloads (NaN or huge weights, counters near 2^64,
 * flags other than 0 and 1) get loaded. Properties: a refused image leaves a one-line message
 * and the network's own image byte for byte as it was; an accepted one can be saved again at
 * the same size and the network then trains and evaluates without a sanitizer report. One
 * network serves every input (restored to its pristine image first); it lives until exit. */
#include "fuzz_common.h"

#include <btsp/btsp_config.h>

#include "state_format.h" /* src/: the checksum's hash and place in the header */

#include <stdint.h>

static btsp_net *make_net(void)
{
    /* the demo config with sizes 64/100/10 shrunk to 6/5/3 (text replaced before loading) */
    static const char *const yaml_path = BTSP_SOURCE_DIR "/configs/demo/tiny_btsp.yaml";
    FILE *f = fopen(yaml_path, "rb");
    FUZZ_EXPECT(f != NULL);
    static char text[1 << 16], out[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    size_t o = 0;
    for (const char *p = text; *p && o + 8 < sizeof out;) {
        const char *sizes[][2] = {
            {"size: 64\n", "size: 6\n"}, {"size: 100\n", "size: 5\n"}, {"size: 10\n", "size: 3\n"}};
        int done = 0;
        for (size_t k = 0; k < 3 && !done; k++)
            if (strncmp(p, sizes[k][0], strlen(sizes[k][0])) == 0) {
                memcpy(out + o, sizes[k][1], strlen(sizes[k][1]));
                o += strlen(sizes[k][1]);
                p += strlen(sizes[k][0]);
                done = 1;
            }
        if (!done)
            out[o++] = *p++;
    }
    btsp_net *net = NULL;
    char err[512];
    FUZZ_EXPECT(btsp_config_load_string(out, o, "tiny_btsp.yaml (shrunk)", NULL, &net, err, sizeof err) == BTSP_OK);
    FUZZ_EXPECT(btsp_net_seed(net, 12345) == BTSP_OK);
    FUZZ_EXPECT(btsp_net_finalize(net) == BTSP_OK);
    return net;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one network for the whole run (parsing the config for every input made the target ten
     * times slower), put back to its pristine image before each input */
    static btsp_net *net;
    static unsigned char *before;
    static size_t n_img;
    if (!net) {
        net = make_net();
        n_img = btsp_net_state_size(net);
        before = malloc(n_img);
        FUZZ_EXPECT(before && btsp_net_save_state(net, before, n_img, NULL) == BTSP_OK);
    }
    if (size == 0)
        return 0;
    FUZZ_EXPECT(btsp_net_load_state(net, before, n_img) == BTSP_OK);
    unsigned char *after = malloc(n_img), *img = malloc(size);
    FUZZ_EXPECT(after && img);
    size_t len = size - 1;
    memcpy(img, data + 1, len);
    if ((data[0] & 1) && len >= BTSP__STATE_HEADER_BYTES) {
        uint64_t h = btsp__fnv1a64(btsp__fnv1a64(BTSP__FNV_OFFSET, img, BTSP__STATE_CHECKSUM_AT),
                                   img + BTSP__STATE_HEADER_BYTES, len - BTSP__STATE_HEADER_BYTES);
        for (int i = 0; i < 8; i++)
            img[BTSP__STATE_CHECKSUM_AT + i] = (unsigned char)(h >> (8 * i));
    }
    btsp_status st = btsp_net_load_state(net, img, len);
#ifdef FUZZ_TRACE /* -DFUZZ_TRACE: what an input does */
    fprintf(stderr, "load %zu bytes (image %zu): %s %s\n", len, n_img, btsp_status_name(st),
            st ? btsp_net_errmsg(net) : "");
#endif
    if (st != BTSP_OK) {
        FUZZ_EXPECT(st != BTSP_E_INTERNAL);
        fuzz_expect_message(btsp_net_errmsg(net), 4096);
        FUZZ_EXPECT(btsp_net_save_state(net, after, n_img, NULL) == BTSP_OK);
        FUZZ_EXPECT(memcmp(before, after, n_img) == 0); /* nothing changed */
    } else {
        FUZZ_EXPECT(len == n_img);
        FUZZ_EXPECT(btsp_net_save_state(net, after, n_img, NULL) == BTSP_OK);
        float x[6] = {0.1f, 0.9f, 0.0f, 0.5f, 1.0f, 0.3f}, y[3] = {0.0f, 1.0f, 0.0f}, out[3];
        st = btsp_net_train_sample(net, x, 6, y, 3);
        FUZZ_EXPECT(st == BTSP_OK || st == BTSP_E_NUMERIC);
        FUZZ_EXPECT(btsp_net_evaluate(net, x, 1, 6, out, 3) == BTSP_OK);
    }
    free(after);
    free(img);
    return 0;
}
