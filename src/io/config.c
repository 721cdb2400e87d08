/* EIANN network-configuration YAML -> libbtsp network (see include/btsp/btsp_config.h).
 *
 * Two layers:
 *   1. parse_*(): the libyaml document is turned into a plain description (cfg_layer, cfg_pop,
 *      cfg_proj, cfg_train) and checked: types, names, references, rules and their kwargs,
 *      clone sources, gates and the backward mode ("plan"). Strings point into the libyaml
 *      document, which stays alive until the end. This layer uses only libyaml and the C
 *      library, never the core API.
 *   2. build(): the description becomes btsp_* calls. Errors of those calls are reported with
 *      the YAML position of the element being built and btsp_net_errmsg().
 * The library never prints; every message goes to the caller's buffer. */
#include "btsp/btsp_config.h"

#include <yaml.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CFG_NAME_MAX 63          /* layer and population names (btsp.h) */
#define CFG_SIZE_MAX 100000000u  /* largest accepted population size */
#define CFG_WHERE_MAX 192        /* context strings such as "projection H1.E <- Input.E" */

/* ------------------------------------------------------------------------------------------ */
/* Description (layer 1 output)                                                                */

typedef struct cfg_mark {
    unsigned long line, col; /* 1-based; line 0 = no position */
} cfg_mark;

/* Rule parameters that a kwarg can set. */
enum {
    P_LR,
    P_SIGN,
    P_DEP_RATIO,
    P_DEP_TH,
    P_DEP_WIDTH,
    P_TDISC,
    P_FWD_ONLY,
    P_THETA_TAU,
    P_THETA_K,
    P_MPF,   /* gate: max_pop_fraction */
    P_STOCH, /* gate: stochastic */
    P_NRT,   /* gate: neg_rate_th */
    P_RELU,  /* gate: relu_gate */
    P_SOURCE, /* Backprop_DendriticLoss: "Layer.Pop" whose dendritic state is the loss */
    P_COUNT
};
#define PB(p) (1u << (p))

typedef enum ktype { KT_NUM, KT_NUM_OR_NULL, KT_BOOL, KT_STR } ktype;

static const struct {
    const char *name;
    int param;
    ktype type;
} kwarg_table[] = {
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
#define N_KWARGS (sizeof kwarg_table / sizeof kwarg_table[0])

/* Rule parameter of each P_* that maps onto a btsp_rule_param (0 = not a rule parameter). */
static btsp_rule_param rule_param_of(int p)
{
    switch (p) {
    case P_LR: return BTSP_RULE_LEARNING_RATE;
    case P_SIGN: return BTSP_RULE_SIGN;
    case P_DEP_RATIO: return BTSP_RULE_DEP_RATIO;
    case P_DEP_TH: return BTSP_RULE_DEP_TH;
    case P_DEP_WIDTH: return BTSP_RULE_DEP_WIDTH;
    case P_TDISC: return BTSP_RULE_TEMPORAL_DISCOUNT;
    case P_FWD_ONLY: return BTSP_RULE_FORWARD_ONLY;
    case P_THETA_TAU: return BTSP_RULE_THETA_TAU;
    case P_THETA_K: return BTSP_RULE_THETA_K;
    default: return (btsp_rule_param)0;
    }
}

enum { PLATEAU_NONE = 0, PLATEAU_SELECT = 1, PLATEAU_OUTPUT_ONLY = 2 };

/* One EIANN learning-rule class: its YAML name, the libbtsp kind name, the kwargs its
 * constructor accepts, and how it drives plateau selection. */
typedef struct rule_class {
    const char *name;
    const char *kind_name;
    unsigned accepted;
    unsigned required;
    unsigned unmodelled;
    int plateau;
    btsp_backward_mode mode;
    double gate_default[4]; /* max_pop_fraction, stochastic, neg_rate_th, relu_gate */
} rule_class;

#define G_SEL (PB(P_MPF) | PB(P_STOCH) | PB(P_RELU))
#define NO_GATE {0.0, 0.0, 0.0, 0.0}

static const rule_class proj_rules[] = {
    {"BTSP_19", "BTSP_19",
     PB(P_LR) | PB(P_DEP_RATIO) | PB(P_DEP_TH) | PB(P_DEP_WIDTH) | PB(P_TDISC) | G_SEL | PB(P_NRT), 0, 0,
     PLATEAU_SELECT, BTSP_BACKWARD_SETTLE, {1.0, 0.0, -INFINITY, 1.0}},
    {"BP_like_2E", "BP_like_2E", PB(P_LR) | G_SEL, 0, 0, PLATEAU_SELECT, BTSP_BACKWARD_SINGLE,
     {1.0, 0.0, -INFINITY, 0.0}},
    {"BP_like_2L", "BP_like_2L", PB(P_LR) | PB(P_FWD_ONLY) | G_SEL, 0, 0, PLATEAU_SELECT,
     BTSP_BACKWARD_SETTLE, {1.0, 0.0, -INFINITY, 0.0}},
    {"Hebbian_Temporal_Contrast", "Hebbian_Temporal_Contrast", PB(P_LR) | G_SEL, 0, 0, PLATEAU_SELECT,
     BTSP_BACKWARD_SETTLE, {1.0, 0.0, -INFINITY, 1.0}},
    {"Supervised_BCM_4", "Supervised_BCM_4",
     PB(P_LR) | PB(P_SIGN) | PB(P_THETA_TAU) | PB(P_THETA_K) | G_SEL, PB(P_THETA_TAU) | PB(P_THETA_K), 0,
     PLATEAU_SELECT, BTSP_BACKWARD_SETTLE, {0.025, 0.0, -INFINITY, 0.0}},
    {"Top_Layer_BP_like_2L", "Top_Layer_BP_like_2L", PB(P_LR) | PB(P_RELU), 0, 0, PLATEAU_OUTPUT_ONLY,
     BTSP_BACKWARD_OUTPUT_ONLY, {1.0, 0.0, -INFINITY, 1.0}},
    {"DendriticLoss_6", "DendriticLoss_6", PB(P_LR) | PB(P_SIGN), 0, 0, PLATEAU_NONE, BTSP_BACKWARD_NONE,
     NO_GATE},
    {"Hebb_WeightNorm", "Hebb_WeightNorm", PB(P_LR) | PB(P_SIGN) | PB(P_FWD_ONLY), 0, 0, PLATEAU_NONE,
     BTSP_BACKWARD_NONE, NO_GATE},
    {"Hebb_WeightNorm_4", "Hebb_WeightNorm_4", PB(P_LR) | PB(P_SIGN) | PB(P_FWD_ONLY), 0, 0, PLATEAU_NONE,
     BTSP_BACKWARD_NONE, NO_GATE},
    {"Top_Down_Hebbian_Temporal_Contrast_3", "Top_Down_Hebbian_Temporal_Contrast_3", PB(P_LR), 0, 0,
     PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Top_Down_Hebbian_Temporal_Contrast_1", "Top_Down_Hebbian_Temporal_Contrast_1",
     PB(P_LR) | PB(P_FWD_ONLY), 0, 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Ojas_rule", "Ojas_rule", PB(P_LR) | PB(P_FWD_ONLY), 0, 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Backprop", "Backprop", PB(P_LR), 0, 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Backprop_DendriticLoss", "Backprop_DendriticLoss", PB(P_LR) | PB(P_SOURCE), PB(P_SOURCE), 0,
     PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
};

static const rule_class bias_rules[] = {
    {"DendriticLossBias", "DendriticLossBias", PB(P_LR), 0, 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Backprop", "BackpropBias", PB(P_LR), 0, 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"BackpropBias", "BackpropBias", PB(P_LR), 0, 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct cfg_rule {
    const rule_class *cls; /* NULL: no rule */
    cfg_mark mark;         /* of the rule name (or of the projection when the key is absent) */
    unsigned given;        /* PB() of the kwargs present */
    double v[P_COUNT];
    cfg_mark vmark[P_COUNT];
    const char *source; /* P_SOURCE (points into the YAML document) */
} cfg_rule;

typedef struct cfg_layer {
    const char *name;
    cfg_mark mark;
    size_t first_pop, n_pops;
} cfg_layer;

typedef struct cfg_pop {
    const char *name;
    size_t layer;
    cfg_mark mark; /* of the population key */
    size_t size;
    btsp_activation act;
    double act_p0, act_p1;
    int has_tau;
    double tau;
    cfg_mark tau_mark;
    int include_bias; /* final decision */
    int has_bias_init;
    btsp_init bias_init;
    double bias_a, bias_b;
    cfg_mark bias_init_mark;
    int has_bias_bounds;
    double bias_lo, bias_hi;
    cfg_mark bias_bounds_mark;
    cfg_rule bias_rule;
    int output_flag;
    cfg_mark output_mark;
    /* plan */
    int has_dend;         /* receives a dend projection */
    int gate;             /* 0 or a btsp_gate_kind */
    double gate_param[4]; /* max_pop_fraction, stochastic, neg_rate_th, relu_gate */
    size_t gate_proj;     /* projection whose kwargs configure the gate */
} cfg_pop;

enum { CON_NONE, CON_NORMALIZE, CON_NO_AUTAPSES, CON_CLONE };

typedef struct cfg_proj {
    size_t post, pre; /* population indices */
    cfg_mark mark;    /* of the presynaptic key */
    btsp_direction dir;
    btsp_phase phase;
    btsp_compartment comp;
    int has_bounds;
    double lo, hi;
    cfg_mark bounds_mark;
    btsp_init init;
    double init_a, init_b;
    cfg_mark init_mark;
    int constraint;
    cfg_mark constraint_mark;
    double norm_scale;
    int norm_autapses;
    const char *clone_source;
    cfg_mark clone_mark;
    double clone_scale; /* sign * scale */
    int clone_transpose;
    size_t clone_src; /* resolved source projection */
    cfg_rule rule;
} cfg_proj;

typedef struct cfg_train {
    int has_tau, has_fsteps, has_bsteps, has_lr;
    double tau, fsteps, bsteps, lr;
    cfg_mark tau_mark, fsteps_mark, bsteps_mark, lr_mark;
} cfg_train;

typedef struct cfg_ctx {
    const char *fname;
    char *err;
    size_t errlen;
    const btsp_allocator *alloc; /* NULL: malloc */
    yaml_document_t *doc;
    cfg_layer *layers;
    size_t n_layers;
    cfg_pop *pops;
    size_t n_pops;
    cfg_proj *projs;
    size_t n_projs;
    size_t cap_projs;
    cfg_train train;
    size_t output; /* output population */
    btsp_backward_mode mode;
} cfg_ctx;

/* ------------------------------------------------------------------------------------------ */
/* Memory and messages                                                                         */

static void *cfg_alloc(cfg_ctx *c, size_t n)
{
    if (n == 0)
        n = 1;
    return c->alloc ? c->alloc->alloc(c->alloc->user, n) : malloc(n);
}

static void cfg_free(cfg_ctx *c, void *p)
{
    if (!p)
        return;
    if (c->alloc)
        c->alloc->free(c->alloc->user, p);
    else
        free(p);
}

static void *cfg_calloc(cfg_ctx *c, size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    size_t bytes = count * size;
    void *p = cfg_alloc(c, bytes);
    if (p && bytes > 0)
        memset(p, 0, bytes);
    return p;
}

static cfg_mark mark_of(const yaml_node_t *n)
{
    cfg_mark m = {0, 0};
    if (n) {
        m.line = (unsigned long)n->start_mark.line + 1;
        m.col = (unsigned long)n->start_mark.column + 1;
    }
    return m;
}

typedef struct msgbuf {
    char *p;
    size_t len, used;
} msgbuf;

static void msg_vadd(msgbuf *b, const char *fmt, va_list ap)
{
    if (!b->p || b->len == 0 || b->used >= b->len - 1)
        return;
    int n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
    if (n < 0)
        return;
    b->used += (size_t)n;
    if (b->used > b->len - 1)
        b->used = b->len - 1;
}

static void msg_add(msgbuf *b, const char *fmt, ...)
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

#if defined(__GNUC__)
#define CFG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CFG_PRINTF(a, b)
#endif

static btsp_status cfg_fail(cfg_ctx *c, btsp_status st, cfg_mark m, const char *where, const char *key,
                            const char *fmt, ...) CFG_PRINTF(6, 7);
static btsp_status cfg_fail(cfg_ctx *c, btsp_status st, cfg_mark m, const char *where, const char *key,
                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_vfail(c, st, m, where, key, fmt, ap);
    va_end(ap);
    return st;
}

static btsp_status cfg_nomem(cfg_ctx *c)
{
    cfg_mark m = {0, 0};
    return cfg_fail(c, BTSP_E_NOMEM, m, NULL, NULL, "out of memory");
}

static void where_pop(const cfg_ctx *c, size_t i, char *buf)
{
    snprintf(buf, CFG_WHERE_MAX, "population %s.%s", c->layers[c->pops[i].layer].name, c->pops[i].name);
}

static void where_proj(const cfg_ctx *c, const cfg_proj *p, char *buf)
{
    const cfg_pop *a = &c->pops[p->post], *b = &c->pops[p->pre];
    snprintf(buf, CFG_WHERE_MAX, "projection %s.%s <- %s.%s", c->layers[a->layer].name, a->name,
             c->layers[b->layer].name, b->name);
}

/* ------------------------------------------------------------------------------------------ */
/* YAML scalars                                                                                */

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef enum vkind { V_NULL, V_BOOL, V_NUM, V_STR, V_SEQ, V_MAP, V_BAD } vkind;

typedef struct cval {
    vkind k;
    double num;
    int is_int; /* V_NUM written without fraction or exponent */
    int b;
    const char *s; /* V_STR: text (NUL-terminated by libyaml) */
    const char *bad; /* V_BAD: reason */
} cval;

static yaml_node_t *node_at(const cfg_ctx *c, int idx)
{
    return yaml_document_get_node(c->doc, idx);
}

static int tag_is(const yaml_node_t *n, const char *suffix)
{
    const char *t = (const char *)n->tag;
    size_t pl = sizeof TAG_PREFIX - 1;
    return t && strncmp(t, TAG_PREFIX, pl) == 0 && strcmp(t + pl, suffix) == 0;
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", "None", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", NULL};

/* Parse a YAML number (decimal integers and floats, optional underscores, .inf, .nan). */
static int parse_number(const char *s, size_t len, double *out, int *is_int)
{
    char buf[128];
    size_t n = 0;
    const char *p = s;
    const char *end = s + len;
    int neg = 0;
    if (len == 0 || len >= sizeof buf)
        return 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0) {
        *out = neg ? -INFINITY : INFINITY;
        *is_int = 0;
        return 1;
    }
    if (p == s && (strcmp(p, ".nan") == 0 || strcmp(p, ".NaN") == 0 || strcmp(p, ".NAN") == 0)) {
        *out = NAN;
        *is_int = 0;
        return 1;
    }
    /* grammar: digits [ '.' digits* ] | '.' digits+ , then optional exponent */
    size_t digits = 0;
    int frac = 0, expo = 0;
    char dp = '.';
    const struct lconv *lc = localeconv();
    if (lc && lc->decimal_point && lc->decimal_point[0] && !lc->decimal_point[1])
        dp = lc->decimal_point[0];
    if (neg)
        buf[n++] = '-';
    for (; p < end && ((*p >= '0' && *p <= '9') || *p == '_'); p++) {
        if (*p == '_')
            continue;
        buf[n++] = *p;
        digits++;
    }
    if (p < end && *p == '.') {
        frac = 1;
        buf[n++] = dp;
        for (p++; p < end && ((*p >= '0' && *p <= '9') || *p == '_'); p++) {
            if (*p == '_')
                continue;
            buf[n++] = *p;
            digits++;
        }
    }
    if (digits == 0)
        return 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        size_t ed = 0;
        expo = 1;
        buf[n++] = 'e';
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            buf[n++] = *p++;
        for (; p < end && *p >= '0' && *p <= '9'; p++, ed++)
            buf[n++] = *p;
        if (ed == 0)
            return 0;
    }
    if (p != end)
        return 0;
    buf[n] = '\0';
    char *stop = NULL;
    errno = 0;
    double v = strtod(buf, &stop);
    if (!stop || *stop != '\0')
        return 0;
    *out = v;
    *is_int = !frac && !expo;
    return 1;
}

static int parse_bool_word(const char *s, int *b)
{
    if (in_list(s, true_words)) {
        *b = 1;
        return 1;
    }
    if (in_list(s, false_words)) {
        *b = 0;
        return 1;
    }
    return 0;
}

/* Resolve a node the way PyYAML's loader would (see the header for the differences). */
static cval resolve(const yaml_node_t *n)
{
    cval v;
    memset(&v, 0, sizeof v);
    if (!n) {
        v.k = V_NULL;
        return v;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        if (tag_is(n, "seq") || tag_is(n, "python/tuple") || tag_is(n, "python/list")) {
            v.k = V_SEQ;
        } else {
            v.k = V_BAD;
            v.bad = "unsupported tag on a sequence";
        }
        return v;
    }
    if (n->type == YAML_MAPPING_NODE) {
        if (tag_is(n, "map") || tag_is(n, "python/dict")) {
            v.k = V_MAP;
        } else {
            v.k = V_BAD;
            v.bad = "unsupported tag on a mapping";
        }
        return v;
    }
    if (n->type != YAML_SCALAR_NODE) {
        v.k = V_BAD;
        v.bad = "empty node";
        return v;
    }
    const char *s = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    v.s = s;
    if (strlen(s) != len) {
        v.k = V_BAD;
        v.bad = "scalar contains a NUL character";
        return v;
    }
    int plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (tag_is(n, "str")) {
        if (!plain) {
            v.k = V_STR;
            return v;
        }
        if (in_list(s, null_words)) {
            v.k = V_NULL;
        } else if (parse_bool_word(s, &v.b)) {
            v.k = V_BOOL;
        } else if (parse_number(s, len, &v.num, &v.is_int)) {
            v.k = V_NUM;
        } else {
            v.k = V_STR;
        }
        return v;
    }
    if (tag_is(n, "int") || tag_is(n, "float")) {
        if (parse_number(s, len, &v.num, &v.is_int)) {
            v.k = V_NUM;
        } else {
            v.k = V_BAD;
            v.bad = "tagged number is not a number";
        }
        return v;
    }
    if (tag_is(n, "bool")) {
        if (parse_bool_word(s, &v.b)) {
            v.k = V_BOOL;
        } else {
            v.k = V_BAD;
            v.bad = "tagged boolean is not true or false";
        }
        return v;
    }
    if (tag_is(n, "null")) {
        v.k = V_NULL;
        return v;
    }
    v.k = V_BAD;
    v.bad = "unsupported tag on a scalar";
    return v;
}

static const char *kind_text(vkind k)
{
    switch (k) {
    case V_NULL: return "null";
    case V_BOOL: return "a boolean";
    case V_NUM: return "a number";
    case V_STR: return "a string";
    case V_SEQ: return "a sequence";
    case V_MAP: return "a mapping";
    default: return "an invalid value";
    }
}

/* Short rendering of a node for messages. */
static const char *node_text(const yaml_node_t *n)
{
    if (!n)
        return "";
    if (n->type == YAML_SCALAR_NODE)
        return (const char *)n->data.scalar.value;
    return n->type == YAML_SEQUENCE_NODE ? "[...]" : "{...}";
}

/* Fail with "expected X, got Y" (or the tag problem). */
static btsp_status type_fail(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                             const char *expected)
{
    cval v = resolve(n);
    if (v.k == V_BAD)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "%s (expected %s)", v.bad, expected);
    if (v.k == V_STR || v.k == V_NUM || v.k == V_BOOL)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "expected %s, got %s '%s'", expected,
                        kind_text(v.k), node_text(n));
    return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "expected %s, got %s", expected, kind_text(v.k));
}

