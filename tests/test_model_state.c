/* State images (btsp_net_save_state / btsp_net_load_state, btsp_io_save_state /
 * btsp_io_load_state): training resumed from an image gives bitwise the same network as
 * training that never stopped, for every family of rules in the shipped configs; the image has
 * the documented layout and size; every malformed image or misuse is refused with a clear
 * error and leaves the network as it was. */
#include "test_support.h"
#include "test_model_util.h"
#include "test_nets.h"
#include "btsp/btsp_config.h"
#include "btsp/btsp_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One config of each family of rules and top-down variants we ship (all 784 inputs, 10 outputs):
 * every rule kind a shipped config uses (Top_Down_HTC_1 in the DTP learned-TD one,
 * Backprop_DendriticLoss in BP_like 5M). */
static const char *const configs[] = {
    "fmnist/20250619_EIANN_2_hidden_fmnist_BTSP_config_5L_zero_bias_complete_optimized",
    "fmnist/20250619_EIANN_2_hidden_fmnist_BTSP_config_5L_learn_TD_HTCWN_3_zero_bias_complete_optimized",
    "fmnist/20250607_EIANN_2_hidden_fmnist_DTP_config_5J_zero_bias_complete_optimized",
    "fmnist/20250606_EIANN_2_hidden_fmnist_bpDale_relu_SGD_config_G_zero_bias_complete_optimized",
    "mnist/20240723_EIANN_2_hidden_mnist_Supervised_BCM_config_4_complete_optimized",
    "mnist/20241125_EIANN_2_hidden_mnist_Hebb_Temp_Contrast_config_2_complete_optimized",
    "mnist/20241105_EIANN_2_hidden_mnist_Top_Layer_Supervised_Hebb_WeightNorm_config_7_complete_optimized",
    "mnist/20240516_EIANN_2_hidden_mnist_BP_like_config_2L_complete_optimized",
    "mnist/20231120_EIANN_1_hidden_mnist_van_bp_relu_SGD_config_G_optimized",
    "fmnist/20250619_EIANN_2_hidden_fmnist_DTP_config_5J_learn_TD_HTCWN_2_zero_bias_complete_optimized",
    "mnist/20241113_EIANN_2_hidden_mnist_BP_like_config_5M_complete_optimized", /* Backprop_DendriticLoss */
};
#define N_CONFIGS (sizeof configs / sizeof configs[0])
#define NX 784
#define NY 10
#define N_FIRST 6  /* samples before the checkpoint */
#define N_SECOND 5 /* samples after it */

/* Load a shipped config with a seed; stochastic: make every gate draw (exercises the gates'
 * draw counter, which the image must carry). Not finalized. */
static btsp_net *load_config(const char *rel, uint64_t seed, int stochastic)
{
    char path[1024], err[1024];
    snprintf(path, sizeof path, "%s/configs/eiann/%s.yaml", test_source_dir(), rel);
    btsp_net *net = NULL;
    if (btsp_config_load(path, NULL, &net, err, sizeof err) != BTSP_OK)
        fail_msg("%s: %s", rel, err);
    OK(net, btsp_net_seed(net, seed));
    for (size_t i = 0; stochastic && i < btsp_net_pop_count(net); i++) {
        btsp_gate *g = btsp_pop_gate(btsp_net_pop_at(net, i));
        if (g)
            OK(net, btsp_gate_set(g, BTSP_GATE_STOCHASTIC, 1.0));
    }
    return net;
}

/* N_FIRST + N_SECOND rows of 784 inputs and one-hot targets (malloc'ed). */
static void make_data(float **X, float **Y)
{
    size_t n = N_FIRST + N_SECOND;
    *X = malloc(n * NX * sizeof **X);
    *Y = malloc(n * NY * sizeof **Y);
    assert_non_null(*X);
    assert_non_null(*Y);
    test_fill_data(*X, *Y, n, NX, NY, 17);
}

/* The image of a network (malloc'ed, *n bytes). */
static unsigned char *image_of(btsp_net *net, size_t *n)
{
    *n = btsp_net_state_size(net);
    assert_true(*n > 0);
    unsigned char *buf = malloc(*n);
    assert_non_null(buf);
    size_t written = 0;
    OK(net, btsp_net_save_state(net, buf, *n, &written));
    assert_int_equal(written, *n);
    return buf;
}

