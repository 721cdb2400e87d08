/* Receptive fields (btsp_proj_set_receptive_fields(), EIANN's receptive_field_mask): the masking
 * kernel against an explicit mask, API misuse, the draws (range, coverage, seed, EIANN's own draws
 * for the shipped maskRF config), the Kaiming fan-in, masks and row norms kept through training
 * (Backprop and BTSP), and the corners in state images. */
#include "test_support.h"
#include "test_nets.h"

#include "btsp/btsp_config.h"
#include "btsp/btsp_kernels.h"

#include "../src/state_format.h" /* the image checksum, to reach the corner check behind it */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MASK_RF_CONFIG                                                                                            \
    BTSP_SOURCE_DIR "/configs/eiann/mnist/20231129_EIANN_2_hidden_mnist_bpDale_relu_SGD_config_G_complete_"   \
                    "optimized_maskRF.yaml"

static uint32_t f2u(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* ----------------------------------------------------------------------------------------- */
/* Kernel                                                                                    */

/* Every element against a mask built independently from the flat index: inside the patch the
 * bits are unchanged, outside the value is w * 0.0f (signed zero; NaN from inf or NaN). */
static void test_kernel_against_explicit_mask(void **state)
{
    (void)state;
    enum { C = 2, H = 5, Wd = 6, N = C * H * Wd, ROWS = 4, LD = N + 3, SIDE = 3 };
    const uint32_t corner[2 * ROWS] = {0, 0, 2, 3, 1, 2, 2, 0};
    float W[ROWS * LD], orig[ROWS * LD];
    for (size_t i = 0; i < ROWS * LD; i++)
        orig[i] = (float)((int)(i * 7919 % 23) - 11) / 8.0f; /* both signs and zeros */
    orig[0 * LD + 5] = INFINITY;    /* outside row 0's patch */
    orig[1 * LD + 0] = NAN;         /* outside row 1's patch */
    orig[1 * LD + 2 * Wd + 3] = -INFINITY; /* inside row 1's patch (row 2, column 3) */
    memcpy(W, orig, sizeof W);
    btsp_k_rf_mask(ROWS, W, LD, corner, SIDE, C, H, Wd);
    for (size_t r = 0; r < ROWS; r++) {
        for (size_t j = 0; j < LD; j++) {
            float w = W[r * LD + j], o = orig[r * LD + j];
            if (j >= N) { /* padding beyond the row is never touched */
                assert_int_equal(f2u(w), f2u(o));
                continue;
            }
            size_t y = (j % (H * Wd)) / Wd, x = j % Wd;
            int inside = y >= corner[2 * r] && y < corner[2 * r] + SIDE && x >= corner[2 * r + 1] &&
                         x < corner[2 * r + 1] + SIDE;
            if (inside)
                assert_int_equal(f2u(w), f2u(o));
            else if (isfinite(o))
                assert_int_equal(f2u(w), f2u(o * 0.0f)); /* +0 or -0 as the sign of o */
            else
                assert_true(isnan(w));
        }
    }
    /* a negative weight outside becomes -0.0, as EIANN's W * mask */
    float neg[4] = {-1.0f, 2.0f, -3.0f, 4.0f};
    const uint32_t c0[2] = {0, 1};
    btsp_k_rf_mask(1, neg, 4, c0, 1, 1, 2, 2); /* 2 x 2 image, keeps pixel (0, 1) only */
    assert_true(neg[0] == 0.0f && signbit(neg[0]));
    assert_true(neg[1] == 2.0f);
    assert_true(neg[2] == 0.0f && signbit(neg[2]));
    assert_true(neg[3] == 0.0f && !signbit(neg[3]));
    /* side = the whole image: nothing changes */
    float all[4] = {-1.0f, 2.0f, -3.0f, 4.0f};
    const uint32_t z[2] = {0, 0};
    btsp_k_rf_mask(1, all, 4, z, 2, 1, 2, 2);
    assert_true(all[0] == -1.0f && all[1] == 2.0f && all[2] == -3.0f && all[3] == 4.0f);
}

/* ----------------------------------------------------------------------------------------- */
/* Networks                                                                                  */

/* Input.E (ch x h x w) -> H.E (n_hidden, relu) with the projection `*p` (init, bounds (0, inf))
 * -> Output.E (2). */
static btsp_net *rf_net(size_t ch, size_t h, size_t w, size_t n_hidden, btsp_proj **p, btsp_pop **hid)
{
    btsp_net *net = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    btsp_layer *l0, *l1, *l2;
    btsp_pop *in, *hp, *out;
    btsp_proj *ho;
    EXPECT_OK(net, btsp_layer_add(net, "Input", &l0));
    EXPECT_OK(net, btsp_pop_add(l0, "E", ch * h * w, &in));
    EXPECT_OK(net, btsp_layer_add(net, "H", &l1));
    EXPECT_OK(net, btsp_pop_add(l1, "E", n_hidden, &hp));
    EXPECT_OK(net, btsp_pop_set_activation(hp, BTSP_ACT_RELU, 0, 0));
    EXPECT_OK(net, btsp_layer_add(net, "Output", &l2));
    EXPECT_OK(net, btsp_pop_add(l2, "E", 2, &out));
    EXPECT_OK(net, btsp_proj_add(in, hp, BTSP_SOMA, p));
    EXPECT_OK(net, btsp_proj_set_bounds(*p, 0.0, INFINITY));
    EXPECT_OK(net, btsp_proj_add(hp, out, BTSP_SOMA, &ho));
    if (hid)
        *hid = hp;
    return net;
}

static void test_api_misuse(void **state)
{
    (void)state;
    btsp_proj *p;
    btsp_net *net = rf_net(1, 4, 4, 3, &p, NULL);
    size_t r = 7, c = 7, side = 7;
    double ns = 7;
    assert_int_equal(btsp_proj_set_receptive_fields(NULL, 2, 1, 4, 4, 0), BTSP_E_INVALID_ARG);
    assert_int_equal(btsp_proj_receptive_field(NULL, 0, &r, &c), BTSP_E_INVALID_ARG);
    assert_true(r == 0 && c == 0);
    assert_int_equal(btsp_proj_get_receptive_fields(NULL, &side, NULL, NULL, NULL, &ns), BTSP_E_INVALID_ARG);
    assert_true(side == 0 && ns == 0.0);
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 2, 1, 4, 5, 0), BTSP_E_SHAPE, "does not match the 16");
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 2, 2, 4, 4, 0), BTSP_E_SHAPE, "HE_InputE");
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 2, 0, 4, 4, 0), BTSP_E_SHAPE, "0 x 4 x 4");
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 1, 1, 16, 0, 0), BTSP_E_SHAPE, NULL);
    /* products that wrap around size_t must not pass for 16 */
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 1, SIZE_MAX / 2 + 1, 2, 16, 0), BTSP_E_SHAPE, NULL);
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 1, 1, (SIZE_MAX >> 4) + 1, 16, 0), BTSP_E_SHAPE, NULL);
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 0, 1, 4, 4, 0), BTSP_E_RANGE, "side 0");
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 5, 1, 4, 4, 0), BTSP_E_RANGE, "side 5");
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 3, 1, 2, 8, 0), BTSP_E_RANGE, "2 x 8");
    const double bad[] = {-1.0, NAN, INFINITY, -INFINITY, 1e39};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 2, 1, 4, 4, bad[i]), BTSP_E_RANGE, "norm_scale");
    EXPECT_FAIL(net, btsp_proj_get_receptive_fields(p, &side, NULL, NULL, NULL, NULL), BTSP_E_STATE,
                "no receptive fields");
    EXPECT_OK(net, btsp_proj_set_receptive_fields(p, 2, 1, 4, 4, 1.5));
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 2, 1, 4, 4, 0), BTSP_E_EXISTS, "already has a constraint");
    EXPECT_FAIL(net, btsp_proj_set_normalize(p, 1.0, 0), BTSP_E_EXISTS, "already has a constraint");
    size_t ch = 0, h = 0, w = 0;
    EXPECT_OK(net, btsp_proj_get_receptive_fields(p, &side, &ch, &h, &w, &ns));
    assert_true(side == 2 && ch == 1 && h == 4 && w == 4 && ns == 1.5);
    EXPECT_OK(net, btsp_proj_get_receptive_fields(p, NULL, NULL, NULL, NULL, NULL));
    EXPECT_FAIL(net, btsp_proj_receptive_field(p, 0, &r, &c), BTSP_E_STATE, "finalize first");
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_FAIL(net, btsp_proj_set_receptive_fields(p, 2, 1, 4, 4, 0), BTSP_E_STATE, NULL);
    EXPECT_FAIL(net, btsp_proj_receptive_field(p, 3, &r, &c), BTSP_E_RANGE, "unit 3 of 3");
    assert_true(r == 0 && c == 0);
    EXPECT_FAIL(net, btsp_proj_receptive_field(p, 0, NULL, &c), BTSP_E_INVALID_ARG, "NULL output");
    btsp_proj *other = btsp_net_proj_at(net, 1);
    EXPECT_FAIL(net, btsp_proj_receptive_field(other, 0, &r, &c), BTSP_E_STATE, "no receptive fields");
    EXPECT_OK(net, btsp_proj_receptive_field(p, 2, &r, &c));
    assert_true(r <= 2 && c <= 2);
    btsp_net_destroy(net);
}