static btsp_status get_number(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                              int allow_null, int *is_null, double *out)
{
    cval v = resolve(n);
    if (is_null)
        *is_null = 0;
    if (v.k == V_NULL && allow_null) {
        *is_null = 1;
        *out = 0.0;
        return BTSP_OK;
    }
    if (v.k != V_NUM)
        return type_fail(c, n, where, key, allow_null ? "a number or null" : "a number");
    if (isnan(v.num))
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "NaN is not allowed");
    *out = v.num;
    return BTSP_OK;
}

static btsp_status get_bool(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, int *out)
{
    cval v = resolve(n);
    if (v.k == V_BOOL) {
        *out = v.b;
        return BTSP_OK;
    }
    if (v.k == V_NUM && v.is_int && (v.num == 0.0 || v.num == 1.0)) {
        *out = v.num != 0.0;
        return BTSP_OK;
    }
    return type_fail(c, n, where, key, "true or false");
}

/* A string; *out = NULL for null when allowed. */
static btsp_status get_string(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                              int allow_null, const char **out)
{
    cval v = resolve(n);
    *out = NULL;
    if (v.k == V_NULL && allow_null)
        return BTSP_OK;
    if (v.k != V_STR)
        return type_fail(c, n, where, key, allow_null ? "a name or null" : "a name");
    *out = v.s;
    return BTSP_OK;
}

static btsp_status get_int(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, double lo,
                           double hi, double *out)
{
    cval v = resolve(n);
    if (v.k != V_NUM || !v.is_int)
        return type_fail(c, n, where, key, "an integer");
    if (!(v.num >= lo && v.num <= hi))
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "%s is out of range [%.0f, %.0f]",
                        node_text(n), lo, hi);
    *out = v.num;
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* YAML mappings and sequences                                                                 */

static size_t map_len(const yaml_node_t *n)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return 0;
    return (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
}

static size_t seq_len(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *pair_key(const cfg_ctx *c, const yaml_node_t *m, size_t i)
{
    return node_at(c, m->data.mapping.pairs.start[i].key);
}

static yaml_node_t *pair_value(const cfg_ctx *c, const yaml_node_t *m, size_t i)
{
    return node_at(c, m->data.mapping.pairs.start[i].value);
}

static const char *key_text(const cfg_ctx *c, const yaml_node_t *m, size_t i)
{
    return (const char *)pair_key(c, m, i)->data.scalar.value;
}

/* A mapping whose keys are non-empty scalars without duplicates. Null counts as an empty
 * mapping when allow_null (then *is_null = 1). */
static btsp_status check_map(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                             int allow_null, int *is_null)
{
    cval v = resolve(n);
    if (is_null)
        *is_null = 0;
    if (v.k == V_NULL && allow_null) {
        if (is_null)
            *is_null = 1;
        return BTSP_OK;
    }
    if (v.k != V_MAP)
        return type_fail(c, n, where, key, allow_null ? "a mapping or null" : "a mapping");
    size_t len = map_len(n);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *k = pair_key(c, n, i);
        if (k->type != YAML_SCALAR_NODE)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, key, "mapping keys must be plain names");
        const char *ks = (const char *)k->data.scalar.value;
        if (k->data.scalar.length == 0 || strlen(ks) != k->data.scalar.length)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, key, "empty or invalid mapping key");
        for (size_t j = 0; j < i; j++) {
            if (strcmp(key_text(c, n, j), ks) == 0)
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, ks, "duplicate key (first at line %lu)",
                                mark_of(pair_key(c, n, j)).line);
        }
    }
    return BTSP_OK;
}

static int is_empty_map(const yaml_node_t *n)
{
    cval v = resolve(n);
    return v.k == V_NULL || (v.k == V_MAP && map_len(n) == 0);
}

/* A sequence of numbers (nulls allowed if null_value is not NULL: they become *null_value),
 * min..max elements. A single number is accepted as a one-element tuple if scalar_ok. */
static btsp_status get_tuple(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                             size_t min, size_t max, const double *null_values, int scalar_ok, double *out,
                             size_t *count)
{
    cval v = resolve(n);
    *count = 0;
    if (v.k == V_NUM && scalar_ok && min <= 1 && max >= 1) {
        if (isnan(v.num))
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "NaN is not allowed");
        out[0] = v.num;
        *count = 1;
        return BTSP_OK;
    }
    if (v.k != V_SEQ)
        return type_fail(c, n, where, key, "a sequence (tuple)");
    size_t len = seq_len(n);
    if (len < min || len > max) {
        if (min == max)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "expected %zu elements, got %zu", min, len);
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "expected %zu to %zu elements, got %zu", min,
                        max, len);
    }
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *e = node_at(c, n->data.sequence.items.start[i]);
        int isnull = 0;
        btsp_status st = get_number(c, e, where, key, null_values != NULL, &isnull, &out[i]);
        if (st)
            return st;
        if (isnull)
            out[i] = null_values[i];
    }
    *count = len;
    return BTSP_OK;
}

/* (lo, hi) bounds with nulls meaning unbounded. */
static btsp_status get_bounds(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, double *lo,
                              double *hi)
{
    static const double inf_pair[2] = {-INFINITY, INFINITY};
    double b[2];
    size_t cnt;
    btsp_status st = get_tuple(c, n, where, key, 2, 2, inf_pair, 0, b, &cnt);
    if (st)
        return st;
    if (b[0] > b[1])
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, key, "lower bound %g is above upper bound %g", b[0],
                        b[1]);
    *lo = b[0];
    *hi = b[1];
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                       */

