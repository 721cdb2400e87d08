/* ctypes bridge for scripts/eiann_compare/compare.py: the few calls the step-by-step comparison
 * with EIANN needs, on top of the public API (btsp.h, btsp_config.h). Built by compare.py. */
#include "btsp/btsp.h"
#include "btsp/btsp_config.h"

#include <stdio.h>

void *cmp_create(const char *cfg)
{
    btsp_net *net = NULL;
    char err[1024];
    if (btsp_config_load(cfg, NULL, &net, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
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