/* Corners of all units of p. */
static void corners(const btsp_net *net, const btsp_proj *p, size_t n, size_t *rc)
{
    for (size_t u = 0; u < n; u++)
        EXPECT_OK(net, btsp_proj_receptive_field(p, u, &rc[2 * u], &rc[2 * u + 1]));
}

/* Counter-based draws: inside the patch the weights are those of the same network without the
 * constraint (uniform init does not depend on the fan-in), outside they are zero; the corners
 * cover every position, repeat for the seed and change with it; btsp_net_reset redraws them. */
static void test_counter_draws(void **state)
{
    (void)state;
    enum { CH = 2, H = 6, Wd = 7, N = CH * H * Wd, U = 300, SIDE = 3 };
    btsp_proj *p, *q;
    btsp_net *a = rf_net(CH, H, Wd, U, &p, NULL), *plain = rf_net(CH, H, Wd, U, &q, NULL);
    EXPECT_OK(a, btsp_proj_set_init(p, BTSP_INIT_UNIFORM, 0.5, 1.0));
    EXPECT_OK(plain, btsp_proj_set_init(q, BTSP_INIT_UNIFORM, 0.5, 1.0));
    EXPECT_OK(a, btsp_proj_set_receptive_fields(p, SIDE, CH, H, Wd, 0.0));
    EXPECT_OK(a, btsp_net_seed(a, 17));
    EXPECT_OK(plain, btsp_net_seed(plain, 17));
    EXPECT_OK(a, btsp_net_finalize(a));
    EXPECT_OK(plain, btsp_net_finalize(plain));
    const float *wa, *wp;
    size_t r, c;
    EXPECT_OK(a, btsp_proj_weights(p, &wa, &r, &c));
    EXPECT_OK(plain, btsp_proj_weights(q, &wp, &r, &c));
    size_t *rc = malloc(2 * U * sizeof *rc), *rc2 = malloc(2 * U * sizeof *rc2);
    assert_non_null(rc);
    assert_non_null(rc2);
    corners(a, p, U, rc);
    int seen_r[H - SIDE + 1] = {0}, seen_c[Wd - SIDE + 1] = {0};
    for (size_t u = 0; u < U; u++) {
        assert_true(rc[2 * u] <= H - SIDE && rc[2 * u + 1] <= Wd - SIDE);
        seen_r[rc[2 * u]]++;
        seen_c[rc[2 * u + 1]]++;
        size_t kept = 0;
        for (size_t j = 0; j < N; j++) {
            size_t y = (j % (H * Wd)) / Wd, x = j % Wd;
            int inside = y >= rc[2 * u] && y < rc[2 * u] + SIDE && x >= rc[2 * u + 1] && x < rc[2 * u + 1] + SIDE;
            assert_true(wa[u * N + j] == (inside ? wp[u * N + j] : 0.0f));
            kept += inside;
        }
        assert_int_equal(kept, CH * SIDE * SIDE);
    }
    /* 300 draws over 4 rows and 5 columns: each position is expected 75 / 60 times */
    for (size_t i = 0; i < H - SIDE + 1; i++)
        assert_true(seen_r[i] > 40);
    for (size_t i = 0; i < Wd - SIDE + 1; i++)
        assert_true(seen_c[i] > 30);
    /* the same seed: the same corners; another seed: others, also after btsp_net_reset */
    btsp_proj *p2;
    btsp_net *b = rf_net(CH, H, Wd, U, &p2, NULL);
    EXPECT_OK(b, btsp_proj_set_receptive_fields(p2, SIDE, CH, H, Wd, 0.0));
    EXPECT_OK(b, btsp_net_seed(b, 17));
    EXPECT_OK(b, btsp_net_finalize(b));
    corners(b, p2, U, rc2);
    assert_memory_equal(rc, rc2, 2 * U * sizeof *rc);
    EXPECT_OK(b, btsp_net_seed(b, 18));
    EXPECT_OK(b, btsp_net_reset(b, BTSP_RESET_WEIGHTS));
    corners(b, p2, U, rc2);
    size_t same = 0;
    for (size_t u = 0; u < U; u++)
        same += rc[2 * u] == rc2[2 * u] && rc[2 * u + 1] == rc2[2 * u + 1];
    assert_true(same < U / 5); /* 1 in 20 positions agree by chance */
    EXPECT_OK(a, btsp_net_seed(a, 18));
    EXPECT_OK(a, btsp_net_reset(a, BTSP_RESET_WEIGHTS));
    corners(a, p, U, rc);
    assert_memory_equal(rc, rc2, 2 * U * sizeof *rc);
    free(rc);
    free(rc2);
    btsp_net_destroy(a);
    btsp_net_destroy(b);
    btsp_net_destroy(plain);
}