static btsp_status check_name(cfg_ctx *c, const yaml_node_t *k, const char *where, const char *what)
{
    const char *s = (const char *)k->data.scalar.value;
    size_t len = k->data.scalar.length;
    if (len == 0 || len > CFG_NAME_MAX)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, NULL, "%s name '%s' must have 1 to %d characters",
                        what, s, CFG_NAME_MAX);
    if (strchr(s, '.'))
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, NULL, "%s name '%s' must not contain '.'", what, s);
    return BTSP_OK;
}

static int find_layer(const cfg_ctx *c, const char *name, size_t len, size_t *out)
{
    for (size_t i = 0; i < c->n_layers; i++) {
        if (strlen(c->layers[i].name) == len && memcmp(c->layers[i].name, name, len) == 0) {
            *out = i;
            return 1;
        }
    }
    return 0;
}

static int find_pop_in_layer(const cfg_ctx *c, size_t layer, const char *name, size_t len, size_t *out)
{
    const cfg_layer *L = &c->layers[layer];
    for (size_t i = L->first_pop; i < L->first_pop + L->n_pops; i++) {
        if (strlen(c->pops[i].name) == len && memcmp(c->pops[i].name, name, len) == 0) {
            *out = i;
            return 1;
        }
    }
    return 0;
}

/* "Layer.Pop" -> population index; 0 if malformed or unknown. */
static int find_pop_dotted(const cfg_ctx *c, const char *s, size_t *out)
{
    const char *dot = strchr(s, '.');
    size_t layer;
    if (!dot || strchr(dot + 1, '.'))
        return 0;
    if (!find_layer(c, s, (size_t)(dot - s), &layer))
        return 0;
    return find_pop_in_layer(c, layer, dot + 1, strlen(dot + 1), out);
}

/* Fail on "Layer.Pop" that does not exist, distinguishing malformed / unknown layer / pop. */
static btsp_status pop_ref_fail(cfg_ctx *c, const yaml_node_t *k, const char *where, const char *s)
{
    const char *dot = strchr(s, '.');
    size_t layer;
    if (!dot || strchr(dot + 1, '.') || dot == s || !dot[1])
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, NULL, "'%s' is not of the form Layer.Population", s);
    if (!find_layer(c, s, (size_t)(dot - s), &layer))
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, NULL, "unknown layer '%.*s' (not in layer_config)",
                        (int)(dot - s), s);
    return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, NULL, "layer '%s' has no population '%s'",
                    c->layers[layer].name, dot + 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Learning rules                                                                              */

static const rule_class *find_rule(const rule_class *table, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

static void list_kwargs(const rule_class *cls, char *buf, size_t len)
{
    msgbuf b = {buf, len, 0};
    int first = 1;
    buf[0] = '\0';
    for (size_t i = 0; i < N_KWARGS; i++) {
        if (cls->accepted & PB(kwarg_table[i].param)) {
            msg_add(&b, "%s%s", first ? "" : ", ", kwarg_table[i].name);
            first = 0;
        }
    }
    if (first)
        msg_add(&b, "none");
}

/* name_node NULL = key absent (absent_default is then used, may be NULL for "no rule"). */
static btsp_status parse_rule(cfg_ctx *c, cfg_rule *r, const yaml_node_t *name_node, const yaml_node_t *kw_node,
                              int bias, const char *where, const char *rule_key, const char *kw_key,
                              cfg_mark absent_mark)
{
    const rule_class *table = bias ? bias_rules : proj_rules;
    size_t n_table = bias ? ARRAY_LEN(bias_rules) : ARRAY_LEN(proj_rules);
    btsp_status st;
    memset(r, 0, sizeof *r);
    if (!name_node) {
        r->cls = bias ? NULL : find_rule(proj_rules, ARRAY_LEN(proj_rules), "Backprop");
        r->mark = absent_mark;
    } else {
        const char *name;
        st = get_string(c, name_node, where, rule_key, 1, &name);
        if (st)
            return st;
        r->mark = mark_of(name_node);
        if (name) {
            r->cls = find_rule(table, n_table, name);
            if (!r->cls) {
                const rule_class *other = bias ? find_rule(proj_rules, ARRAY_LEN(proj_rules), name)
                                               : find_rule(bias_rules, ARRAY_LEN(bias_rules), name);
                if (other)
                    return cfg_fail(c, BTSP_E_FORMAT, r->mark, where, rule_key, "'%s' is %s", name,
                                    bias ? "a projection rule, not a bias rule"
                                         : "a bias rule (use it as bias_learning_rule)");
                return cfg_fail(c, BTSP_E_FORMAT, r->mark, where, rule_key, "unknown %s '%s'", rule_key, name);
            }
        }
    }
    int kw_null = 0;
    if (kw_node) {
        st = check_map(c, kw_node, where, kw_key, 1, &kw_null);
        if (st)
            return st;
    }
    if (!r->cls) {
        if (kw_node && !is_empty_map(kw_node))
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(kw_node), where, kw_key,
                            "given but there is no learning rule (null); remove it or name a rule");
        return BTSP_OK;
    }
    size_t len = kw_node && !kw_null ? map_len(kw_node) : 0;
    for (size_t i = 0; i < len; i++) {
        const char *k = key_text(c, kw_node, i);
        const yaml_node_t *vn = pair_value(c, kw_node, i);
        size_t t;
        for (t = 0; t < N_KWARGS; t++)
            if (strcmp(kwarg_table[t].name, k) == 0)
                break;
        if (t == N_KWARGS || !(r->cls->accepted & PB(kwarg_table[t].param))) {
            char acc[256];
            list_kwargs(r->cls, acc, sizeof acc);
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, kw_node, i)), where, k,
                            "rule '%s' has no kwarg '%s' (accepted: %s)", r->cls->name, k, acc);
        }
        int p = kwarg_table[t].param;
        int isnull = 0, b = 0;
        double val = 0.0;
        switch (kwarg_table[t].type) {
        case KT_NUM:
        case KT_NUM_OR_NULL:
            st = get_number(c, vn, where, k, kwarg_table[t].type == KT_NUM_OR_NULL, &isnull, &val);
            if (st)
                return st;
            if (isnull)
                val = p == P_NRT ? -INFINITY : NAN; /* NaN marks "use the default" */
            break;
        case KT_BOOL:
            st = get_bool(c, vn, where, k, &b);
            if (st)
                return st;
            val = b;
            break;
        case KT_STR: {
            const char *s;
            st = get_string(c, vn, where, k, 0, &s);
            if (st)
                return st;
            if (p == P_SOURCE)
                r->source = s;
            break;
        }
        }
        r->given |= PB(p);
        r->v[p] = val;
        r->vmark[p] = mark_of(vn);
    }
    unsigned missing = r->cls->required & ~r->given;
    if (missing) {
        for (size_t t = 0; t < N_KWARGS; t++) {
            if (missing & PB(kwarg_table[t].param))
                return cfg_fail(c, BTSP_E_FORMAT, r->mark, where, kw_key, "rule '%s' needs the kwarg '%s'",
                                r->cls->name, kwarg_table[t].name);
        }
    }
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Layer 1: layer_config                                                                       */

static const struct {
    const char *name;
    btsp_activation act;
} act_table[] = {
    {"linear", BTSP_ACT_LINEAR},     {"relu", BTSP_ACT_RELU}, {"sigmoid", BTSP_ACT_SIGMOID},
    {"softplus", BTSP_ACT_SOFTPLUS}, {"tanh", BTSP_ACT_TANH}, {"softmax", BTSP_ACT_SOFTMAX},
    {"srelu", BTSP_ACT_CLAMP},       {"polynomial", BTSP_ACT_POLY},
};

/* Initialisation by EIANN name with its positional args (weights and biases). */
static btsp_status parse_init(cfg_ctx *c, const char *name, const yaml_node_t *name_node, const yaml_node_t *args,
                              const char *where, const char *args_key, btsp_init *init, double *a, double *b)
{
    double v[2];
    size_t n = 0;
    btsp_status st;
    size_t max_args;
    if (strcmp(name, "half_kaiming") == 0 || strcmp(name, "scaled_kaiming") == 0 || strcmp(name, "fill_") == 0)
        max_args = 1;
    else if (strcmp(name, "uniform_") == 0)
        max_args = 2;
    else if (strcmp(name, "zero_") == 0)
        max_args = 0;
    else
        return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(name_node), where, NULL,
                        "initialisation '%s' is not supported by libbtsp (supported: half_kaiming, "
                        "scaled_kaiming, uniform_, zero_, fill_)",
                        name);
    if (args && resolve(args).k != V_NULL) {
        st = get_tuple(c, args, where, args_key, 0, max_args, NULL, 1, v, &n);
        if (st)
            return st;
    }
    if (strcmp(name, "half_kaiming") == 0) {
        *init = BTSP_INIT_HALF_KAIMING;
        *a = n ? v[0] : 1.0;
        *b = 0.0;
    } else if (strcmp(name, "scaled_kaiming") == 0) {
        *init = BTSP_INIT_SCALED_KAIMING;
        *a = n ? v[0] : 1.0;
        *b = 0.0;
    } else if (strcmp(name, "uniform_") == 0) {
        *init = BTSP_INIT_UNIFORM;
        *a = n > 0 ? v[0] : 0.0;
        *b = n > 1 ? v[1] : 1.0;
        if (*a > *b)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(args), where, args_key, "uniform_ needs a <= b");
    } else if (strcmp(name, "fill_") == 0) {
        if (n != 1)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(name_node), where, args_key, "fill_ needs one value");
        *init = BTSP_INIT_CONSTANT;
        *a = v[0];
        *b = 0.0;
    } else {
        *init = BTSP_INIT_CONSTANT;
        *a = 0.0;
        *b = 0.0;
    }
    return BTSP_OK;
}

/* Simplified-form bias: 'name(a, b, ...)' -> bias_init 'name_' with those args. */
static btsp_status parse_bias_shorthand(cfg_ctx *c, cfg_pop *p, const yaml_node_t *n, const char *where)
{
    const char *s;
    btsp_status st = get_string(c, n, where, "bias", 0, &s);
    if (st)
        return st;
    const char *open = strchr(s, '(');
    size_t len = strlen(s);
    if (!open || open == s || len < 2 || s[len - 1] != ')' || (size_t)(open - s) > 30)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, "bias", "expected 'distribution(a, b)', got '%s'", s);
    char name[40];
    size_t nl = (size_t)(open - s);
    memcpy(name, s, nl);
    name[nl] = '_';
    name[nl + 1] = '\0';
    double v[2] = {0.0, 0.0};
    size_t nv = 0;
    const char *q = open + 1;
    const char *end = s + len - 1;
    while (q < end) {
        const char *comma = memchr(q, ',', (size_t)(end - q));
        const char *e = comma ? comma : end;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        const char *f = e;
        while (f > q && (f[-1] == ' ' || f[-1] == '\t'))
            f--;
        double x;
        int is_int;
        if (nv >= 2 || f == q || !parse_number(q, (size_t)(f - q), &x, &is_int) || isnan(x)) {
            char tmp[64];
            size_t tl = (size_t)(f - q) < sizeof tmp - 1 ? (size_t)(f - q) : sizeof tmp - 1;
            memcpy(tmp, q, tl);
            tmp[tl] = '\0';
            if (nv >= 2)
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, "bias", "too many arguments in '%s'", s);
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, "bias", "argument '%s' in '%s' is not a number",
                            tmp, s);
        }
        v[nv++] = x;
        q = comma ? comma + 1 : end;
    }
    if (strcmp(name, "uniform_") == 0) {
        p->bias_init = BTSP_INIT_UNIFORM;
        p->bias_a = nv > 0 ? v[0] : 0.0;
        p->bias_b = nv > 1 ? v[1] : 1.0;
    } else if (strcmp(name, "scaled_kaiming_") == 0 || strcmp(name, "half_kaiming_") == 0) {
        p->bias_init = name[0] == 's' ? BTSP_INIT_SCALED_KAIMING : BTSP_INIT_HALF_KAIMING;
        p->bias_a = nv > 0 ? v[0] : 1.0;
        p->bias_b = 0.0;
    } else if (strcmp(name, "fill_") == 0 && nv == 1) {
        p->bias_init = BTSP_INIT_CONSTANT;
        p->bias_a = v[0];
        p->bias_b = 0.0;
    } else if (strcmp(name, "zero_") == 0 && nv == 0) {
        p->bias_init = BTSP_INIT_CONSTANT;
        p->bias_a = p->bias_b = 0.0;
    } else {
        return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(n), where, "bias",
                        "bias distribution '%s' is not supported by libbtsp (supported: uniform(a,b), "
                        "fill(x), zero())",
                        s);
    }
    p->has_bias_init = 1;
    p->bias_init_mark = mark_of(n);
    return BTSP_OK;
}