/* Two networks have byte-identical images: the same weights, biases, traces, counters, seed and
 * population state. */
static int same_image(btsp_net *a, btsp_net *b)
{
    size_t na, nb;
    unsigned char *ia = image_of(a, &na), *ib = image_of(b, &nb);
    int same = na == nb && memcmp(ia, ib, na) == 0;
    free(ia);
    free(ib);
    return same;
}

/* For each config: A trains N_FIRST + N_SECOND samples without stopping; B trains N_FIRST and is
 * saved; C (built from the same config with another seed, so the seed must come from the image)
 * loads B's image and trains N_SECOND. C must equal A bit for bit, weights and whole image. */
static void test_resume_is_bitwise_continuation(void **state)
{
    (void)state;
    enum { N = N_FIRST + N_SECOND };
    float *X, *Y;
    make_data(&X, &Y);
    for (size_t c = 0; c < N_CONFIGS; c++)
        for (int stochastic = 0; stochastic < 2; stochastic++) {
            btsp_net *a = load_config(configs[c], 66049, stochastic), *b = load_config(configs[c], 66049, stochastic),
                     *cn = load_config(configs[c], 12345, stochastic);
            OK(a, btsp_net_finalize(a));
            OK(b, btsp_net_finalize(b));
            OK(cn, btsp_net_finalize(cn));
            OK(a, btsp_net_train(a, X, Y, N, NX, NY, NULL, N));
            OK(b, btsp_net_train(b, X, Y, N, NX, NY, NULL, N_FIRST));
            size_t n;
            unsigned char *img = image_of(b, &n);
            assert_false(test_nets_equal(b, cn)); /* C starts elsewhere (another seed) */
            OK(cn, btsp_net_load_state(cn, img, n));
            assert_true(test_nets_equal(b, cn));
            assert_int_equal(btsp_net_sample_count(cn), N_FIRST);
            assert_int_equal(btsp_net_get_seed(cn), 66049);
            assert_true(btsp_net_last_loss(cn) == btsp_net_last_loss(b));
            assert_true(same_image(b, cn));
            /* C continues on rows N_FIRST.. of the same data (the order B would have seen) */
            OK(cn, btsp_net_train(cn, X + N_FIRST * NX, Y + N_FIRST * NY, N_SECOND, NX, NY, NULL, N_SECOND));
            if (!test_nets_equal(a, cn) || !same_image(a, cn))
                fail_msg("%s (stochastic %d): resumed training differs from uninterrupted training", configs[c],
                         stochastic);
            assert_int_equal(btsp_net_sample_count(cn), N);
            free(img);
            btsp_net_destroy(a);
            btsp_net_destroy(b);
            btsp_net_destroy(cn);
        }
    free(X);
    free(Y);
}

/* The image carries more than the weights: a network given the image but then the state reset
 * (BTSP traces of the previous sample, sample and gate draw counters cleared; weights kept)
 * trains on differently from the uninterrupted one, with and without stochastic gates. So the
 * equality above is not automatic and the test can fail. */
static void test_weights_alone_are_not_enough(void **state)
{
    (void)state;
    enum { N = N_FIRST + N_SECOND };
    float *X, *Y;
    make_data(&X, &Y);
    for (int stochastic = 0; stochastic < 2; stochastic++) {
        btsp_net *a = load_config(configs[0], 66049, stochastic), *cn = load_config(configs[0], 66049, stochastic);
        OK(a, btsp_net_finalize(a));
        OK(cn, btsp_net_finalize(cn));
        OK(a, btsp_net_train(a, X, Y, N, NX, NY, NULL, N_FIRST));
        size_t n;
        unsigned char *img = image_of(a, &n);
        OK(cn, btsp_net_load_state(cn, img, n));
        OK(cn, btsp_net_reset(cn, BTSP_RESET_STATE));
        assert_true(test_nets_equal(a, cn));
        OK(a, btsp_net_train(a, X + N_FIRST * NX, Y + N_FIRST * NY, N_SECOND, NX, NY, NULL, N_SECOND));
        OK(cn, btsp_net_train(cn, X + N_FIRST * NX, Y + N_FIRST * NY, N_SECOND, NX, NY, NULL, N_SECOND));
        assert_false(test_nets_equal(a, cn));
        free(img);
        btsp_net_destroy(a);
        btsp_net_destroy(cn);
    }
    free(X);
    free(Y);
}