/* Kaiming schemes see the receptive field's fan-in, side^2 x channels (EIANN), for the weights
 * and in the population's bias fan-in; uniform draws in [0, a / sqrt(fan_in)). */
static void kaiming_fan_in(int torch)
{
    enum { CH = 2, H = 6, Wd = 7, U = 200, SIDE = 3 };
    btsp_proj *p;
    btsp_pop *hid;
    btsp_net *net = rf_net(CH, H, Wd, U, &p, &hid);
    if (torch)
        EXPECT_OK(net, btsp_net_set(net, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH));
    EXPECT_OK(net, btsp_proj_set_init(p, BTSP_INIT_HALF_KAIMING, 1.0, 0.0));
    EXPECT_OK(net, btsp_proj_set_receptive_fields(p, SIDE, CH, H, Wd, 0.0));
    EXPECT_OK(net, btsp_pop_set(hid, BTSP_POP_INCLUDE_BIAS, 1.0));
    EXPECT_OK(net, btsp_pop_set_bias_init(hid, BTSP_INIT_SCALED_KAIMING, 1.0, 0.0));
    EXPECT_OK(net, btsp_net_finalize(net));
    const float *w;
    size_t r, c;
    EXPECT_OK(net, btsp_proj_weights(p, &w, &r, &c));
    const double k_rf = 1.0 / sqrt((double)(SIDE * SIDE * CH)), k_all = 1.0 / sqrt((double)(CH * H * Wd));
    float mx = 0.0f;
    for (size_t i = 0; i < r * c; i++) {
        assert_true(w[i] >= 0.0f && w[i] < k_rf);
        if (w[i] > mx)
            mx = w[i];
    }
    assert_true(mx > 0.95 * k_rf && mx > k_all); /* 3,600 draws: the top 5 % is reached */
    const float *b;
    size_t n;
    EXPECT_OK(net, btsp_pop_state(hid, BTSP_VAR_BIAS, &b, &n));
    float bmx = 0.0f;
    for (size_t i = 0; i < n; i++) {
        assert_true(fabsf(b[i]) <= k_rf);
        if (fabsf(b[i]) > bmx)
            bmx = fabsf(b[i]);
    }
    assert_true(bmx > k_all); /* the bias fan-in is the receptive field's too */
    btsp_net_destroy(net);

    /* the default initialisation (EIANN: no weight_init) keeps the presynaptic size: uniform in
     * +-1 / sqrt(84), where the patch's fan-in would reach +-1 / sqrt(18) */
    net = rf_net(CH, H, Wd, U, &p, NULL);
    if (torch)
        EXPECT_OK(net, btsp_net_set(net, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH));
    EXPECT_OK(net, btsp_proj_set_bounds(p, -INFINITY, INFINITY));
    EXPECT_OK(net, btsp_proj_set_receptive_fields(p, SIDE, CH, H, Wd, 0.0));
    EXPECT_OK(net, btsp_net_finalize(net));
    EXPECT_OK(net, btsp_proj_weights(p, &w, &r, &c));
    mx = 0.0f;
    for (size_t i = 0; i < r * c; i++)
        if (fabsf(w[i]) > mx)
            mx = fabsf(w[i]);
    assert_true(mx <= k_all && mx > 0.9 * k_all);
    btsp_net_destroy(net);
}