static btsp_status parse_activation(cfg_ctx *c, cfg_pop *p, const yaml_node_t *an, const yaml_node_t *kn,
                                    const char *where)
{
    const char *name = "linear";
    btsp_status st;
    p->act = BTSP_ACT_LINEAR;
    p->act_p0 = p->act_p1 = 0.0;
    if (an) {
        st = get_string(c, an, where, "activation", 1, &name);
        if (st)
            return st;
        if (!name)
            name = "linear";
    }
    size_t i;
    for (i = 0; i < ARRAY_LEN(act_table); i++)
        if (strcmp(act_table[i].name, name) == 0)
            break;
    if (i == ARRAY_LEN(act_table))
        return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(an), where, "activation",
                        "activation '%s' is not supported by libbtsp (supported: linear, relu, sigmoid, softplus, "
                        "tanh, softmax, srelu, polynomial)",
                        name);
    p->act = act_table[i].act;
    const char *k0 = NULL, *k1 = NULL;
    if (p->act == BTSP_ACT_CLAMP) {
        k0 = "min";
        k1 = "max";
        p->act_p0 = 0.0;
        p->act_p1 = 1.0;
    } else if (p->act == BTSP_ACT_POLY) {
        k0 = "a";
        k1 = "n";
        p->act_p0 = 1.0;
        p->act_p1 = 2.0;
    }
    if (!kn)
        return BTSP_OK;
    int isnull;
    st = check_map(c, kn, where, "activation_kwargs", 1, &isnull);
    if (st)
        return st;
    size_t len = isnull ? 0 : map_len(kn);
    for (size_t j = 0; j < len; j++) {
        const char *k = key_text(c, kn, j);
        const yaml_node_t *vn = pair_value(c, kn, j);
        double *dst = NULL;
        if (k0 && strcmp(k, k0) == 0)
            dst = &p->act_p0;
        else if (k1 && strcmp(k, k1) == 0)
            dst = &p->act_p1;
        if (!dst) {
            if (k0)
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, kn, j)), where, k,
                                "activation '%s' has no kwarg '%s' (accepted: %s, %s)", name, k, k0, k1);
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, kn, j)), where, k,
                            "activation '%s' takes no activation_kwargs", name);
        }
        st = get_number(c, vn, where, k, 0, NULL, dst);
        if (st)
            return st;
    }
    return BTSP_OK;
}

static btsp_status parse_pop(cfg_ctx *c, size_t idx, const yaml_node_t *n, int is_input)
{
    cfg_pop *p = &c->pops[idx];
    char where[CFG_WHERE_MAX];
    btsp_status st;
    int isnull;
    where_pop(c, idx, where);
    p->act = BTSP_ACT_LINEAR;
    st = check_map(c, n, where, NULL, 1, &isnull);
    if (st)
        return st;
    if (isnull)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, "size", "missing (every population needs a size)");
    size_t len = map_len(n);

    /* population_type first, so that a Conv2D population reports that and not its keys */
    for (size_t i = 0; i < len; i++) {
        if (strcmp(key_text(c, n, i), "population_type") == 0) {
            const yaml_node_t *vn = pair_value(c, n, i);
            const char *t;
            st = get_string(c, vn, where, "population_type", 1, &t);
            if (st)
                return st;
            if (t && strcmp(t, "default") != 0) {
                static const char *const conv[] = {"Conv2D", "conv2D", "conv2d", "Flatten", "flatten",
                                                   "MaxPool2D", "maxpool2D", "maxpool2d", NULL};
                if (in_list(t, conv))
                    return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(vn), where, "population_type",
                                    "population type '%s' is not supported by libbtsp (dense populations only)",
                                    t);
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, "population_type",
                                "unknown population type '%s'", t);
            }
        }
    }

    const yaml_node_t *size_n = NULL, *act_n = NULL, *actkw_n = NULL, *binit_n = NULL, *bargs_n = NULL;
    const yaml_node_t *bias_n = NULL, *brule_n = NULL, *brulekw_n = NULL, *incl_n = NULL, *bbounds_n = NULL;
    int include_bias = 0, include_given = 0;
    for (size_t i = 0; i < len; i++) {
        const char *k = key_text(c, n, i);
        const yaml_node_t *kn = pair_key(c, n, i);
        const yaml_node_t *vn = pair_value(c, n, i);
        if (strcmp(k, "size") == 0) {
            size_n = vn;
            continue;
        }
        if (is_input) {
            if (strcmp(k, "channels") == 0 || strcmp(k, "image_dim") == 0)
                return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(kn), where, k,
                                "image inputs are not supported by libbtsp (give the flat size)");
            if (strcmp(k, "output_pop") == 0 || strcmp(k, "population_type") == 0) {
                /* harmless when false / default */
                if (strcmp(k, "output_pop") == 0) {
                    int b = 0;
                    st = get_bool(c, vn, where, k, &b);
                    if (st)
                        return st;
                    if (b)
                        return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, k,
                                        "the input population cannot be the output population");
                }
                continue;
            }
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(kn), where, k,
                            "not allowed on the input population (EIANN ignores it; the input population only "
                            "has a size)");
        }
        if (strcmp(k, "activation") == 0) {
            act_n = vn;
        } else if (strcmp(k, "activation_kwargs") == 0) {
            actkw_n = vn;
        } else if (strcmp(k, "tau") == 0) {
            int tnull;
            st = get_number(c, vn, where, k, 1, &tnull, &p->tau);
            if (st)
                return st;
            p->has_tau = !tnull;
            p->tau_mark = mark_of(vn);
        } else if (strcmp(k, "include_bias") == 0) {
            st = get_bool(c, vn, where, k, &include_bias);
            if (st)
                return st;
            incl_n = vn;
            include_given = 1;
        } else if (strcmp(k, "bias_init") == 0) {
            binit_n = vn;
        } else if (strcmp(k, "bias_init_args") == 0) {
            bargs_n = vn;
        } else if (strcmp(k, "bias") == 0) {
            bias_n = vn;
        } else if (strcmp(k, "bias_bounds") == 0) {
            if (resolve(vn).k != V_NULL) {
                st = get_bounds(c, vn, where, k, &p->bias_lo, &p->bias_hi);
                if (st)
                    return st;
                p->has_bias_bounds = 1;
                p->bias_bounds_mark = mark_of(vn);
                bbounds_n = vn;
            }
        } else if (strcmp(k, "bias_learning_rule") == 0) {
            brule_n = vn;
        } else if (strcmp(k, "bias_learning_rule_kwargs") == 0) {
            brulekw_n = vn;
        } else if (strcmp(k, "output_pop") == 0) {
            st = get_bool(c, vn, where, k, &p->output_flag);
            if (st)
                return st;
            p->output_mark = mark_of(vn);
        } else if (strcmp(k, "population_type") == 0) {
            continue; /* checked above */
        } else if (strcmp(k, "custom_update") == 0 || strcmp(k, "custom_update_kwargs") == 0) {
            if (!is_empty_map(vn))
                return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(vn), where, k,
                                "custom population updates are not supported (EIANN does not implement them "
                                "either)");
        } else {
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(kn), where, k, "unknown population key");
        }
    }
    if (!size_n)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(n), where, "size", "missing (every population needs a size)");
    {
        cval v = resolve(size_n);
        if (v.k == V_NUM && v.is_int && v.num <= 0)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(size_n), where, "size", "must be positive, got %s",
                            node_text(size_n));
        double sz;
        st = get_int(c, size_n, where, "size", 1, CFG_SIZE_MAX, &sz);
        if (st)
            return st;
        p->size = (size_t)sz;
    }
    if (is_input)
        return BTSP_OK;
    st = parse_activation(c, p, act_n, actkw_n, where);
    if (st)
        return st;

    /* bias */
    if (bias_n && (binit_n || bargs_n))
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(bias_n), where, "bias",
                        "give either 'bias' or bias_init/bias_init_args, not both");
    if (bias_n) {
        st = parse_bias_shorthand(c, p, bias_n, where);
        if (st)
            return st;
        if (include_given && !include_bias)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(incl_n), where, "include_bias",
                            "false contradicts the 'bias' distribution given");
        include_bias = 1;
    } else {
        const char *bname = NULL;
        if (binit_n) {
            st = get_string(c, binit_n, where, "bias_init", 1, &bname);
            if (st)
                return st;
        }
        if (bname) {
            if (strcmp(bname, "clone") == 0 || strcmp(bname, "clone_weight") == 0)
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(binit_n), where, "bias_init",
                                "'%s' is not a bias initialisation", bname);
            st = parse_init(c, bname, binit_n, bargs_n, where, "bias_init_args", &p->bias_init, &p->bias_a,
                            &p->bias_b);
            if (st)
                return st;
            p->has_bias_init = 1;
            p->bias_init_mark = mark_of(binit_n);
        } else if (bargs_n && resolve(bargs_n).k != V_NULL) {
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(bargs_n), where, "bias_init_args",
                            "given without bias_init");
        }
    }
    st = parse_rule(c, &p->bias_rule, brule_n, brulekw_n, 1, where, "bias_learning_rule",
                    "bias_learning_rule_kwargs", mark_of(n));
    if (st)
        return st;
    if (p->bias_rule.cls)
        include_bias = 1; /* as in EIANN: a bias rule forces a bias */
    p->include_bias = include_bias;
    if (!include_bias) {
        const yaml_node_t *bad = p->has_bias_init ? binit_n : bbounds_n;
        const char *bk = p->has_bias_init ? "bias_init" : "bias_bounds";
        if (bad)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(bad), where, bk,
                            "the population has no bias (set include_bias: true); EIANN would ignore this");
    }
    return BTSP_OK;
}

static btsp_status parse_layers(cfg_ctx *c, const yaml_node_t *lc)
{
    btsp_status st = check_map(c, lc, "layer_config", NULL, 0, NULL);
    if (st)
        return st;
    size_t nl = map_len(lc);
    if (nl < 2)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(lc), "layer_config", NULL,
                        "needs at least two layers (input and output), got %zu", nl);
    size_t np = 0;
    for (size_t i = 0; i < nl; i++) {
        const yaml_node_t *kn = pair_key(c, lc, i);
        const yaml_node_t *vn = pair_value(c, lc, i);
        char where[CFG_WHERE_MAX];
        snprintf(where, sizeof where, "layer %s", (const char *)kn->data.scalar.value);
        st = check_name(c, kn, "layer_config", "layer");
        if (st)
            return st;
        st = check_map(c, vn, where, NULL, 0, NULL);
        if (st)
            return st;
        if (map_len(vn) == 0)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, NULL, "layer has no populations");
        np += map_len(vn);
    }
    c->layers = cfg_calloc(c, nl, sizeof *c->layers);
    c->pops = cfg_calloc(c, np, sizeof *c->pops);
    if (!c->layers || !c->pops)
        return cfg_nomem(c);
    c->n_layers = nl;
    size_t pi = 0;
    for (size_t i = 0; i < nl; i++) {
        const yaml_node_t *vn = pair_value(c, lc, i);
        cfg_layer *L = &c->layers[i];
        L->name = key_text(c, lc, i);
        L->mark = mark_of(pair_key(c, lc, i));
        L->first_pop = pi;
        L->n_pops = map_len(vn);
        for (size_t j = 0; j < L->n_pops; j++) {
            const yaml_node_t *pk = pair_key(c, vn, j);
            char where[CFG_WHERE_MAX];
            snprintf(where, sizeof where, "layer %s", L->name);
            st = check_name(c, pk, where, "population");
            if (st)
                return st;
            cfg_pop *p = &c->pops[pi];
            p->name = key_text(c, vn, j);
            p->layer = i;
            p->mark = mark_of(pk);
            c->n_pops = pi + 1;
            st = parse_pop(c, pi, pair_value(c, vn, j), pi == 0);
            if (st)
                return st;
            pi++;
        }
    }
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Layer 1: projection_config                                                                  */

