/* Fuzz target: IDX files, plain or gzip (btsp_idx_read). A file that reads must have 1 to 3
 * dimensions and exactly their product of bytes (ASan checks the last one); a failure must
 * carry a message and leave the struct zeroed. */
#include "fuzz_common.h"

#include <btsp/btsp_io.h>

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_scratch_file(data, size);
    btsp_idx idx;
    memset(&idx, 0x5a, sizeof idx);
    char err[512];
    memset(err, 'x', sizeof err);
    btsp_status st = btsp_idx_read(path, &idx, err, sizeof err);
    if (st != BTSP_OK) {
        fuzz_expect_message(err, sizeof err);
        FUZZ_EXPECT(idx.data == NULL && idx.ndim == 0);
        return 0;
    }
    FUZZ_EXPECT(idx.data != NULL);
    FUZZ_EXPECT(idx.ndim >= 1 && idx.ndim <= 3);
    size_t n = 1;
    for (int d = 0; d < idx.ndim; d++)
        n *= idx.dims[d];
    FUZZ_EXPECT(idx.n == n);
    if (n > 0) {
        volatile unsigned char sink = (unsigned char)(idx.data[0] + idx.data[n - 1]);
        (void)sink;
    }
    btsp_idx_free(&idx);
    return 0;
}