static void test_kaiming_fan_in(void **state)
{
    (void)state;
    kaiming_fan_in(0);
    kaiming_fan_in(1); /* EIANN's draws: the same fan-ins */
}

/* EIANN's draws: the shipped maskRF config with --rng torch and seed 66049 gives EIANN's own
 * receptive fields. The reference corners were read off EIANN's initial weights for that seed
 * (scripts/eiann_compare/compare.py init 66049 with this config: the non-zero 9 x 9 square of
 * every H1E_InputE row); EIANN's whole initial network equals libbtsp's bit for bit. */
static void test_torch_draws_are_eianns(void **state)
{
    (void)state;
    static const size_t ref[][3] = {{0, 13, 4}, {1, 0, 7}, {2, 7, 11}, {3, 18, 0}, {4, 6, 11}, {5, 5, 15}, {499, 6, 9}};
    btsp_net *net = NULL;
    char err[512];
    btsp_status st = btsp_config_load(MASK_RF_CONFIG, NULL, &net, err, sizeof err);
    if (st != BTSP_OK)
        fail_msg("%s", err);
    EXPECT_OK(net, btsp_net_set(net, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH));
    EXPECT_OK(net, btsp_net_seed(net, 66049));
    EXPECT_OK(net, btsp_net_finalize(net));
    btsp_proj *p;
    EXPECT_OK(net, btsp_net_find_proj(net, "H1E_InputE", &p));
    size_t side, ch, h, w;
    double ns;
    EXPECT_OK(net, btsp_proj_get_receptive_fields(p, &side, &ch, &h, &w, &ns));
    assert_true(side == 9 && ch == 1 && h == 28 && w == 28 && ns == 9.6);
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        size_t r, c;
        EXPECT_OK(net, btsp_proj_receptive_field(p, ref[i][0], &r, &c));
        if (r != ref[i][1] || c != ref[i][2])
            fail_msg("unit %zu: (%zu, %zu), EIANN (%zu, %zu)", ref[i][0], r, c, ref[i][1], ref[i][2]);
    }
    /* and EIANN's first weight of unit 0 (pixel 368 = row 13, column 4), after the
     * normalisation to 9.6 */
    const float *W;
    size_t rows, cols;
    EXPECT_OK(net, btsp_proj_weights(p, &W, &rows, &cols));
    assert_true(W[368] == 0.16305744647979736f && W[367] == 0.0f);
    btsp_net_destroy(net);
}