static btsp_status parse_clone_kwargs(cfg_ctx *c, cfg_proj *p, const yaml_node_t *kw, const char *where,
                                      const char *key)
{
    int isnull;
    btsp_status st = check_map(c, kw, where, key, 1, &isnull);
    if (st)
        return st;
    double sign = 1.0, scale = 1.0;
    int transpose = 0;
    size_t len = isnull ? 0 : map_len(kw);
    for (size_t i = 0; i < len; i++) {
        const char *k = key_text(c, kw, i);
        const yaml_node_t *vn = pair_value(c, kw, i);
        if (strcmp(k, "source") == 0) {
            st = get_string(c, vn, where, k, 0, &p->clone_source);
            if (st)
                return st;
            p->clone_mark = mark_of(vn);
        } else if (strcmp(k, "sign") == 0) {
            st = get_number(c, vn, where, k, 0, NULL, &sign);
        } else if (strcmp(k, "scale") == 0) {
            st = get_number(c, vn, where, k, 0, NULL, &scale);
        } else if (strcmp(k, "transpose") == 0) {
            st = get_bool(c, vn, where, k, &transpose);
        } else if (strcmp(k, "source2") == 0) {
            if (resolve(vn).k != V_NULL)
                return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(vn), where, k,
                                "clone_weight with a second source (element-wise product) is not supported");
        } else {
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, kw, i)), where, k,
                            "clone_weight has no kwarg '%s' (accepted: source, sign, scale, transpose, source2)",
                            k);
        }
        if (st)
            return st;
    }
    if (!p->clone_source)
        return cfg_fail(c, BTSP_E_FORMAT, p->constraint_mark, where, key, "clone_weight needs a 'source'");
    p->constraint = CON_CLONE;
    p->clone_scale = sign * scale;
    p->clone_transpose = transpose;
    return BTSP_OK;
}

static btsp_status parse_constraint(cfg_ctx *c, cfg_proj *p, const yaml_node_t *cn, const yaml_node_t *kw,
                                    const char *where)
{
    const char *name = NULL;
    btsp_status st;
    if (cn) {
        st = get_string(c, cn, where, "weight_constraint", 1, &name);
        if (st)
            return st;
    }
    if (!name) {
        if (kw && !is_empty_map(kw))
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(kw), where, "weight_constraint_kwargs",
                            "given without weight_constraint");
        return BTSP_OK;
    }
    if (p->constraint == CON_CLONE)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(cn), where, "weight_constraint",
                        "cannot be combined with weight_init: clone");
    p->constraint_mark = mark_of(cn);
    if (strcmp(name, "clone_weight") == 0)
        return parse_clone_kwargs(c, p, kw, where, "weight_constraint_kwargs");
    if (strcmp(name, "receptive_field_mask") == 0)
        return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(cn), where, "weight_constraint",
                        "receptive_field_mask is not supported in this version of libbtsp");
    int isnull = 1;
    if (kw) {
        st = check_map(c, kw, where, "weight_constraint_kwargs", 1, &isnull);
        if (st)
            return st;
    }
    size_t len = isnull ? 0 : map_len(kw);
    if (strcmp(name, "no_autapses") == 0) {
        if (len)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, kw, 0)), where, key_text(c, kw, 0),
                            "no_autapses takes no kwargs");
        if (p->pre != p->post)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(cn), where, "weight_constraint",
                            "no_autapses between two different populations does nothing");
        p->constraint = CON_NO_AUTAPSES;
        return BTSP_OK;
    }
    if (strcmp(name, "normalize_weight") == 0) {
        int has_scale = 0;
        p->norm_autapses = 0;
        for (size_t i = 0; i < len; i++) {
            const char *k = key_text(c, kw, i);
            const yaml_node_t *vn = pair_value(c, kw, i);
            if (strcmp(k, "scale") == 0) {
                st = get_number(c, vn, where, k, 0, NULL, &p->norm_scale);
                has_scale = 1;
            } else if (strcmp(k, "autapses") == 0) {
                st = get_bool(c, vn, where, k, &p->norm_autapses);
            } else if (strcmp(k, "axis") == 0) {
                double ax;
                st = get_int(c, vn, where, k, -1e9, 1e9, &ax);
                if (!st && ax != 1.0)
                    return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(vn), where, k,
                                    "only axis 1 (normalise each post unit's row) is supported");
            } else {
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, kw, i)), where, k,
                                "normalize_weight has no kwarg '%s' (accepted: scale, autapses, axis)", k);
            }
            if (st)
                return st;
        }
        if (!has_scale)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(cn), where, "weight_constraint_kwargs",
                            "normalize_weight needs a 'scale'");
        p->constraint = CON_NORMALIZE;
        return BTSP_OK;
    }
    return cfg_fail(c, BTSP_E_FORMAT, mark_of(cn), where, "weight_constraint", "unknown weight_constraint '%s'",
                    name);
}

/* A YAML keyword and the enum value it stands for. */
typedef struct keyword {
    const char *word;
    int value;
} keyword;

/* 1 and *value if `s` is one of the words, else 0. */
static int match_keyword(const char *s, const keyword *k, size_t n, int *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, k[i].word) == 0) {
            *value = k[i].value;
            return 1;
        }
    return 0;
}

static btsp_status parse_proj_attrs(cfg_ctx *c, cfg_proj *p, const yaml_node_t *n, int simplified)
{
    char where[CFG_WHERE_MAX];
    int isnull;
    btsp_status st;
    where_proj(c, p, where);
    p->dir = BTSP_DIR_FORWARD;
    p->phase = BTSP_PHASE_FORWARD;
    p->comp = BTSP_SOMA;
    p->init = BTSP_INIT_DEFAULT_LINEAR;
    st = check_map(c, n, where, NULL, 1, &isnull);
    if (st)
        return st;
    const yaml_node_t *init_n = NULL, *args_n = NULL, *bounds_n = NULL, *type_n = NULL, *con_n = NULL,
                      *conkw_n = NULL, *rule_n = NULL, *rulekw_n = NULL;
    size_t len = isnull ? 0 : map_len(n);
    for (size_t i = 0; i < len; i++) {
        const char *k = key_text(c, n, i);
        const yaml_node_t *vn = pair_value(c, n, i);
        const char *s = NULL;
        if (strcmp(k, "weight_init") == 0) {
            init_n = vn;
        } else if (strcmp(k, "weight_init_args") == 0) {
            args_n = vn;
        } else if (strcmp(k, "weight_bounds") == 0) {
            bounds_n = vn;
        } else if (strcmp(k, "type") == 0 && simplified) {
            type_n = vn;
        } else if (strcmp(k, "weight_constraint") == 0) {
            con_n = vn;
        } else if (strcmp(k, "weight_constraint_kwargs") == 0) {
            conkw_n = vn;
        } else if (strcmp(k, "learning_rule") == 0) {
            rule_n = vn;
        } else if (strcmp(k, "learning_rule_kwargs") == 0) {
            rulekw_n = vn;
        } else if (strcmp(k, "direction") == 0) {
            st = get_string(c, vn, where, k, 0, &s);
            if (st)
                return st;
            static const keyword dirs[] = {{"F", BTSP_DIR_FORWARD}, {"forward", BTSP_DIR_FORWARD},
                                           {"R", BTSP_DIR_RECURRENT}, {"recurrent", BTSP_DIR_RECURRENT}};
            int v;
            if (match_keyword(s, dirs, ARRAY_LEN(dirs), &v))
                p->dir = (btsp_direction)v;
            else
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, k,
                                "direction '%s' must be F, forward, R or recurrent", s);
        } else if (strcmp(k, "update_phase") == 0) {
            st = get_string(c, vn, where, k, 0, &s);
            if (st)
                return st;
            static const keyword phases[] = {{"F", BTSP_PHASE_FORWARD},  {"forward", BTSP_PHASE_FORWARD},
                                             {"B", BTSP_PHASE_BACKWARD}, {"backward", BTSP_PHASE_BACKWARD},
                                             {"A", BTSP_PHASE_ALL},      {"all", BTSP_PHASE_ALL}};
            int v;
            if (match_keyword(s, phases, ARRAY_LEN(phases), &v))
                p->phase = (btsp_phase)v;
            else
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, k,
                                "update_phase '%s' must be F, forward, B, backward, A or all", s);
        } else if (strcmp(k, "compartment") == 0) {
            st = get_string(c, vn, where, k, 1, &s);
            if (st)
                return st;
            if (!s || strcmp(s, "soma") == 0)
                p->comp = BTSP_SOMA;
            else if (strcmp(s, "dend") == 0)
                p->comp = BTSP_DEND;
            else if (strcmp(s, "dendrite") == 0)
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, k,
                                "'dendrite' is rejected: EIANN accepts it but never adds such a projection to "
                                "the dendritic state (only 'dend' is summed), so it would silently do nothing; "
                                "write 'dend'");
            else
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, k,
                                "compartment '%s' must be null, soma or dend", s);
        } else {
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, n, i)), where, k, "unknown projection key");
        }
    }

    /* bounds */
    if (bounds_n && type_n)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(type_n), where, "type", "cannot be combined with weight_bounds");
    if (bounds_n && resolve(bounds_n).k != V_NULL) {
        st = get_bounds(c, bounds_n, where, "weight_bounds", &p->lo, &p->hi);
        if (st)
            return st;
        p->has_bounds = 1;
        p->bounds_mark = mark_of(bounds_n);
    }
    if (type_n) {
        const char *t;
        st = get_string(c, type_n, where, "type", 0, &t);
        if (st)
            return st;
        static const char *const exc[] = {"e", "E", "exc", "Exc", "EXC", "excitatory", "Excitatory", NULL};
        static const char *const inh[] = {"i", "I", "inh", "Inh", "INH", "inhibitory", "Inhibitory", NULL};
        if (in_list(t, exc)) {
            p->lo = 0.0;
            p->hi = INFINITY;
        } else if (in_list(t, inh)) {
            p->lo = -INFINITY;
            p->hi = 0.0;
        } else {
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(type_n), where, "type",
                            "type '%s' must be E/exc/excitatory or I/inh/inhibitory", t);
        }
        p->has_bounds = 1;
        p->bounds_mark = mark_of(type_n);
    }

    /* initialisation */
    const char *iname = NULL;
    if (init_n) {
        st = get_string(c, init_n, where, "weight_init", 1, &iname);
        if (st)
            return st;
    }
    if (!iname) {
        if (args_n && resolve(args_n).k != V_NULL)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(args_n), where, "weight_init_args",
                            "given without weight_init (EIANN rejects this too)");
    } else if (strcmp(iname, "clone") == 0 || strcmp(iname, "clone_weight") == 0) {
        p->init = BTSP_INIT_NONE;
        p->init_mark = mark_of(init_n);
        p->constraint_mark = mark_of(init_n);
        if (!args_n)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(init_n), where, "weight_init_args",
                            "weight_init '%s' needs the clone_weight kwargs (source, ...) as weight_init_args",
                            iname);
        st = parse_clone_kwargs(c, p, args_n, where, "weight_init_args");
        if (st)
            return st;
    } else {
        p->init_mark = mark_of(init_n);
        st = parse_init(c, iname, init_n, args_n, where, "weight_init_args", &p->init, &p->init_a, &p->init_b);
        if (st)
            return st;
        if (p->init == BTSP_INIT_HALF_KAIMING && !(p->has_bounds && (p->lo >= 0.0 || p->hi <= 0.0)))
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(init_n), where, "weight_init",
                            "half_kaiming needs weight_bounds with lower bound >= 0 or upper bound <= 0");
    }

    st = parse_constraint(c, p, con_n, conkw_n, where);
    if (st)
        return st;
    return parse_rule(c, &p->rule, rule_n, rulekw_n, 0, where, "learning_rule", "learning_rule_kwargs", p->mark);
}

/* Append a projection post <- pre and parse its attributes. */
static btsp_status add_proj(cfg_ctx *c, size_t post, size_t pre, const yaml_node_t *key_node,
                            const yaml_node_t *attrs, int simplified)
{
    char where[CFG_WHERE_MAX];
    if (c->n_projs >= c->cap_projs)
        return cfg_fail(c, BTSP_E_INTERNAL, mark_of(key_node), NULL, NULL, "projection count mismatch");
    cfg_proj *p = &c->projs[c->n_projs];
    memset(p, 0, sizeof *p);
    p->post = post;
    p->pre = pre;
    p->mark = mark_of(key_node);
    where_proj(c, p, where);
    if (post == 0)
        return cfg_fail(c, BTSP_E_FORMAT, p->mark, where, NULL, "the input population cannot receive projections");
    for (size_t i = 0; i < c->n_projs; i++) {
        if (c->projs[i].post == post && c->projs[i].pre == pre)
            return cfg_fail(c, BTSP_E_FORMAT, p->mark, where, NULL, "duplicate projection (first at line %lu)",
                            c->projs[i].mark.line);
    }
    c->n_projs++;
    return parse_proj_attrs(c, p, attrs, simplified);
}

