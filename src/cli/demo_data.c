/* Synthetic prototype-classification task for the demo and the end-to-end test. */
#include "demo_data.h"

#include "btsp/btsp_kernels.h"

#include <stdlib.h>
#include <string.h>

/* Prototypes depend only on this key, so training and test sets share them. */
#define PROTOTYPE_KEY 0x5eedb75bULL

int btsp_demo_make_data(uint64_t seed, size_t dim, size_t n_classes, size_t n, btsp_dataset *out)
{
    memset(out, 0, sizeof *out);
    float *proto = malloc(n_classes * dim * sizeof *proto);
    out->x = malloc(n * dim * sizeof *out->x);
    out->y = calloc(n * n_classes, sizeof *out->y);
    out->labels = malloc(n);
    if (!proto || !out->x || !out->y || !out->labels) {
        free(proto);
        btsp_dataset_free(out);
        return 0;
    }
    /* About 30% of the pixels of a prototype are on, with intensity in [0.5, 1). */
    for (size_t c = 0; c < n_classes; c++)
        for (size_t j = 0; j < dim; j++) {
            double on = btsp_k_rand_uniform(PROTOTYPE_KEY, c, 2 * j);
            double v = btsp_k_rand_uniform(PROTOTYPE_KEY, c, 2 * j + 1);
            proto[c * dim + j] = on < 0.3 ? (float)(0.5 + 0.5 * v) : 0.0f;
        }
    for (size_t r = 0; r < n; r++) {
        size_t c = r % n_classes;
        out->labels[r] = (uint8_t)c;
        out->y[r * n_classes + c] = 1.0f;
        for (size_t j = 0; j < dim; j++) {
            double u1 = btsp_k_rand_uniform(seed, r, 2 * j);
            double u2 = btsp_k_rand_uniform(seed, r, 2 * j + 1);
            float p = proto[c * dim + j];
            float v;
            if (p > 0.0f) /* kept with probability 0.8, intensity jittered by +-20% */
                v = u1 < 0.8 ? p * (float)(0.8 + 0.4 * u2) : 0.0f;
            else /* spurious pixel with probability 0.05 */
                v = u1 < 0.05 ? (float)(0.5 * u2) : 0.0f;
            out->x[r * dim + j] = v > 1.0f ? 1.0f : v;
        }
    }
    free(proto);
    out->n = n;
    out->dim = dim;
    out->n_classes = n_classes;
    return 1;
}