/* Layout of the tiny network's image, by hand (docs in src/state.c and btsp.h):
 * header 56 bytes; payload: seed, samples, gate counter, last loss (4 x 8 = 32); Input.E (5
 * units, no bias, gate or dendrite): u, a, prev, fwd_a, fwd_prev = 5 x 5 floats; Output.E (3
 * units, target gate, no bias): the same 5 arrays plus plateau and nudge = 7 x 3 floats; the
 * projection: a 4-byte flag and 3 x 5 weights; its BTSP rule: 5 past presynaptic rates and 3
 * past plateaus. 56 + 32 + 4 (25 + 21 + 1 + 15 + 8) = 368. */
static void test_tiny_image_layout(void **state)
{
    (void)state;
    tiny_net t;
    OK(t.net, tiny_create(&t, 0x0123456789abcdefull));
    assert_int_equal(btsp_net_state_size(t.net), 368);
    float X[4 * TINY_IN], Y[4 * TINY_OUT];
    test_fill_data(X, Y, 4, TINY_IN, TINY_OUT, 3);
    OK(t.net, btsp_net_train(t.net, X, Y, 4, TINY_IN, TINY_OUT, NULL, 4));
    size_t n;
    unsigned char *img = image_of(t.net, &n);
    assert_memory_equal(img, "BTSPSTAT", 8);
    assert_int_equal(img[8], 1); /* format version 1, little-endian */
    assert_int_equal(img[9] | img[10] | img[11], 0);
    /* the library version that wrote it, little-endian */
    for (int i = 0; i < 4; i++)
        assert_int_equal(img[12 + i], ((uint32_t)BTSP_VERSION_NUMBER >> (8 * i)) & 0xff);
    /* the structure fingerprint, little-endian. The constant pins the format: images must load
     * on other hosts and in later versions, so a change of fingerprint() (what it hashes, in
     * what order, the byte order of its integers) breaks every saved image and must come with a
     * new format version. It depends on the structure only, not on the seed or the training. */
    const uint64_t tiny_fingerprint = 0xae64b7aa68dca028ull;
    for (int i = 0; i < 8; i++)
        assert_int_equal(img[24 + i], (tiny_fingerprint >> (8 * i)) & 0xff);
    assert_int_equal(img[16], 0x38); /* payload bytes: 312 = 0x138 */
    assert_int_equal(img[17], 0x01);
    assert_int_equal(img[32], 2);   /* populations */
    assert_int_equal(img[36], 1);   /* projections */
    assert_int_equal(img[40], 1);   /* rules */
    /* payload: the seed, little-endian, then the sample counter */
    for (int i = 0; i < 8; i++)
        assert_int_equal(img[56 + i], (0x0123456789abcdefull >> (8 * i)) & 0xff);
    assert_int_equal(img[64], 4);
    /* the weights sit after the populations and the flag: 56 + 32 + 4 * (25 + 21) + 4 */
    const float *w = weights(t.w);
    for (size_t k = 0; k < TINY_IN * TINY_OUT; k++) {
        const unsigned char *p = img + 56 + 32 + 4 * 46 + 4 + 4 * k;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float f;
        memcpy(&f, &u, sizeof f);
        assert_true(memcmp(&f, &w[k], sizeof f) == 0);
    }
    free(img);
    btsp_net_destroy(t.net);
}

/* Two tiny networks with different seeds; t trained on 3 samples of X, Y (filled here). */
static void tiny_pair(tiny_net *t, uint64_t seed_t, tiny_net *u, uint64_t seed_u, float *X, float *Y)
{
    OK(t->net, tiny_create(t, seed_t));
    OK(u->net, tiny_create(u, seed_u));
    test_fill_data(X, Y, 3, TINY_IN, TINY_OUT, 5);
    OK(t->net, btsp_net_train(t->net, X, Y, 3, TINY_IN, TINY_OUT, NULL, 3));
}