static int key_has_dot(const cfg_ctx *c, const yaml_node_t *m, size_t i)
{
    const yaml_node_t *k = pair_key(c, m, i);
    return k->type == YAML_SCALAR_NODE && strchr((const char *)k->data.scalar.value, '.') != NULL;
}

static btsp_status parse_projections(cfg_ctx *c, const yaml_node_t *pc)
{
    btsp_status st = check_map(c, pc, "projection_config", NULL, 1, NULL);
    if (st)
        return st;
    size_t nk = map_len(pc);
    /* counting pass (shape errors are reported by the filling pass) */
    size_t count = 0;
    for (size_t i = 0; i < nk; i++) {
        const yaml_node_t *v = pair_value(c, pc, i);
        if (key_has_dot(c, pc, i)) {
            count += map_len(v);
            continue;
        }
        for (size_t j = 0; j < map_len(v); j++) {
            const yaml_node_t *v2 = pair_value(c, v, j);
            for (size_t l = 0; l < map_len(v2); l++)
                count += map_len(pair_value(c, v2, l));
        }
    }
    c->projs = cfg_calloc(c, count, sizeof *c->projs);
    if (!c->projs)
        return cfg_nomem(c);
    c->cap_projs = count;
    for (size_t i = 0; i < nk; i++) {
        const yaml_node_t *k = pair_key(c, pc, i);
        const yaml_node_t *v = pair_value(c, pc, i);
        const char *ks = (const char *)k->data.scalar.value;
        char where[CFG_WHERE_MAX];
        size_t post, pre, layer;
        if (key_has_dot(c, pc, i)) { /* simplified form */
            if (!find_pop_dotted(c, ks, &post))
                return pop_ref_fail(c, k, "projection_config", ks);
            snprintf(where, sizeof where, "projection_config %s", ks);
            st = check_map(c, v, where, NULL, 0, NULL);
            if (st)
                return st;
            for (size_t j = 0; j < map_len(v); j++) {
                const yaml_node_t *k2 = pair_key(c, v, j);
                const char *ps = (const char *)k2->data.scalar.value;
                if (!find_pop_dotted(c, ps, &pre))
                    return pop_ref_fail(c, k2, where, ps);
                st = add_proj(c, post, pre, k2, pair_value(c, v, j), 1);
                if (st)
                    return st;
            }
            continue;
        }
        if (!find_layer(c, ks, strlen(ks), &layer))
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), "projection_config", NULL,
                            "unknown layer '%s' (not in layer_config)", ks);
        snprintf(where, sizeof where, "projection_config %s", ks);
        st = check_map(c, v, where, NULL, 0, NULL);
        if (st)
            return st;
        for (size_t j = 0; j < map_len(v); j++) {
            const yaml_node_t *k2 = pair_key(c, v, j);
            const yaml_node_t *v2 = pair_value(c, v, j);
            const char *s2 = (const char *)k2->data.scalar.value;
            if (!find_pop_in_layer(c, layer, s2, strlen(s2), &post))
                return cfg_fail(c, BTSP_E_FORMAT, mark_of(k2), where, NULL, "layer '%s' has no population '%s'",
                                ks, s2);
            snprintf(where, sizeof where, "projection_config %s.%s", ks, s2);
            st = check_map(c, v2, where, NULL, 0, NULL);
            if (st)
                return st;
            for (size_t l = 0; l < map_len(v2); l++) {
                const yaml_node_t *k3 = pair_key(c, v2, l);
                const yaml_node_t *v3 = pair_value(c, v2, l);
                const char *s3 = (const char *)k3->data.scalar.value;
                size_t prelayer;
                if (!find_layer(c, s3, strlen(s3), &prelayer))
                    return cfg_fail(c, BTSP_E_FORMAT, mark_of(k3), where, NULL,
                                    "unknown layer '%s' (not in layer_config)", s3);
                st = check_map(c, v3, where, NULL, 0, NULL);
                if (st)
                    return st;
                for (size_t m = 0; m < map_len(v3); m++) {
                    const yaml_node_t *k4 = pair_key(c, v3, m);
                    const char *s4 = (const char *)k4->data.scalar.value;
                    if (!find_pop_in_layer(c, prelayer, s4, strlen(s4), &pre))
                        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k4), where, NULL,
                                        "layer '%s' has no population '%s'", s3, s4);
                    st = add_proj(c, post, pre, k4, pair_value(c, v3, m), 0);
                    if (st)
                        return st;
                }
            }
        }
    }
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Layer 1: training_kwargs                                                                    */

static btsp_status parse_training(cfg_ctx *c, const yaml_node_t *tk)
{
    const char *where = "training_kwargs";
    int isnull;
    btsp_status st = check_map(c, tk, where, NULL, 1, &isnull);
    if (st)
        return st;
    cfg_train *t = &c->train;
    size_t len = isnull ? 0 : map_len(tk);
    for (size_t i = 0; i < len; i++) {
        const char *k = key_text(c, tk, i);
        const yaml_node_t *vn = pair_value(c, tk, i);
        const char *s;
        int vnull = 0;
        if (strcmp(k, "tau") == 0) {
            st = get_number(c, vn, where, k, 0, NULL, &t->tau);
            t->has_tau = 1;
            t->tau_mark = mark_of(vn);
        } else if (strcmp(k, "forward_steps") == 0) {
            st = get_int(c, vn, where, k, 0, 1e9, &t->fsteps);
            t->has_fsteps = 1;
            t->fsteps_mark = mark_of(vn);
        } else if (strcmp(k, "backward_steps") == 0) {
            st = get_int(c, vn, where, k, 0, 1e9, &t->bsteps);
            t->has_bsteps = 1;
            t->bsteps_mark = mark_of(vn);
        } else if (strcmp(k, "learning_rate") == 0) {
            st = get_number(c, vn, where, k, 1, &vnull, &t->lr);
            t->has_lr = !vnull;
            t->lr_mark = mark_of(vn);
        } else if (strcmp(k, "optimizer") == 0) {
            st = get_string(c, vn, where, k, 1, &s);
            if (!st && s && strcmp(s, "SGD") != 0)
                return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(vn), where, k,
                                "optimizer '%s' is not supported (libbtsp uses plain SGD)", s);
        } else if (strcmp(k, "optimizer_kwargs") == 0 || strcmp(k, "criterion_kwargs") == 0) {
            st = check_map(c, vn, where, k, 1, NULL);
            if (!st && !is_empty_map(vn))
                return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(vn), where, k, "non-empty %s are not supported", k);
        } else if (strcmp(k, "criterion") == 0) {
            st = get_string(c, vn, where, k, 1, &s);
            if (!st && s && strcmp(s, "MSELoss") != 0)
                return cfg_fail(c, BTSP_E_UNSUPPORTED, mark_of(vn), where, k,
                                "criterion '%s' is not supported (libbtsp uses MSELoss)", s);
        } else if (strcmp(k, "seed") == 0 || strcmp(k, "device") == 0 || strcmp(k, "verbose") == 0) {
            /* accepted and ignored: the seed comes from btsp_net_seed(), there is one device */
            cval v = resolve(vn);
            if (v.k == V_BAD)
                return type_fail(c, vn, where, k, "a plain value");
        } else {
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, tk, i)), where, k, "unknown training_kwargs key");
        }
        if (st)
            return st;
    }
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Layer 1: plan (clones, output population, gates, backward mode)                             */

static void proj_name(const cfg_ctx *c, const cfg_proj *p, char *buf, size_t len)
{
    const cfg_pop *a = &c->pops[p->post], *b = &c->pops[p->pre];
    snprintf(buf, len, "%s%s_%s%s", c->layers[a->layer].name, a->name, c->layers[b->layer].name, b->name);
}

static btsp_status resolve_clone(cfg_ctx *c, size_t idx)
{
    cfg_proj *p = &c->projs[idx];
    char where[CFG_WHERE_MAX];
    const char *src = p->clone_source;
    size_t found = (size_t)-1;
    where_proj(c, p, where);
    /* "PostLayer.PostPop.PreLayer.PrePop" */
    const char *d1 = strchr(src, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    const char *d3 = d2 ? strchr(d2 + 1, '.') : NULL;
    if (d3 && !strchr(d3 + 1, '.')) {
        size_t l1, l2, post, pre;
        if (find_layer(c, src, (size_t)(d1 - src), &l1) &&
            find_pop_in_layer(c, l1, d1 + 1, (size_t)(d2 - d1 - 1), &post) &&
            find_layer(c, d2 + 1, (size_t)(d3 - d2 - 1), &l2) &&
            find_pop_in_layer(c, l2, d3 + 1, strlen(d3 + 1), &pre)) {
            for (size_t i = 0; i < c->n_projs; i++)
                if (c->projs[i].post == post && c->projs[i].pre == pre)
                    found = i;
        }
    } else if (!d1) { /* a projection name such as H2E_H1E */
        char name[2 * CFG_NAME_MAX * 2 + 8];
        for (size_t i = 0; i < c->n_projs; i++) {
            proj_name(c, &c->projs[i], name, sizeof name);
            if (strcmp(name, src) == 0)
                found = i;
        }
    }
    if (found == (size_t)-1)
        return cfg_fail(c, BTSP_E_FORMAT, p->clone_mark, where, "source",
                        "clone source '%s' does not exist (expected PostLayer.PostPop.PreLayer.PrePop of a "
                        "projection in projection_config)",
                        src);
    if (found == idx)
        return cfg_fail(c, BTSP_E_FORMAT, p->clone_mark, where, "source", "a projection cannot clone itself");
    const cfg_proj *s = &c->projs[found];
    size_t rows = c->pops[s->post].size, cols = c->pops[s->pre].size;
    if (p->clone_transpose) {
        size_t t = rows;
        rows = cols;
        cols = t;
    }
    if (rows != c->pops[p->post].size || cols != c->pops[p->pre].size)
        return cfg_fail(c, BTSP_E_FORMAT, p->clone_mark, where, "source",
                        "shape of clone source '%s'%s is %zu x %zu, this projection is %zu x %zu", src,
                        p->clone_transpose ? " (transposed)" : "", rows, cols, c->pops[p->post].size,
                        c->pops[p->pre].size);
    if (p->rule.cls)
        return cfg_fail(c, BTSP_E_FORMAT, p->rule.mark, where, "learning_rule",
                        "a cloned projection cannot learn (an absent learning_rule means Backprop; write "
                        "learning_rule: null)");
    p->clone_src = found;
    return BTSP_OK;
}

static const char *mode_text(btsp_backward_mode m)
{
    switch (m) {
    case BTSP_BACKWARD_SETTLE: return "a settling backward phase";
    case BTSP_BACKWARD_SINGLE: return "a single-pass backward phase";
    case BTSP_BACKWARD_OUTPUT_ONLY: return "an output-only backward phase";
    default: return "no backward phase";
    }
}

static btsp_status plan(cfg_ctx *c)
{
    btsp_status st;
    char where[CFG_WHERE_MAX];
    /* output population */
    size_t flagged = (size_t)-1;
    for (size_t i = 0; i < c->n_pops; i++) {
        if (!c->pops[i].output_flag)
            continue;
        if (flagged != (size_t)-1) {
            where_pop(c, i, where);
            return cfg_fail(c, BTSP_E_FORMAT, c->pops[i].output_mark, where, "output_pop",
                            "more than one population has output_pop: true (first: %s.%s)",
                            c->layers[c->pops[flagged].layer].name, c->pops[flagged].name);
        }
        flagged = i;
    }
    c->output = flagged != (size_t)-1 ? flagged : c->layers[c->n_layers - 1].first_pop;

    for (size_t i = 0; i < c->n_projs; i++) {
        if (c->projs[i].comp == BTSP_DEND)
            c->pops[c->projs[i].post].has_dend = 1;
        if (c->projs[i].constraint == CON_CLONE) {
            st = resolve_clone(c, i);
            if (st)
                return st;
        }
    }

    /* backward mode */
    const cfg_proj *mode_proj = NULL;
    c->mode = BTSP_BACKWARD_NONE;
    for (size_t i = 0; i < c->n_projs; i++) {
        const cfg_proj *p = &c->projs[i];
        if (!p->rule.cls || p->rule.cls->mode == BTSP_BACKWARD_NONE)
            continue;
        if (!mode_proj) {
            mode_proj = p;
            c->mode = p->rule.cls->mode;
        } else if (p->rule.cls->mode != c->mode) {
            where_proj(c, p, where);
            return cfg_fail(c, BTSP_E_FORMAT, p->rule.mark, where, "learning_rule",
                            "rule '%s' needs %s but rule '%s' (line %lu) needs %s; one network has one backward "
                            "mode",
                            p->rule.cls->name, mode_text(p->rule.cls->mode), mode_proj->rule.cls->name,
                            mode_proj->rule.mark.line, mode_text(c->mode));
        }
    }

    /* gates: per post population, the first plateau projection in EIANN's iteration order
     * (grouped by presynaptic layer in order of first appearance, then file order) */
    for (size_t pi = 0; pi < c->n_pops; pi++) {
        cfg_pop *pop = &c->pops[pi];
        const cfg_proj *first = NULL;
        size_t first_idx = 0;
        for (size_t i = 0; i < c->n_projs && !first; i++) {
            const cfg_proj *a = &c->projs[i];
            if (a->post != pi)
                continue;
            size_t layer = c->pops[a->pre].layer;
            int seen = 0; /* this pre layer was handled by an earlier projection into pi */
            for (size_t j = 0; j < i; j++)
                if (c->projs[j].post == pi && c->pops[c->projs[j].pre].layer == layer)
                    seen = 1;
            if (seen)
                continue;
            for (size_t j = i; j < c->n_projs; j++) {
                const cfg_proj *b = &c->projs[j];
                if (b->post == pi && c->pops[b->pre].layer == layer && b->rule.cls && b->rule.cls->plateau) {
                    first = b;
                    first_idx = j;
                    break;
                }
            }
        }
        if (!first)
            continue;
        const rule_class *cls = first->rule.cls;
        for (size_t i = 0; i < c->n_projs; i++) {
            const cfg_proj *b = &c->projs[i];
            if (b->post == pi && b->rule.cls && b->rule.cls->plateau && b->rule.cls != cls) {
                where_proj(c, b, where);
                return cfg_fail(c, BTSP_E_FORMAT, b->rule.mark, where, "learning_rule",
                                "population %s.%s receives plateau-selecting rules of two classes ('%s' and "
                                "'%s'); not supported",
                                c->layers[pop->layer].name, pop->name, cls->name, b->rule.cls->name);
            }
        }
        where_proj(c, first, where);
        for (int g = 0; g < 4; g++)
            pop->gate_param[g] = cls->gate_default[g];
        static const int gp[4] = {P_MPF, P_STOCH, P_NRT, P_RELU};
        for (int g = 0; g < 4; g++)
            if (first->rule.given & PB(gp[g]))
                pop->gate_param[g] = first->rule.v[gp[g]];
        pop->gate_proj = first_idx;
        if (pi == c->output) {
            pop->gate = BTSP_GATE_TARGET;
        } else if (cls->plateau == PLATEAU_OUTPUT_ONLY) {
            return cfg_fail(c, BTSP_E_FORMAT, first->rule.mark, where, "learning_rule",
                            "'%s' only teaches the output population (%s.%s); EIANN would give this population no "
                            "plateaus",
                            cls->name, c->layers[c->pops[c->output].layer].name, c->pops[c->output].name);
        } else {
            if (!pop->has_dend)
                return cfg_fail(c, BTSP_E_FORMAT, first->rule.mark, where, "learning_rule",
                                "rule '%s' selects plateaus from the dendritic state of %s.%s, but no projection "
                                "targets its dendrite (compartment: dend)",
                                cls->name, c->layers[pop->layer].name, pop->name);
            pop->gate = BTSP_GATE_DENDRITIC;
        }
    }
    return BTSP_OK;
}

static btsp_status parse_root(cfg_ctx *c, const yaml_node_t *root)
{
    btsp_status st = check_map(c, root, "top level", NULL, 0, NULL);
    if (st)
        return st;
    const yaml_node_t *lc = NULL, *pc = NULL, *tk = NULL;
    for (size_t i = 0; i < map_len(root); i++) {
        const char *k = key_text(c, root, i);
        if (strcmp(k, "layer_config") == 0)
            lc = pair_value(c, root, i);
        else if (strcmp(k, "projection_config") == 0)
            pc = pair_value(c, root, i);
        else if (strcmp(k, "training_kwargs") == 0)
            tk = pair_value(c, root, i);
        else
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, root, i)), NULL, k,
                            "unknown top-level key (expected layer_config, projection_config, training_kwargs)");
    }
    if (!lc)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(root), NULL, "layer_config", "missing");
    if (!pc)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(root), NULL, "projection_config", "missing");
    st = parse_layers(c, lc);
    if (!st)
        st = parse_projections(c, pc);
    if (!st && tk)
        st = parse_training(c, tk);
    if (!st)
        st = plan(c);
    return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Layer 2: description -> btsp_* calls                                                        */