/* The mask and the row norm hold after every step of Backprop (the shipped config, on random
 * inputs) and of BTSP (the tiny network, a single-pixel field per unit). */
static void check_masked(const btsp_net *net, const btsp_proj *p, double norm)
{
    size_t side, ch, h, w, rows, cols;
    const float *W;
    EXPECT_OK(net, btsp_proj_get_receptive_fields(p, &side, &ch, &h, &w, NULL));
    EXPECT_OK(net, btsp_proj_weights(p, &W, &rows, &cols));
    for (size_t u = 0; u < rows; u++) {
        size_t r0, c0;
        EXPECT_OK(net, btsp_proj_receptive_field(p, u, &r0, &c0));
        double s = 0.0;
        for (size_t j = 0; j < cols; j++) {
            size_t y = (j % (h * w)) / w, x = j % w;
            if (y < r0 || y >= r0 + side || x < c0 || x >= c0 + side)
                assert_true(W[u * cols + j] == 0.0f);
            s += fabs(W[u * cols + j]);
        }
        if (norm > 0.0)
            assert_true(s == 0.0 || fabs(s - norm) < 1e-5 * norm);
    }
}

static void test_training_keeps_fields(void **state)
{
    (void)state;
    btsp_net *net = NULL;
    char err[512];
    btsp_status st = btsp_config_load(MASK_RF_CONFIG, NULL, &net, err, sizeof err);
    if (st != BTSP_OK)
        fail_msg("%s", err);
    EXPECT_OK(net, btsp_net_finalize(net));
    btsp_proj *p;
    EXPECT_OK(net, btsp_net_find_proj(net, "H1E_InputE", &p));
    check_masked(net, p, 9.6);
    enum { S = 4, NX = 784, NY = 10 };
    float *X = malloc(S * NX * sizeof *X), Y[S * NY];
    assert_non_null(X);
    test_fill_data(X, Y, S, NX, NY, 5);
    const float *W;
    size_t rows, cols;
    EXPECT_OK(net, btsp_proj_weights(p, &W, &rows, &cols));
    float *before = malloc(rows * cols * sizeof *before);
    assert_non_null(before);
    for (size_t s = 0; s < S; s++) {
        memcpy(before, W, rows * cols * sizeof *W);
        EXPECT_OK(net, btsp_net_train_sample(net, X + s * NX, NX, Y + s * NY, NY));
        check_masked(net, p, 9.6);
        assert_memory_not_equal(before, W, rows * cols * sizeof *W); /* it did learn */
    }
    free(before);
    free(X);
    btsp_net_destroy(net);

    /* BTSP: the tiny network's 5 inputs as a 1 x 1 x 5 image, one pixel per unit */
    net = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    tiny_net t;
    EXPECT_OK(net, tiny_build(net, &t));
    EXPECT_OK(net, btsp_proj_set_receptive_fields(t.w, 1, 1, 1, TINY_IN, 0.0));
    EXPECT_OK(net, btsp_net_finalize(net));
    float x[TINY_IN] = {1, 1, 1, 1, 1}, y[TINY_OUT] = {0, 1, 0};
    float w0[TINY_OUT * TINY_IN];
    EXPECT_OK(net, btsp_proj_copy_weights(t.w, w0, TINY_OUT, TINY_IN));
    for (int s = 0; s < 5; s++) {
        EXPECT_OK(net, btsp_net_train_sample(net, x, TINY_IN, y, TINY_OUT));
        check_masked(net, t.w, 0.0);
    }
    EXPECT_OK(net, btsp_proj_weights(t.w, &W, &rows, &cols));
    assert_memory_not_equal(w0, W, sizeof w0);
    btsp_net_destroy(net);
}