/* Misuse and damaged images: each refused with its status and a message, nothing changed. */
static void test_refusals_change_nothing(void **state)
{
    (void)state;
    tiny_net t, u;
    float X[3 * TINY_IN], Y[3 * TINY_OUT];
    tiny_pair(&t, 7, &u, 8, X, Y);
    size_t n, nu;
    unsigned char *img = image_of(t.net, &n), *before = image_of(u.net, &nu);
    unsigned char *bad = malloc(n + 1);
    assert_non_null(bad);

    /* NULL and unfinalized networks */
    assert_int_equal(btsp_net_state_size(NULL), 0);
    assert_int_equal(btsp_net_save_state(NULL, bad, n, NULL), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_net_load_state(NULL, img, n), BTSP_E_INVALID_ARG);
    btsp_net *raw = NULL;
    OK(raw, btsp_net_create(&raw));
    tiny_net r;
    OK(raw, tiny_build(raw, &r));
    assert_int_equal(btsp_net_state_size(raw), 0);
    EXPECT_FAIL(raw, btsp_net_save_state(raw, bad, n, NULL), BTSP_E_STATE, "finalize");
    EXPECT_FAIL(raw, btsp_net_load_state(raw, img, n), BTSP_E_STATE, "finalize");
    btsp_net_destroy(raw);

    /* save: NULL buffer, buffer too small (nothing written) */
    size_t written = 99;
    EXPECT_FAIL(u.net, btsp_net_save_state(u.net, NULL, n, &written), BTSP_E_INVALID_ARG, "NULL");
    assert_int_equal(written, 0);
    memset(bad, 0xA5, n + 1);
    EXPECT_FAIL(u.net, btsp_net_save_state(u.net, bad, n - 1, NULL), BTSP_E_SHAPE, "368");
    for (size_t i = 0; i < n + 1; i++)
        assert_int_equal(bad[i], 0xA5);
    /* a larger buffer is fine: the image, its size, and the byte after it untouched */
    OK(u.net, btsp_net_save_state(u.net, bad, n + 1, &written));
    assert_int_equal(written, nu);
    assert_memory_equal(bad, before, nu);
    assert_int_equal(bad[n], 0xA5);

    /* load: each damaged image must fail with the status and a message naming the problem */
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, NULL, n), BTSP_E_INVALID_ARG, "NULL");
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, img, 40), BTSP_E_FORMAT, "shorter than the header");
    memcpy(bad, img, n);
    bad[3] ^= 1;
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, bad, n), BTSP_E_FORMAT, "wrong magic");
    memcpy(bad, img, n);
    bad[8] = 2;
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, bad, n), BTSP_E_UNSUPPORTED, "version 2");
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, img, n - 1), BTSP_E_FORMAT, "truncated");
    memcpy(bad, img, n);
    bad[n] = 0;
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, bad, n + 1), BTSP_E_FORMAT, "after the image");
    /* any single changed byte in the payload or the informational header fields */
    size_t positions[] = {12, 44, 56, 70, 100, 200, n - 1};
    for (size_t k = 0; k < sizeof positions / sizeof positions[0]; k++) {
        memcpy(bad, img, n);
        bad[positions[k]] ^= 0x10;
        EXPECT_FAIL(u.net, btsp_net_load_state(u.net, bad, n), BTSP_E_FORMAT, "damaged");
    }
    memcpy(bad, img, n);
    bad[16] ^= 4; /* payload size field */
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, bad, n), BTSP_E_FORMAT, "damaged");

    /* images of other networks */
    rep_net rp;
    memset(&rp, 0, sizeof rp);
    rp.seed = 3;
    OK(rp.net, rep_build(&rp));
    size_t nr;
    unsigned char *rimg = image_of(rp.net, &nr);
    EXPECT_FAIL(u.net, btsp_net_load_state(u.net, rimg, nr), BTSP_E_SHAPE, "another network");
    EXPECT_FAIL(rp.net, btsp_net_load_state(rp.net, img, n), BTSP_E_SHAPE, "another network");
    /* same counts, one more output unit */
    btsp_net *wide = NULL;
    OK(wide, btsp_net_create(&wide));
    OK(wide, btsp_net_set_backward(wide, BTSP_BACKWARD_SETTLE));
    btsp_layer *l1, *l2;
    btsp_pop *p1, *p2;
    btsp_proj *q;
    btsp_rule *ru;
    OK(wide, btsp_layer_add(wide, "Input", &l1));
    OK(wide, btsp_pop_add(l1, "E", TINY_IN, &p1));
    OK(wide, btsp_layer_add(wide, "Output", &l2));
    OK(wide, btsp_pop_add(l2, "E", TINY_OUT + 1, &p2));
    OK(wide, btsp_proj_add(p1, p2, BTSP_SOMA, &q));
    OK(wide, btsp_rule_create(wide, BTSP_RULE_BTSP, &ru));
    OK(wide, btsp_proj_set_rule(q, ru));
    btsp_gate *g;
    OK(wide, btsp_gate_create(wide, BTSP_GATE_TARGET, &g));
    OK(wide, btsp_gate_attach(g, p2));
    OK(wide, btsp_net_finalize(wide));
    EXPECT_FAIL(wide, btsp_net_load_state(wide, img, n), BTSP_E_SHAPE, "other names, sizes");
    btsp_net_destroy(wide);

    /* after all of this, u is exactly as it was */
    size_t nafter;
    unsigned char *after = image_of(u.net, &nafter);
    assert_int_equal(nafter, nu);
    assert_memory_equal(after, before, nu);
    /* and a good image still loads */
    OK(u.net, btsp_net_load_state(u.net, img, n));
    assert_true(test_nets_equal(t.net, u.net));

    free(after);
    free(rimg);
    free(bad);
    free(before);
    free(img);
    btsp_net_destroy(rp.net);
    btsp_net_destroy(t.net);
    btsp_net_destroy(u.net);
}