/* Report a failed btsp_* call with the library's own message. */
static btsp_status api_fail(cfg_ctx *c, btsp_net *net, btsp_status st, cfg_mark m, const char *where,
                            const char *key, const char *call)
{
    const char *em = net ? btsp_net_errmsg(net) : "";
    if (st == BTSP_E_NOMEM)
        return cfg_fail(c, st, m, where, key, "%s: out of memory", call);
    return cfg_fail(c, st, m, where, key, "%s failed: %s%s%s", call, btsp_status_name(st), em && em[0] ? ": " : "",
                    em ? em : "");
}

static btsp_status build_rule(cfg_ctx *c, btsp_net *net, const cfg_rule *r, const char *where,
                              const char *rule_key, const char *kw_key, btsp_rule **out)
{
    btsp_rule_kind kind;
    btsp_status st = btsp_rule_kind_from_name(r->cls->kind_name, &kind);
    *out = NULL;
    if (st == BTSP_E_NOT_FOUND)
        return cfg_fail(c, BTSP_E_UNSUPPORTED, r->mark, where, rule_key,
                        "rule '%s' is not implemented in this version of libbtsp", r->cls->name);
    if (st)
        return api_fail(c, net, st, r->mark, where, rule_key, "btsp_rule_kind_from_name");
    st = btsp_rule_create(net, kind, out);
    if (st == BTSP_E_UNSUPPORTED)
        return cfg_fail(c, BTSP_E_UNSUPPORTED, r->mark, where, rule_key,
                        "rule '%s' is not implemented in this version of libbtsp", r->cls->name);
    if (st)
        return api_fail(c, net, st, r->mark, where, rule_key, "btsp_rule_create");
    for (size_t t = 0; t < N_KWARGS; t++) {
        int p = kwarg_table[t].param;
        if (!(r->given & PB(p)))
            continue;
        if (r->cls->unmodelled & PB(p))
            return cfg_fail(c, BTSP_E_UNSUPPORTED, r->vmark[p], where, kwarg_table[t].name,
                            "kwarg '%s' of rule '%s' is accepted by EIANN but not modelled by libbtsp",
                            kwarg_table[t].name, r->cls->name);
        btsp_rule_param rp = rule_param_of(p);
        /* relu_gate configures the gate of the post population; Hebbian_Temporal_Contrast
         * also gates its own post-backward term with it */
        if (p == P_RELU && kind == BTSP_RULE_HEBB_TEMPORAL_CONTRAST)
            rp = BTSP_RULE_RELU_GATE;
        if (!rp || isnan(r->v[p]))
            continue; /* gate parameter, or null = default */
        st = btsp_rule_set(*out, rp, r->v[p]);
        if (st)
            return api_fail(c, net, st, r->vmark[p], where, kwarg_table[t].name, "btsp_rule_set");
    }
    if (r->source) {
        /* Backprop_DendriticLoss: the loss is the forward dendritic state of this population */
        size_t si = c->n_pops;
        for (size_t i = 0; i < c->n_pops && si == c->n_pops; i++) {
            const cfg_pop *q = &c->pops[i];
            const char *ln = c->layers[q->layer].name;
            size_t len = strlen(ln);
            if (strncmp(r->source, ln, len) == 0 && r->source[len] == '.' && strcmp(r->source + len + 1, q->name) == 0)
                si = i;
        }
        if (si == c->n_pops)
            return cfg_fail(c, BTSP_E_FORMAT, r->vmark[P_SOURCE], where, "source",
                            "population '%s' does not exist (expected Layer.Pop, e.g. H1.E)", r->source);
        if (!c->pops[si].has_dend)
            return cfg_fail(c, BTSP_E_FORMAT, r->vmark[P_SOURCE], where, "source",
                            "population '%s' has no dendritic state (no projection with compartment: dend targets "
                            "it)",
                            r->source);
        btsp_pop *src = NULL;
        st = btsp_net_find_pop(net, r->source, &src);
        if (!st)
            st = btsp_rule_set_source(*out, src);
        if (st)
            return api_fail(c, net, st, r->vmark[P_SOURCE], where, "source", "btsp_rule_set_source");
    }
    /* EIANN's forward_only defaults to false for every rule that has it; make that explicit */
    if ((r->cls->accepted & PB(P_FWD_ONLY)) && !(r->given & PB(P_FWD_ONLY))) {
        st = btsp_rule_set(*out, BTSP_RULE_FORWARD_ONLY, 0.0);
        if (st)
            return api_fail(c, net, st, r->mark, where, kw_key, "btsp_rule_set(BTSP_RULE_FORWARD_ONLY)");
    }
    return BTSP_OK;
}

static btsp_status build_net_params(cfg_ctx *c, btsp_net *net)
{
    const cfg_train *t = &c->train;
    const char *w = "training_kwargs";
    btsp_status st;
    if (t->has_tau && (st = btsp_net_set(net, BTSP_NET_TAU, t->tau)) != BTSP_OK)
        return api_fail(c, net, st, t->tau_mark, w, "tau", "btsp_net_set(BTSP_NET_TAU)");
    if (t->has_fsteps && (st = btsp_net_set(net, BTSP_NET_FORWARD_STEPS, t->fsteps)) != BTSP_OK)
        return api_fail(c, net, st, t->fsteps_mark, w, "forward_steps", "btsp_net_set(BTSP_NET_FORWARD_STEPS)");
    if (t->has_bsteps && (st = btsp_net_set(net, BTSP_NET_BACKWARD_STEPS, t->bsteps)) != BTSP_OK)
        return api_fail(c, net, st, t->bsteps_mark, w, "backward_steps", "btsp_net_set(BTSP_NET_BACKWARD_STEPS)");
    if (t->has_lr && (st = btsp_net_set(net, BTSP_NET_LEARNING_RATE, t->lr)) != BTSP_OK)
        return api_fail(c, net, st, t->lr_mark, w, "learning_rate", "btsp_net_set(BTSP_NET_LEARNING_RATE)");
    return BTSP_OK;
}

static btsp_status build_pops(cfg_ctx *c, btsp_net *net, btsp_pop **ph)
{
    btsp_status st;
    char where[CFG_WHERE_MAX];
    for (size_t li = 0; li < c->n_layers; li++) {
        const cfg_layer *L = &c->layers[li];
        btsp_layer *layer;
        st = btsp_layer_add(net, L->name, &layer);
        if (st)
            return api_fail(c, net, st, L->mark, "layer_config", NULL, "btsp_layer_add");
        for (size_t pi = L->first_pop; pi < L->first_pop + L->n_pops; pi++) {
            const cfg_pop *p = &c->pops[pi];
            where_pop(c, pi, where);
            st = btsp_pop_add(layer, p->name, p->size, &ph[pi]);
            if (st)
                return api_fail(c, net, st, p->mark, where, NULL, "btsp_pop_add");
            if (pi == 0)
                continue;
            if (p->act != BTSP_ACT_LINEAR &&
                (st = btsp_pop_set_activation(ph[pi], p->act, p->act_p0, p->act_p1)) != BTSP_OK)
                return api_fail(c, net, st, p->mark, where, "activation", "btsp_pop_set_activation");
            if (p->has_tau && (st = btsp_pop_set(ph[pi], BTSP_POP_TAU, p->tau)) != BTSP_OK)
                return api_fail(c, net, st, p->tau_mark, where, "tau", "btsp_pop_set(BTSP_POP_TAU)");
            if (p->include_bias && (st = btsp_pop_set(ph[pi], BTSP_POP_INCLUDE_BIAS, 1.0)) != BTSP_OK)
                return api_fail(c, net, st, p->mark, where, "include_bias", "btsp_pop_set(BTSP_POP_INCLUDE_BIAS)");
            if (p->has_bias_init &&
                (st = btsp_pop_set_bias_init(ph[pi], p->bias_init, p->bias_a, p->bias_b)) != BTSP_OK)
                return api_fail(c, net, st, p->bias_init_mark, where, "bias_init", "btsp_pop_set_bias_init");
            if (p->has_bias_bounds) {
                if ((st = btsp_pop_set(ph[pi], BTSP_POP_BIAS_LO, p->bias_lo)) != BTSP_OK)
                    return api_fail(c, net, st, p->bias_bounds_mark, where, "bias_bounds",
                                    "btsp_pop_set(BTSP_POP_BIAS_LO)");
                if ((st = btsp_pop_set(ph[pi], BTSP_POP_BIAS_HI, p->bias_hi)) != BTSP_OK)
                    return api_fail(c, net, st, p->bias_bounds_mark, where, "bias_bounds",
                                    "btsp_pop_set(BTSP_POP_BIAS_HI)");
            }
            if (p->bias_rule.cls) {
                btsp_rule *rule;
                st = build_rule(c, net, &p->bias_rule, where, "bias_learning_rule", "bias_learning_rule_kwargs",
                                &rule);
                if (st)
                    return st;
                if ((st = btsp_pop_set_bias_rule(ph[pi], rule)) != BTSP_OK)
                    return api_fail(c, net, st, p->bias_rule.mark, where, "bias_learning_rule",
                                    "btsp_pop_set_bias_rule");
            }
            if (p->output_flag && (st = btsp_pop_set(ph[pi], BTSP_POP_OUTPUT, 1.0)) != BTSP_OK)
                return api_fail(c, net, st, p->output_mark, where, "output_pop", "btsp_pop_set(BTSP_POP_OUTPUT)");
        }
    }
    return BTSP_OK;
}

