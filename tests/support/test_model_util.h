/* Helpers shared by the model tests (header-only; every function is static inline so a test
 * that does not use one gets no warning). Include after test_support.h. */
#ifndef BTSP_TEST_MODEL_UTIL_H
#define BTSP_TEST_MODEL_UTIL_H

#include "test_support.h"

#include <math.h>

/* Fail with the status name and the network's message unless `call` returns BTSP_OK. */
#define OK(net, call)                                                                                 \
    do {                                                                                             \
        btsp_status st_ = (call);                                                                    \
        if (st_ != BTSP_OK)                                                                          \
            fail_msg("%s -> %s: %s", #call, btsp_status_name(st_), btsp_net_errmsg(net));           \
    } while (0)

/* |got - want| <= 1e-6 |want| + 1e-7: hand-computed doubles against the library's floats. */
#define CLOSE(got, want) check_close((double)(got), (double)(want), #got, __FILE__, __LINE__)

static inline void check_close(double got, double want, const char *what, const char *file, int line)
{
    double tol = 1e-6 * fabs(want) + 1e-7;
    if (!(fabs(got - want) <= tol))
        fail_msg("%s:%d: %s = %.9g, expected %.9g (diff %.3g > tol %.3g)", file, line, what, got, want,
                 fabs(got - want), tol);
}

static inline double clipd(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }
static inline double relu(double x) { return x > 0.0 ? x : 0.0; }

/* Borrowed state vector of a population (fails the test if the population lacks it). */
static inline const float *state(const btsp_pop *p, btsp_var var)
{
    const float *d = NULL;
    size_t n = 0;
    btsp_status st = btsp_pop_state(p, var, &d, &n);
    if (st != BTSP_OK)
        fail_msg("btsp_pop_state(%s, %d): %s", btsp_pop_full_name(p), (int)var, btsp_status_name(st));
    return d;
}

/* Borrowed weights of a projection. */
static inline const float *weights(const btsp_proj *q)
{
    const float *w = NULL;
    size_t r, c;
    assert_int_equal(btsp_proj_weights(q, &w, &r, &c), BTSP_OK);
    return w;
}

#endif
