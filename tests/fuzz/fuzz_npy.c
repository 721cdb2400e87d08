/* Fuzz target: NumPy .npy files (btsp_npy_read_f32). A file that reads must have 1 or 2
 * dimensions and a buffer that holds shape[0] * shape[1] floats (ASan checks the last one);
 * a failure must carry a message. */
#include "fuzz_common.h"

#include <btsp/btsp_io.h>

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file(data, size);
    float *v = NULL;
    size_t shape[2] = {7, 7}, ndim = 9;
    char err[512];
    memset(err, 'x', sizeof err);
    btsp_status st = btsp_npy_read_f32(path, &v, shape, &ndim, err, sizeof err);
    if (st != BTSP_OK) {
        fuzz_expect_message(err, sizeof err);
        return 0;
    }
    FUZZ_EXPECT(v != NULL);
    FUZZ_EXPECT(ndim == 1 || ndim == 2);
    FUZZ_EXPECT(ndim == 2 || shape[1] == 1);
    size_t n = shape[0] * shape[1];
    if (n > 0) {
        volatile float sink = v[0] + v[n - 1];
        (void)sink;
    }
    btsp_npy_free(v);
    return 0;
}