/* Weights set by the user and not yet constrained (out of bounds) survive a save and load with
 * their flag: the next constraint pass clamps and clones them in both networks alike. */
static void test_user_set_flag_travels(void **state)
{
    (void)state;
    rep_net a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.seed = b.seed = 11;
    OK(a.net, rep_build(&a));
    OK(b.net, rep_build(&b));
    float w[REP_HE * REP_IN];
    for (size_t i = 0; i < REP_HE * REP_IN; i++)
        w[i] = (float)i * 0.5f - 3.0f; /* far outside the bounds */
    OK(a.net, btsp_proj_set_weights(a.hE_in, w, REP_HE, REP_IN));
    size_t n;
    unsigned char *img = image_of(a.net, &n);
    OK(b.net, btsp_net_load_state(b.net, img, n));
    float X[4 * REP_IN], Y[4 * REP_OUT];
    test_fill_data(X, Y, 4, REP_IN, REP_OUT, 9);
    OK(a.net, btsp_net_train(a.net, X, Y, 4, REP_IN, REP_OUT, NULL, 4));
    OK(b.net, btsp_net_train(b.net, X, Y, 4, REP_IN, REP_OUT, NULL, 4));
    assert_true(same_image(a.net, b.net));
    free(img);
    btsp_net_destroy(a.net);
    btsp_net_destroy(b.net);
}

/* Files: a round trip through btsp_io_save_state / btsp_io_load_state, atomic replacement, and
 * clear errors for missing, wrong and damaged files. */
