/* ctypes bridge for scripts/eiann_compare/compare.py: the few calls the step-by-step comparison
 * with EIANN needs, on top of the public API (btsp.h, btsp_config.h). Built by compare.py. */
#include "btsp/btsp.h"
#include "btsp/btsp_config.h"

#include <stdio.h>
#include <stdlib.h>

/* TORCH_SEED=S in the environment: finalize with EIANN's draws for network seed S (the weights
 * are replaced anyway; what matters is what is drawn besides them, e.g. receptive fields). */
void *cmp_create(const char *cfg)
{
    btsp_net *net = NULL;
    char err[1024];
    if (btsp_config_load(cfg, NULL, &net, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    const char *ts = getenv("TORCH_SEED");
    char *end = NULL;
    if (ts && (!*ts || (strtoull(ts, &end, 10), *end != '\0'))) {
        fprintf(stderr, "TORCH_SEED must be a decimal seed, not '%s'\n", ts);
        btsp_net_destroy(net);
        return NULL;
    }
    if (ts && (btsp_net_set(net, BTSP_NET_INIT_RNG, BTSP_INIT_RNG_TORCH) ||
               btsp_net_seed(net, strtoull(ts, NULL, 10)))) {
        fprintf(stderr, "%s\n", btsp_net_errmsg(net));
        btsp_net_destroy(net);
        return NULL;
    }
    if (btsp_net_finalize(net)) {
        fprintf(stderr, "%s\n", btsp_net_errmsg(net));
        btsp_net_destroy(net);
        return NULL;
    }
    return net;
}

int cmp_set_w(void *net, const char *name, const float *w, size_t r, size_t c)
{
    btsp_proj *p;
    int st = btsp_net_find_proj(net, name, &p);
    return st ? st : btsp_proj_set_weights(p, w, r, c);
}

int cmp_get_w(void *net, const char *name, float *w, size_t r, size_t c)
{
    btsp_proj *p;
    int st = btsp_net_find_proj(net, name, &p);
    return st ? st : btsp_proj_copy_weights(p, w, r, c);
}

int cmp_step(void *net, const float *x, size_t nx, const float *y, size_t ny)
{
    int st = btsp_net_train_sample(net, x, nx, y, ny);
    if (st)
        fprintf(stderr, "step: %s\n", btsp_net_errmsg(net));
    return st;
}

int cmp_state(void *net, const char *pop, int var, float *dst, size_t n)
{
    btsp_pop *p;
    int st = btsp_net_find_pop(net, pop, &p);
    return st ? st : btsp_pop_copy_state(p, (btsp_var)var, dst, n);
}
