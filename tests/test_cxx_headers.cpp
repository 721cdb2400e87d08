// The public headers must compile as C++11 (extern "C", no restrict, VLAs or _Generic) and link
// from C++. Built with -Wall -Wextra -Wpedantic (and -Werror with BTSP_WERROR) against the
// shared library. A plain program: exit status 0 on success.
#include "btsp/btsp.h"
#include "btsp/btsp_kernels.h"
#include "btsp/btsp_config.h" /* declarations only: must parse as C++ */
#include "btsp/btsp_io.h"
#include "btsp/btsp_analysis.h" /* declarations only: must parse as C++ */

#include <cstdio>
#include <cstring>

namespace {

int failures = 0;

void check(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "test_cxx_headers: FAILED: %s\n", what);
        ++failures;
    }
}

// Types and enums are usable from C++ without casts where C would allow them.
static_assert(BTSP_OK == 0, "BTSP_OK is 0");
static_assert(BTSP_E_INVALID_ARG < 0 && BTSP_STOPPED > 0, "status sign convention");
static_assert(BTSP_VERSION_NUMBER ==
                  BTSP_VERSION_MAJOR * 10000 + BTSP_VERSION_MINOR * 100 + BTSP_VERSION_PATCH,
              "version number layout");

} // namespace

int main() {
    check(btsp_version_number() == static_cast<unsigned>(BTSP_VERSION_NUMBER),
          "btsp_version_number() equals BTSP_VERSION_NUMBER");
    check(std::strcmp(btsp_version_string(), BTSP_VERSION_STRING) == 0,
          "btsp_version_string() equals BTSP_VERSION_STRING");

    const char *ok = btsp_status_string(BTSP_OK);
    const char *unknown = btsp_status_string(-12345);
    check(ok != nullptr && ok[0] != '\0', "btsp_status_string(BTSP_OK) is a non-empty string");
    check(unknown != nullptr, "btsp_status_string(unknown) is not NULL");
    check(ok != nullptr && unknown != nullptr && std::strcmp(ok, unknown) != 0,
          "unknown status differs from BTSP_OK");

    // Function pointer and struct types from the headers.
    btsp_allocator alloc = {nullptr, nullptr, nullptr};
    (void)alloc;
    btsp_step_fn hook = nullptr;
    (void)hook;
    btsp_k_q_params q;
    std::memset(&q, 0, sizeof q);
    (void)q;

    // The 0.2 calls from C++: state images and the binary-synapse kernels.
    btsp_net *net = nullptr;
    check(btsp_net_create(&net) == BTSP_OK, "btsp_net_create");
    check(btsp_net_state_size(net) == 0, "btsp_net_state_size before finalize is 0");
    unsigned char image[16];
    check(btsp_net_save_state(net, image, sizeof image, nullptr) == BTSP_E_STATE, "save_state before finalize");
    check(btsp_net_load_state(net, image, sizeof image) == BTSP_E_STATE, "load_state before finalize");
    btsp_net_destroy(net);
    uint64_t bits[2] = {0, 0}, w[2] = {0, 0}, plateau = 1;
    btsp_k_bernoulli_bits(1, 2, 3, 100, 1.0, bits);
    check(btsp_k_popcount(2, bits) == 100 && btsp_k_bit_words(100) == 2, "bernoulli bits and popcount");
    btsp_k_binary_store(BTSP_K_BINARY_FLIP, 1, 2, w, nullptr, bits, &plateau);
    uint32_t h = 0;
    btsp_k_binary_input(1, 2, w, nullptr, bits, &h);
    check(h == 100, "binary store and input");

    // Receptive fields: the mask kernel and the projection calls (NULL handles refused).
    float img[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    const uint32_t corner[2] = {1, 1};
    btsp_k_rf_mask(1, img, 4, corner, 1, 1, 2, 2);
    check(img[0] == 0.0f && img[3] == 4.0f, "btsp_k_rf_mask");
    size_t rf_r = 9, rf_c = 9;
    check(btsp_proj_set_receptive_fields(nullptr, 1, 1, 2, 2, 0.0) == BTSP_E_INVALID_ARG &&
              btsp_proj_get_receptive_fields(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr) ==
                  BTSP_E_INVALID_ARG &&
              btsp_proj_receptive_field(nullptr, 0, &rf_r, &rf_c) == BTSP_E_INVALID_ARG && rf_r == 0,
          "receptive-field calls");

    // The place-field forms (Bittner, Cone & Shouval, Li & Roxin): structs and calls from C++.
    btsp_k_bittner_params bt;
    btsp_k_bittner_default(&bt);
    check(btsp_k_bittner_kernel(&bt, 0.0) == 1.15, "btsp_k_bittner_kernel");
    float bt_w = 0.0f, bt_x = 1.0f;
    double bt_pre = 0.0, bt_post = 0.0;
    btsp_k_bittner_step(&bt, 1, 0.001, &bt_x, 1, &bt_pre, &bt_post, &bt_w);
    check(bt_w == 1.15f && bt_pre == 1.0 && bt_post == 1.0, "btsp_k_bittner_step");
    btsp_k_etis_params et;
    btsp_k_etis_default(&et);
    check(et.plateau_dur == 0.3 && btsp_k_etis_kernel(&et, -0.1) > 0.0, "btsp_k_etis_kernel");
    double et_tr[2] = {0.0, 0.0}, et_is[2] = {0.0, 0.0};
    float et_w = 0.25f;
    btsp_k_etis_step(&et, 1, 0.01, nullptr, 0, et_tr, et_is, &et_w); // no spike, no plateau: nothing
    check(et_w == 0.25f && et_tr[0] == 0.0 && et_is[0] == 0.0, "btsp_k_etis_step");
    btsp_k_cs_params cs;
    btsp_k_cs_default(&cs);
    check(btsp_k_cs_fixed_point(3.0, 1.0) == 0.75, "btsp_k_cs_fixed_point");
    btsp_k_lr_params lr;
    check(btsp_k_lr_default(&lr, 25.0, 187.0) == 0 && btsp_k_lr_default(&lr, 30.0, 187.0) == -1,
          "btsp_k_lr_default");
    check(btsp_k_student_t_cdf(0.0, 3.0) == 0.5, "btsp_k_student_t_cdf");
    const btsp_k_skew_t sym = {5.0, 0.0, 1.0, 0.0};
    check(btsp_k_skew_t_pdf(&sym, 0.0) > 0.37 && btsp_k_skew_t_pdf(&sym, 0.0) < 0.38, "btsp_k_skew_t_pdf");
    const double fp[1] = {0.0}, fd[1] = {0.0};
    float wl[1] = {0.25f};
    btsp_k_lr_apply(&lr, 1, fp, fd, wl);
    check(wl[0] == 0.25f, "btsp_k_lr_apply without drive");
    const btsp_an_plot_labels labels = {"title", nullptr, nullptr, nullptr};
    (void)labels;

    if (failures == 0) {
        std::printf("test_cxx_headers: OK (libbtsp %s)\n", btsp_version_string());
    }
    return failures == 0 ? 0 : 1;
}