/* A recurrent projection with receptive fields and normalisation: the diagonal is zeroed before
 * the rows are rescaled (EIANN's normalize_weight without autapses), also after training. */
static void test_recurrent_diagonal(void **state)
{
    (void)state;
    btsp_net *net = NULL;
    assert_int_equal(btsp_net_create(&net), BTSP_OK);
    btsp_layer *l0, *l1;
    btsp_pop *in, *h;
    btsp_proj *hin, *hh;
    EXPECT_OK(net, btsp_layer_add(net, "Input", &l0));
    EXPECT_OK(net, btsp_pop_add(l0, "E", 3, &in));
    EXPECT_OK(net, btsp_layer_add(net, "H", &l1));
    EXPECT_OK(net, btsp_pop_add(l1, "E", 16, &h));
    EXPECT_OK(net, btsp_proj_add(in, h, BTSP_SOMA, &hin));
    EXPECT_OK(net, btsp_proj_add(h, h, BTSP_SOMA, &hh));
    EXPECT_OK(net, btsp_proj_set_direction(hh, BTSP_DIR_RECURRENT));
    EXPECT_OK(net, btsp_proj_set_bounds(hh, 0.0, INFINITY));
    EXPECT_OK(net, btsp_proj_set_init(hh, BTSP_INIT_UNIFORM, 0.5, 1.0));
    /* 4 x 4 image of H itself, 3 x 3 patches: many contain their own unit's pixel */
    EXPECT_OK(net, btsp_proj_set_receptive_fields(hh, 3, 1, 4, 4, 2.0));
    EXPECT_OK(net, btsp_net_finalize(net));
    const float *w;
    size_t r, c, inside_diag = 0;
    EXPECT_OK(net, btsp_proj_weights(hh, &w, &r, &c));
    for (size_t u = 0; u < r; u++) {
        size_t r0, c0;
        EXPECT_OK(net, btsp_proj_receptive_field(hh, u, &r0, &c0));
        inside_diag += u / 4 >= r0 && u / 4 < r0 + 3 && u % 4 >= c0 && u % 4 < c0 + 3;
        assert_true(w[u * c + u] == 0.0f);
    }
    assert_true(inside_diag > 0); /* the check above could fail */
    check_masked(net, hh, 2.0);
    btsp_net_destroy(net);
}

/* Train rn on `samples` synthetic samples; after every step the fields and row norms of p hold
 * and `clone` is exactly scale * p's weights transposed. Asserts that the rule changed p. */
