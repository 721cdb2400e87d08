/* Internal interface between the parts of the EIANN config loader (src/io/config_*.c).
 *
 * Two layers (see config_build.c for the entry points):
 *   1. config_parse.c (with the YAML helpers of config_yaml.c): the libyaml document becomes a
 *      plain, checked description (cfg_layer, cfg_pop, cfg_proj, cfg_train in cfg_ctx): types,
 *      names, references, rules and their kwargs, clone sources, gates and the backward mode
 *      ("plan"). Strings point into the libyaml document, alive until the load ends. This layer
 *      uses only libyaml and the C library, never the core API.
 *   2. config_build.c: the description becomes btsp_* calls; their errors are reported with
 *      the YAML position of the element being built and btsp_net_errmsg().
 * The library never prints; every message goes to the caller's buffer.
 *
 * Not installed. Functions shared between the files keep short names in the source; the
 * macros below give them the btsp__cfg_ prefix in the object files, so a program linking the
 * static libbtsp_io cannot clash with them (tests/check_symbols.cmake). */
#ifndef BTSP_CONFIG_INTERNAL_H
#define BTSP_CONFIG_INTERNAL_H

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

/* Link-time names of the shared helpers (see above). */
#define cfg_calloc btsp__cfg_calloc
#define cfg_fail btsp__cfg_fail
#define cfg_free btsp__cfg_free
#define cfg_nomem btsp__cfg_nomem
#define check_map btsp__cfg_check_map
#define check_name btsp__cfg_check_name
#define find_layer btsp__cfg_find_layer
#define find_pop_dotted btsp__cfg_find_pop_dotted
#define find_pop_in_layer btsp__cfg_find_pop_in_layer
#define get_bool btsp__cfg_get_bool
#define get_bounds btsp__cfg_get_bounds
#define get_int btsp__cfg_get_int
#define get_number btsp__cfg_get_number
#define get_string btsp__cfg_get_string
#define get_tuple btsp__cfg_get_tuple
#define in_list btsp__cfg_in_list
#define is_empty_map btsp__cfg_is_empty_map
#define key_text btsp__cfg_key_text
#define kwarg_table btsp__cfg_kwarg_table
#define map_len btsp__cfg_map_len
#define mark_of btsp__cfg_mark_of
#define msg_add btsp__cfg_msg_add
#define n_kwargs btsp__cfg_n_kwargs
#define node_text btsp__cfg_node_text
#define pair_key btsp__cfg_pair_key
#define pair_value btsp__cfg_pair_value
#define parse_number btsp__cfg_parse_number
#define parse_root btsp__cfg_parse_root
#define parse_rule btsp__cfg_parse_rule
#define pop_ref_fail btsp__cfg_pop_ref_fail
#define resolve btsp__cfg_resolve
#define type_fail btsp__cfg_type_fail
#define where_pop btsp__cfg_where_pop
#define where_proj btsp__cfg_where_proj

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

/* A kwarg name, the parameter it sets and its YAML type. */
typedef struct cfg_kwarg {
    const char *name;
    int param;
    ktype type;
} cfg_kwarg;

enum { PLATEAU_NONE = 0, PLATEAU_SELECT = 1, PLATEAU_OUTPUT_ONLY = 2 };

/* One EIANN learning-rule class: its YAML name, the libbtsp kind name, the kwargs its
 * constructor accepts, and how it drives plateau selection. */
typedef struct rule_class {
    const char *name;
    const char *kind_name;
    unsigned accepted;
    unsigned required;
    int plateau;
    btsp_backward_mode mode;
    double gate_default[4]; /* max_pop_fraction, stochastic, neg_rate_th, relu_gate */
} rule_class;

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

enum { CON_NONE, CON_NORMALIZE, CON_NO_AUTAPSES, CON_CLONE, CON_RF };

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
    double norm_scale; /* CON_NORMALIZE; CON_RF: 0 without apply_weight_norm */
    int norm_autapses;
    double rf_side, rf_dims[3]; /* CON_RF: receptive_field_size; image_dims as channels, height, width */
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

typedef struct msgbuf {
    char *p;
    size_t len, used;
} msgbuf;

#if defined(__GNUC__)
#define CFG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CFG_PRINTF(a, b)
#endif

/* ------------------------------------------------------------------------------------------ */
/* YAML values                                                                                 */

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

/* ---- config_common.c: kwarg table, memory, messages ---- */
extern const cfg_kwarg kwarg_table[];
extern const size_t n_kwargs;
#define N_KWARGS n_kwargs
void cfg_free(cfg_ctx *c, void *p);
void *cfg_calloc(cfg_ctx *c, size_t count, size_t size);
cfg_mark mark_of(const yaml_node_t *n);
void msg_add(msgbuf *b, const char *fmt, ...) CFG_PRINTF(2, 3);
/* Fail with "file:line:col: where: key 'key': message" (where and key may be NULL); returns st. */
btsp_status cfg_fail(cfg_ctx *c, btsp_status st, cfg_mark m, const char *where, const char *key,
                     const char *fmt, ...) CFG_PRINTF(6, 7);
btsp_status cfg_nomem(cfg_ctx *c);
void where_pop(const cfg_ctx *c, size_t i, char *buf);  /* buf: CFG_WHERE_MAX bytes */
void where_proj(const cfg_ctx *c, const cfg_proj *p, char *buf);

/* ---- config_yaml.c: YAML values, names, learning rules ---- */
int in_list(const char *s, const char *const *list);
int parse_number(const char *s, size_t len, double *out, int *is_int);
cval resolve(const yaml_node_t *n);
const char *node_text(const yaml_node_t *n);
btsp_status type_fail(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                      const char *expected);
btsp_status get_number(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                       int allow_null, int *is_null, double *out);
btsp_status get_bool(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, int *out);
btsp_status get_string(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                       int allow_null, const char **out);
btsp_status get_int(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, double lo,
                    double hi, double *out);
size_t map_len(const yaml_node_t *n);
yaml_node_t *pair_key(const cfg_ctx *c, const yaml_node_t *m, size_t i);
yaml_node_t *pair_value(const cfg_ctx *c, const yaml_node_t *m, size_t i);
const char *key_text(const cfg_ctx *c, const yaml_node_t *m, size_t i);
btsp_status check_map(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                      int allow_null, int *is_null);
int is_empty_map(const yaml_node_t *n);
btsp_status get_tuple(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
                      size_t min, size_t max, const double *null_values, int scalar_ok, double *out,
                      size_t *count);
btsp_status get_bounds(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, double *lo,
                       double *hi);
btsp_status check_name(cfg_ctx *c, const yaml_node_t *k, const char *where, const char *what);
int find_layer(const cfg_ctx *c, const char *name, size_t len, size_t *out);
int find_pop_in_layer(const cfg_ctx *c, size_t layer, const char *name, size_t len, size_t *out);
int find_pop_dotted(const cfg_ctx *c, const char *s, size_t *out);
btsp_status pop_ref_fail(cfg_ctx *c, const yaml_node_t *k, const char *where, const char *s);
btsp_status parse_rule(cfg_ctx *c, cfg_rule *r, const yaml_node_t *name_node, const yaml_node_t *kw_node,
                       int bias, const char *where, const char *rule_key, const char *kw_key,
                       cfg_mark absent_mark);

/* ---- config_parse.c: layer 1 (document -> checked description in c) ---- */
btsp_status parse_root(cfg_ctx *c, const yaml_node_t *root);

#endif