static btsp_status build_projs(cfg_ctx *c, btsp_net *net, btsp_pop **ph, btsp_proj **jh)
{
    btsp_status st;
    char where[CFG_WHERE_MAX];
    for (size_t i = 0; i < c->n_projs; i++) {
        const cfg_proj *p = &c->projs[i];
        where_proj(c, p, where);
        st = btsp_proj_add(ph[p->pre], ph[p->post], p->comp, &jh[i]);
        if (st)
            return api_fail(c, net, st, p->mark, where, NULL, "btsp_proj_add");
        if (p->dir != BTSP_DIR_FORWARD && (st = btsp_proj_set_direction(jh[i], p->dir)) != BTSP_OK)
            return api_fail(c, net, st, p->mark, where, "direction", "btsp_proj_set_direction");
        if (p->phase != BTSP_PHASE_FORWARD && (st = btsp_proj_set_phase(jh[i], p->phase)) != BTSP_OK)
            return api_fail(c, net, st, p->mark, where, "update_phase", "btsp_proj_set_phase");
        if (p->has_bounds && (st = btsp_proj_set_bounds(jh[i], p->lo, p->hi)) != BTSP_OK)
            return api_fail(c, net, st, p->bounds_mark, where, "weight_bounds", "btsp_proj_set_bounds");
        if (p->init != BTSP_INIT_DEFAULT_LINEAR &&
            (st = btsp_proj_set_init(jh[i], p->init, p->init_a, p->init_b)) != BTSP_OK)
            return api_fail(c, net, st, p->init_mark, where, "weight_init", "btsp_proj_set_init");
        if (p->constraint == CON_NORMALIZE &&
            (st = btsp_proj_set_normalize(jh[i], p->norm_scale, p->norm_autapses)) != BTSP_OK)
            return api_fail(c, net, st, p->constraint_mark, where, "weight_constraint", "btsp_proj_set_normalize");
        if (p->constraint == CON_NO_AUTAPSES && (st = btsp_proj_set_no_autapses(jh[i])) != BTSP_OK)
            return api_fail(c, net, st, p->constraint_mark, where, "weight_constraint",
                            "btsp_proj_set_no_autapses");
        if (p->rule.cls) {
            btsp_rule *rule;
            st = build_rule(c, net, &p->rule, where, "learning_rule", "learning_rule_kwargs", &rule);
            if (st)
                return st;
            if ((st = btsp_proj_set_rule(jh[i], rule)) != BTSP_OK)
                return api_fail(c, net, st, p->rule.mark, where, "learning_rule", "btsp_proj_set_rule");
        }
    }
    /* clones last: their sources may come later in the file */
    for (size_t i = 0; i < c->n_projs; i++) {
        const cfg_proj *p = &c->projs[i];
        if (p->constraint != CON_CLONE)
            continue;
        where_proj(c, p, where);
        st = btsp_proj_set_clone(jh[i], jh[p->clone_src], p->clone_scale, p->clone_transpose);
        if (st)
            return api_fail(c, net, st, p->clone_mark, where, "source", "btsp_proj_set_clone");
    }
    return BTSP_OK;
}

static btsp_status build_gates(cfg_ctx *c, btsp_net *net, btsp_pop **ph)
{
    btsp_status st;
    char where[CFG_WHERE_MAX];
    static const btsp_gate_param gp[4] = {BTSP_GATE_MAX_POP_FRACTION, BTSP_GATE_STOCHASTIC, BTSP_GATE_NEG_RATE_TH,
                                          BTSP_GATE_RELU_GATE};
    static const int kp[4] = {P_MPF, P_STOCH, P_NRT, P_RELU};
    for (size_t pi = 0; pi < c->n_pops; pi++) {
        const cfg_pop *pop = &c->pops[pi];
        if (!pop->gate)
            continue;
        const cfg_proj *src = &c->projs[pop->gate_proj];
        btsp_gate *gate;
        where_proj(c, src, where);
        st = btsp_gate_create(net, (btsp_gate_kind)pop->gate, &gate);
        if (st)
            return api_fail(c, net, st, src->rule.mark, where, "learning_rule", "btsp_gate_create");
        for (int g = 0; g < 4; g++) {
            if (pop->gate == BTSP_GATE_TARGET && gp[g] != BTSP_GATE_RELU_GATE)
                continue; /* a target gate only uses relu_gate */
            if (gp[g] == BTSP_GATE_NEG_RATE_TH && isinf(pop->gate_param[g]) && pop->gate_param[g] < 0)
                continue; /* -inf is the library default ("disabled") */
            st = btsp_gate_set(gate, gp[g], pop->gate_param[g]);
            if (st) {
                const char *key = "learning_rule_kwargs";
                cfg_mark m = src->rule.mark;
                for (size_t t = 0; t < N_KWARGS; t++)
                    if (kwarg_table[t].param == kp[g] && (src->rule.given & PB(kp[g]))) {
                        key = kwarg_table[t].name;
                        m = src->rule.vmark[kp[g]];
                    }
                return api_fail(c, net, st, m, where, key, "btsp_gate_set");
            }
        }
        st = btsp_gate_attach(gate, ph[pi]);
        if (st)
            return api_fail(c, net, st, src->rule.mark, where, "learning_rule", "btsp_gate_attach");
    }
    return BTSP_OK;
}

static btsp_status build(cfg_ctx *c, btsp_net **out)
{
    btsp_net *net = NULL;
    cfg_mark none = {0, 0};
    btsp_status st = c->alloc ? btsp_net_create_with_allocator(c->alloc, &net) : btsp_net_create(&net);
    if (st)
        return st == BTSP_E_NOMEM ? cfg_nomem(c) : api_fail(c, NULL, st, none, NULL, NULL, "btsp_net_create");
    btsp_pop **ph = cfg_calloc(c, c->n_pops, sizeof *ph);
    btsp_proj **jh = cfg_calloc(c, c->n_projs, sizeof *jh);
    if (!ph || !jh)
        st = cfg_nomem(c);
    if (!st)
        st = build_net_params(c, net);
    if (!st)
        st = build_pops(c, net, ph);
    if (!st)
        st = build_projs(c, net, ph, jh);
    if (!st)
        st = build_gates(c, net, ph);
    if (!st && c->mode != BTSP_BACKWARD_NONE && (st = btsp_net_set_backward(net, c->mode)) != BTSP_OK)
        st = api_fail(c, net, st, none, NULL, NULL, "btsp_net_set_backward");
    cfg_free(c, ph);
    cfg_free(c, jh);
    if (st) {
        btsp_net_destroy(net);
        return st;
    }
    *out = net;
    return BTSP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* Entry points                                                                                */

static btsp_status yaml_fail(cfg_ctx *c, const yaml_parser_t *parser, FILE *f)
{
    cfg_mark m;
    if (parser->error == YAML_MEMORY_ERROR)
        return cfg_nomem(c);
    if (parser->error == YAML_READER_ERROR && f && ferror(f)) {
        m.line = 0;
        m.col = 0;
        return cfg_fail(c, BTSP_E_IO, m, NULL, NULL, "read error");
    }
    m.line = (unsigned long)parser->problem_mark.line + 1;
    m.col = (unsigned long)parser->problem_mark.column + 1;
    if (parser->context)
        return cfg_fail(c, BTSP_E_FORMAT, m, NULL, NULL, "YAML syntax error: %s %s (line %lu)",
                        parser->problem ? parser->problem : "error", parser->context,
                        (unsigned long)parser->context_mark.line + 1);
    return cfg_fail(c, BTSP_E_FORMAT, m, NULL, NULL, "YAML syntax error: %s",
                    parser->problem ? parser->problem : "error");
}

static btsp_status load(cfg_ctx *c, yaml_parser_t *parser, FILE *f, btsp_net **out)
{
    yaml_document_t doc;
    if (!yaml_parser_load(parser, &doc))
        return yaml_fail(c, parser, f);
    c->doc = &doc;
    btsp_status st = BTSP_OK;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        cfg_mark m = {1, 1};
        st = cfg_fail(c, BTSP_E_FORMAT, m, NULL, NULL, "empty document");
    } else {
        yaml_document_t doc2;
        if (!yaml_parser_load(parser, &doc2)) {
            st = yaml_fail(c, parser, f);
        } else {
            const yaml_node_t *root2 = yaml_document_get_root_node(&doc2);
            if (root2)
                st = cfg_fail(c, BTSP_E_FORMAT, mark_of(root2), NULL, NULL,
                              "more than one YAML document in the input");
            yaml_document_delete(&doc2);
        }
    }
    if (!st)
        st = parse_root(c, root);
    if (!st)
        st = build(c, out);
    cfg_free(c, c->layers);
    cfg_free(c, c->pops);
    cfg_free(c, c->projs);
    c->layers = NULL;
    c->pops = NULL;
    c->projs = NULL;
    yaml_document_delete(&doc);
    c->doc = NULL;
    return st;
}

static btsp_status begin(cfg_ctx *c, const char *fname, const btsp_allocator *alloc, btsp_net **out, char *err,
                         size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->fname = fname ? fname : "<string>";
    c->err = err;
    c->errlen = errlen;
    c->alloc = alloc;
    if (err && errlen)
        err[0] = '\0';
    if (out)
        *out = NULL;
    cfg_mark none = {0, 0};
    if (!out)
        return cfg_fail(c, BTSP_E_INVALID_ARG, none, NULL, NULL, "out must not be NULL");
    if (alloc && (!alloc->alloc || !alloc->free))
        return cfg_fail(c, BTSP_E_INVALID_ARG, none, NULL, NULL, "allocator with a NULL function");
    return BTSP_OK;
}

btsp_status btsp_config_load_string(const char *yaml_text, size_t len, const char *name_for_errors,
                                    const btsp_allocator *alloc, btsp_net **out, char *err, size_t errlen)
{
    cfg_ctx c;
    btsp_status st = begin(&c, name_for_errors, alloc, out, err, errlen);
    if (st)
        return st;
    if (!yaml_text && len) {
        cfg_mark none = {0, 0};
        return cfg_fail(&c, BTSP_E_INVALID_ARG, none, NULL, NULL, "yaml_text is NULL");
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cfg_nomem(&c);
    yaml_parser_set_input_string(&parser, (const unsigned char *)(yaml_text ? yaml_text : ""), len);
    st = load(&c, &parser, NULL, out);
    yaml_parser_delete(&parser);
    return st;
}

btsp_status btsp_config_load(const char *path, const btsp_allocator *alloc, btsp_net **out, char *err,
                             size_t errlen)
{
    cfg_ctx c;
    btsp_status st = begin(&c, path, alloc, out, err, errlen);
    if (st)
        return st;
    cfg_mark none = {0, 0};
    if (!path)
        return cfg_fail(&c, BTSP_E_INVALID_ARG, none, NULL, NULL, "path is NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return cfg_fail(&c, BTSP_E_IO, none, NULL, NULL, "cannot open: %s", strerror(errno));
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        fclose(f);
        return cfg_nomem(&c);
    }
    yaml_parser_set_input_file(&parser, f);
    st = load(&c, &parser, f, out);
    yaml_parser_delete(&parser);
    fclose(f);
    return st;
}