static void train_checking_clone(rep_net *rn, const btsp_proj *p, const btsp_proj *clone, float scale, double norm,
                                 size_t samples, uint32_t salt)
{
    float *X = malloc(samples * REP_IN * sizeof *X), *Y = malloc(samples * REP_OUT * sizeof *Y);
    assert_true(X && Y);
    test_fill_data(X, Y, samples, REP_IN, REP_OUT, salt);
    const float *w, *cl;
    size_t r, c, cr, cc;
    EXPECT_OK(rn->net, btsp_proj_weights(p, &w, &r, &c));
    EXPECT_OK(rn->net, btsp_proj_weights(clone, &cl, &cr, &cc));
    float *w0 = malloc(r * c * sizeof *w0);
    assert_non_null(w0);
    memcpy(w0, w, r * c * sizeof *w0);
    for (size_t s = 0; s < samples; s++) {
        EXPECT_OK(rn->net, btsp_net_train_sample(rn->net, X + s * REP_IN, REP_IN, Y + s * REP_OUT, REP_OUT));
        check_masked(rn->net, p, norm);
        for (size_t i = 0; i < r; i++)
            for (size_t j = 0; j < c; j++)
                if (cl[j * cc + i] != scale * w[i * c + j])
                    fail_msg("sample %zu: clone[%zu][%zu] = %.9g, W[%zu][%zu] = %.9g", s, j, i, (double)cl[j * cc + i],
                             i, j, (double)w[i * c + j]);
    }
    assert_memory_not_equal(w0, w, r * c * sizeof *w0); /* BTSP did change it */
    free(w0);
    free(X);
    free(Y);
}

/* BTSP with receptive fields and normalisation, and a clone of that projection: after every step
 * the fields and row norms hold and the clone is exactly 0.75 W^T (every row was renormalised,
 * so the clone must be re-derived everywhere, not only where the rule wrote; here the output's
 * rule writes most rows, so that point is tested by test_btsp_partial_rows_clone below). */
static void test_btsp_norm_and_clone(void **state)
{
    (void)state;
    rep_net rn;
    memset(&rn, 0, sizeof rn);
    rn.seed = 3;
    for (size_t i = 0; i + 1 < rep_n_steps(); i++) {
        EXPECT_OK(rn.net, rep_step(&rn, i));
        if (i == 30) /* H1.E (6) -> Output.E, H1.E read as a 2 x 3 image */
            EXPECT_OK(rn.net, btsp_proj_set_receptive_fields(rn.out_hE, 2, 1, 2, 3, 1.5));
    }
    EXPECT_OK(rn.net, rep_step(&rn, rep_n_steps() - 1));
    train_checking_clone(&rn, rn.out_hE, rn.hEd_out, 0.75f, 1.5, 12, 11);
    btsp_net_destroy(rn.net);
}

/* The same with a rule that writes only some rows: H1.E's dendritic gate lets at most a third of
 * its units plateau per sample, so BTSP rewrites few rows of Input -> H1.E, while the
 * normalisation rescales them all; a transposed clone of the projection (onto a probe population)
 * must follow every row, not only the written ones. */
static void test_btsp_partial_rows_clone(void **state)
{
    (void)state;
    rep_net rn;
    memset(&rn, 0, sizeof rn);
    rn.seed = 5;
    btsp_pop *probe;
    btsp_proj *cl;
    for (size_t i = 0; i + 1 < rep_n_steps(); i++)
        EXPECT_OK(rn.net, rep_step(&rn, i));
    EXPECT_OK(rn.net, btsp_proj_set_receptive_fields(rn.hE_in, 2, 1, 2, 4, 1.5)); /* Input as 2 x 4 */
    EXPECT_OK(rn.net, btsp_pop_add(rn.lout, "Probe", REP_IN, &probe));
    EXPECT_OK(rn.net, btsp_proj_add(rn.hE, probe, BTSP_SOMA, &cl));
    EXPECT_OK(rn.net, btsp_proj_set_clone(cl, rn.hE_in, 1.0, 1));
    EXPECT_OK(rn.net, rep_step(&rn, rep_n_steps() - 1));
    train_checking_clone(&rn, rn.hE_in, cl, 1.0f, 1.5, 60, 13);
    btsp_net_destroy(rn.net);
}

/* Rewrite the checksum of an image of n bytes after an edit of its payload, so that only the
 * checks behind the checksum can refuse it. */
static void reseal(unsigned char *img, size_t n)
{
    uint64_t h = btsp__fnv1a64(BTSP__FNV_OFFSET, img, BTSP__STATE_CHECKSUM_AT);
    h = btsp__fnv1a64(h, img + BTSP__STATE_HEADER_BYTES, n - BTSP__STATE_HEADER_BYTES);
    for (int i = 0; i < 8; i++)
        img[BTSP__STATE_CHECKSUM_AT + i] = (unsigned char)(h >> (8 * i));
}

/* State images carry the corners: a network with other corners (another seed) loads them; a
 * corner outside its image (checksum made valid), by its row or by its column, is refused and
 * changes nothing. */
