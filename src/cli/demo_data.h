/* The demo's embedded network and synthetic data (no download needed). */
#ifndef BTSP_DEMO_DATA_H
#define BTSP_DEMO_DATA_H

#include "btsp/btsp_io.h"

#include <stdint.h>

/* configs/demo/tiny_btsp.yaml, compiled in by CMake (NUL-terminated). */
extern const char btsp_demo_config[];

/* Make `n` labelled samples of the synthetic task: `n_classes` fixed random prototype images of
 * `dim` pixels (the same for every seed), each sample a noisy copy (pixels dropped, spurious
 * pixels added, intensity jitter) drawn with `seed`. Labels cycle through the classes.
 * Returns 1 on success, 0 when out of memory (out is then zeroed). */
int btsp_demo_make_data(uint64_t seed, size_t dim, size_t n_classes, size_t n, btsp_dataset *out);

#endif
