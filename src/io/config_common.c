/* EIANN config loader: the kwarg table, memory and messages (see config_internal.h). */
#include "config_internal.h"
#include "io_util.h"

/* ------------------------------------------------------------------------------------------ */
/* Learning-rule kwargs                                                                        */

const cfg_kwarg kwarg_table[] = {
    {"learning_rate", P_LR, KT_NUM_OR_NULL},
    {"sign", P_SIGN, KT_NUM},
    {"dep_ratio", P_DEP_RATIO, KT_NUM},
    {"dep_th", P_DEP_TH, KT_NUM},
    {"dep_width", P_DEP_WIDTH, KT_NUM},
    {"temporal_discount", P_TDISC, KT_NUM},
    {"forward_only", P_FWD_ONLY, KT_BOOL},
    {"theta_tau", P_THETA_TAU, KT_NUM},
    {"k", P_THETA_K, KT_NUM},
    {"max_pop_fraction", P_MPF, KT_NUM},
    {"stochastic", P_STOCH, KT_BOOL},
    {"neg_rate_th", P_NRT, KT_NUM_OR_NULL},
    {"relu_gate", P_RELU, KT_BOOL},
    {"source", P_SOURCE, KT_STR},
};
const size_t n_kwargs = sizeof kwarg_table / sizeof kwarg_table[0];

/* ------------------------------------------------------------------------------------------ */
/* Memory and messages                                                                         */

static void *cfg_alloc(cfg_ctx *c, size_t n)
{
    if (n == 0)
        n = 1;
    return c->alloc ? c->alloc->alloc(c->alloc->user, n) : malloc(n);
}

void cfg_free(cfg_ctx *c, void *p)
{
    if (!p)
        return;
    if (c->alloc)
        c->alloc->free(c->alloc->user, p);
    else
        free(p);
}

void *cfg_calloc(cfg_ctx *c, size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    size_t bytes = count * size;
    void *p = cfg_alloc(c, bytes);
    if (p && bytes > 0)
        memset(p, 0, bytes);
    return p;
}

cfg_mark mark_of(const yaml_node_t *n)
{
    cfg_mark m = {0, 0};
    if (n) {
        m.line = (unsigned long)n->start_mark.line + 1;
        m.col = (unsigned long)n->start_mark.column + 1;
    }
    return m;
}

static void msg_vadd(msgbuf *b, const char *fmt, va_list ap)
{
    if (!b->p || b->len == 0 || b->used >= b->len - 1)
        return;
    int n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
    if (n < 0)
        return;
    btsp__io_one_line(b->p + b->used, b->len - b->used);
    b->used += (size_t)n;
    if (b->used > b->len - 1)
        b->used = b->len - 1;
}

void msg_add(msgbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_vadd(b, fmt, ap);
    va_end(ap);
}

/* "file:line:col: where: key 'key': message". where and key may be NULL. */
static btsp_status cfg_vfail(cfg_ctx *c, btsp_status st, cfg_mark m, const char *where, const char *key,
                             const char *fmt, va_list ap)
{
    msgbuf b = {c->err, c->errlen, 0};
    if (b.p && b.len)
        b.p[0] = '\0';
    if (m.line)
        msg_add(&b, "%s:%lu:%lu: ", c->fname, m.line, m.col);
    else
        msg_add(&b, "%s: ", c->fname);
    if (where)
        msg_add(&b, "%s: ", where);
    if (key)
        msg_add(&b, "key '%s': ", key);
    msg_vadd(&b, fmt, ap);
    return st;
}

btsp_status cfg_fail(cfg_ctx *c, btsp_status st, cfg_mark m, const char *where, const char *key,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_vfail(c, st, m, where, key, fmt, ap);
    va_end(ap);
    return st;
}

btsp_status cfg_nomem(cfg_ctx *c)
{
    cfg_mark m = {0, 0};
    return cfg_fail(c, BTSP_E_NOMEM, m, NULL, NULL, "out of memory");
}

void where_pop(const cfg_ctx *c, size_t i, char *buf)
{
    snprintf(buf, CFG_WHERE_MAX, "population %s.%s", c->layers[c->pops[i].layer].name, c->pops[i].name);
}

void where_proj(const cfg_ctx *c, const cfg_proj *p, char *buf)
{
    const cfg_pop *a = &c->pops[p->post], *b = &c->pops[p->pre];
    snprintf(buf, CFG_WHERE_MAX, "projection %s.%s <- %s.%s", c->layers[a->layer].name, a->name,
             c->layers[b->layer].name, b->name);
}