static void test_state_images(void **state)
{
    (void)state;
    enum { CH = 1, H = 5, Wd = 5, U = 40, SIDE = 2 };
    btsp_proj *p, *q;
    btsp_net *a = rf_net(CH, H, Wd, U, &p, NULL), *b = rf_net(CH, H, Wd, U, &q, NULL);
    EXPECT_OK(a, btsp_proj_set_receptive_fields(p, SIDE, CH, H, Wd, 1.0));
    EXPECT_OK(b, btsp_proj_set_receptive_fields(q, SIDE, CH, H, Wd, 1.0));
    EXPECT_OK(a, btsp_net_seed(a, 1));
    EXPECT_OK(b, btsp_net_seed(b, 2));
    EXPECT_OK(a, btsp_net_finalize(a));
    EXPECT_OK(b, btsp_net_finalize(b));
    size_t rca[2 * U], rcb[2 * U];
    corners(a, p, U, rca);
    corners(b, q, U, rcb);
    assert_memory_not_equal(rca, rcb, sizeof rca);
    size_t n = btsp_net_state_size(a), wr;
    unsigned char *img = malloc(n);
    assert_non_null(img);
    EXPECT_OK(a, btsp_net_save_state(a, img, n, &wr));
    assert_int_equal(wr, n);
    /* the fields are in the structure: a network without them does not take the image */
    btsp_proj *r0;
    btsp_net *plain = rf_net(CH, H, Wd, U, &r0, NULL);
    EXPECT_OK(plain, btsp_net_finalize(plain));
    assert_int_equal(btsp_net_state_size(plain) + 8 * U, n);
    EXPECT_FAIL(plain, btsp_net_load_state(plain, img, n), BTSP_E_SHAPE, "another network");
    btsp_net_destroy(plain);
    /* nor does one whose fields have another side: the same names, shapes and image size, so
     * only the fingerprint tells them apart (a smaller side, so that every stored corner passes
     * the range check too and the corners would load as fields of the wrong size) */
    btsp_proj *r1;
    btsp_net *narrow = rf_net(CH, H, Wd, U, &r1, NULL);
    EXPECT_OK(narrow, btsp_proj_set_receptive_fields(r1, SIDE - 1, CH, H, Wd, 1.0));
    EXPECT_OK(narrow, btsp_net_finalize(narrow));
    assert_int_equal(btsp_net_state_size(narrow), n);
    EXPECT_FAIL(narrow, btsp_net_load_state(narrow, img, n), BTSP_E_SHAPE, "another network");
    btsp_net_destroy(narrow);
    /* a corner moved out of its image: the checksum is recomputed so that only the range check
     * can refuse it (the corners are the payload's last 8 U bytes; unit 3's row) */
    unsigned char *bad = malloc(n);
    assert_non_null(bad);
    memcpy(bad, img, n);
    bad[n - 8 * U + 8 * 3] = (unsigned char)(H - SIDE + 1);
    reseal(bad, n);
    EXPECT_FAIL(b, btsp_net_load_state(b, bad, n), BTSP_E_FORMAT, "unit 3 of 'HE_InputE'");
    size_t rc_after[2 * U];
    corners(b, q, U, rc_after);
    assert_memory_equal(rc_after, rcb, sizeof rcb); /* unchanged */
    /* the same by the column (the u32 after the row; the row left valid): the masks trust the
     * corners (btsp_k_rf_mask only asserts them), so the load must check both bounds */
    memcpy(bad, img, n);
    bad[n - 8 * U + 8 * 3 + 4] = (unsigned char)(Wd - SIDE + 1);
    reseal(bad, n);
    EXPECT_FAIL(b, btsp_net_load_state(b, bad, n), BTSP_E_FORMAT, "unit 3 of 'HE_InputE'");
    corners(b, q, U, rc_after);
    assert_memory_equal(rc_after, rcb, sizeof rcb); /* unchanged */
    EXPECT_OK(b, btsp_net_load_state(b, img, n));
    corners(b, q, U, rc_after);
    assert_memory_equal(rc_after, rca, sizeof rca);
    assert_true(test_nets_equal(a, b));
    free(bad);
    free(img);
    btsp_net_destroy(a);
    btsp_net_destroy(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_against_explicit_mask),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_counter_draws),
        cmocka_unit_test(test_kaiming_fan_in),
        cmocka_unit_test(test_torch_draws_are_eianns),
        cmocka_unit_test(test_training_keeps_fields),
        cmocka_unit_test(test_recurrent_diagonal),
        cmocka_unit_test(test_btsp_norm_and_clone),
        cmocka_unit_test(test_btsp_partial_rows_clone),
        cmocka_unit_test(test_state_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