static void test_state_files(void **state)
{
    tiny_net t, u;
    float X[3 * TINY_IN], Y[3 * TINY_OUT];
    tiny_pair(&t, 21, &u, 22, X, Y);
    char path[1024], tmp[1100], err[512];
    test_tmpdir_file(state, "net.btsp", path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);

    assert_int_equal(btsp_io_save_state(t.net, path, err, sizeof err), BTSP_OK);
    assert_false(test_path_exists(tmp));
    /* replacing an existing file */
    OK(t.net, btsp_net_train(t.net, X, Y, 3, TINY_IN, TINY_OUT, NULL, 1));
    assert_int_equal(btsp_io_save_state(t.net, path, err, sizeof err), BTSP_OK);
    assert_false(test_path_exists(tmp));
    assert_int_equal(btsp_io_load_state(u.net, path, err, sizeof err), BTSP_OK);
    assert_true(same_image(t.net, u.net));
    assert_int_equal(btsp_net_sample_count(u.net), 4);

    size_t nu;
    unsigned char *before = image_of(u.net, &nu);
    /* missing file, a directory, a wrong file, a damaged file, a file far too large */
    char missing[1024];
    test_tmpdir_file(state, "none.btsp", missing, sizeof missing);
    assert_int_equal(btsp_io_load_state(u.net, missing, err, sizeof err), BTSP_E_NOT_FOUND);
    assert_non_null(strstr(err, "none.btsp"));
    assert_int_equal(btsp_io_load_state(u.net, test_tmpdir_path(state), err, sizeof err), BTSP_E_IO);
    assert_non_null(strstr(err, "not a regular file"));
    char other[1024];
    test_tmpdir_file(state, "other.npy", other, sizeof other);
    size_t shape[1] = {4};
    float v[4] = {1, 2, 3, 4};
    assert_int_equal(btsp_npy_write_f32(other, v, 1, shape, err, sizeof err), BTSP_OK);
    assert_int_equal(btsp_io_load_state(u.net, other, err, sizeof err), BTSP_E_FORMAT);
    assert_non_null(strstr(err, "other.npy"));
    assert_non_null(strstr(err, "not a libbtsp state image"));
    size_t n;
    unsigned char *img = image_of(t.net, &n);
    img[100] ^= 1;
    FILE *f = fopen(other, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, n, f), n);
    fclose(f);
    assert_int_equal(btsp_io_load_state(u.net, other, err, sizeof err), BTSP_E_FORMAT);
    assert_non_null(strstr(err, "checksum"));
    f = fopen(other, "wb");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)(n + (1 << 20) + 1) - 1, SEEK_SET), 0);
    fputc(0, f);
    fclose(f);
    assert_int_equal(btsp_io_load_state(u.net, other, err, sizeof err), BTSP_E_FORMAT);
    assert_non_null(strstr(err, "an image of this network has 368"));
    size_t nafter;
    unsigned char *after = image_of(u.net, &nafter);
    assert_memory_equal(after, before, nu);

    /* unwritable place: an error naming it, no temporary file left */
    char nodir[1200];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir/x.btsp", test_tmpdir_path(state));
    assert_int_equal(btsp_io_save_state(t.net, nodir, err, sizeof err), BTSP_E_IO);
    assert_non_null(strstr(err, "x.btsp.tmp"));
    /* misuse */
    assert_int_equal(btsp_io_save_state(NULL, path, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_io_save_state(t.net, NULL, err, sizeof err), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_io_load_state(u.net, NULL, NULL, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_io_load_state(NULL, path, err, sizeof err), BTSP_E_INVALID_ARG);
    btsp_net *raw = NULL;
    OK(raw, btsp_net_create(&raw));
    assert_int_equal(btsp_io_save_state(raw, path, err, sizeof err), BTSP_E_STATE);
    assert_int_equal(btsp_io_load_state(raw, path, err, sizeof err), BTSP_E_STATE);
    btsp_net_destroy(raw);
    /* a success after a failure leaves no stale message (btsp_io.h: err is "" on success) */
    assert_true(err[0] != '\0');
    assert_int_equal(btsp_io_save_state(t.net, path, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");
    assert_int_equal(btsp_io_load_state(u.net, missing, err, sizeof err), BTSP_E_NOT_FOUND);
    assert_int_equal(btsp_io_load_state(u.net, path, err, sizeof err), BTSP_OK);
    assert_string_equal(err, "");

    free(after);
    free(img);
    free(before);
    btsp_net_destroy(t.net);
    btsp_net_destroy(u.net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_image_layout),
        cmocka_unit_test(test_refusals_change_nothing),
        cmocka_unit_test(test_user_set_flag_travels),
        cmocka_unit_test(test_weights_alone_are_not_enough),
        cmocka_unit_test(test_resume_is_bitwise_continuation),
        cmocka_unit_test_setup_teardown(test_state_files, test_tmpdir_setup, test_tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
