/* EIANN config loader: YAML values (PyYAML-compatible resolution), mappings, names and
 * learning-rule classes with their kwargs (see config_internal.h). */
#include "config_internal.h"

/* ------------------------------------------------------------------------------------------ */
/* Learning-rule classes                                                                       */

#define G_SEL (PB(P_MPF) | PB(P_STOCH) | PB(P_RELU))
#define NO_GATE {0.0, 0.0, 0.0, 0.0}

static const rule_class proj_rules[] = {
    {"BTSP_19", "BTSP_19",
     PB(P_LR) | PB(P_DEP_RATIO) | PB(P_DEP_TH) | PB(P_DEP_WIDTH) | PB(P_TDISC) | G_SEL | PB(P_NRT), 0,
     PLATEAU_SELECT, BTSP_BACKWARD_SETTLE, {1.0, 0.0, -INFINITY, 1.0}},
    {"BP_like_2E", "BP_like_2E", PB(P_LR) | G_SEL, 0, PLATEAU_SELECT, BTSP_BACKWARD_SINGLE,
     {1.0, 0.0, -INFINITY, 0.0}},
    {"BP_like_2L", "BP_like_2L", PB(P_LR) | PB(P_FWD_ONLY) | G_SEL, 0, PLATEAU_SELECT,
     BTSP_BACKWARD_SETTLE, {1.0, 0.0, -INFINITY, 0.0}},
    {"Hebbian_Temporal_Contrast", "Hebbian_Temporal_Contrast", PB(P_LR) | G_SEL, 0, PLATEAU_SELECT,
     BTSP_BACKWARD_SETTLE, {1.0, 0.0, -INFINITY, 1.0}},
    {"Supervised_BCM_4", "Supervised_BCM_4",
     PB(P_LR) | PB(P_SIGN) | PB(P_THETA_TAU) | PB(P_THETA_K) | G_SEL, PB(P_THETA_TAU) | PB(P_THETA_K),
     PLATEAU_SELECT, BTSP_BACKWARD_SETTLE, {0.025, 0.0, -INFINITY, 0.0}},
    {"Top_Layer_BP_like_2L", "Top_Layer_BP_like_2L", PB(P_LR) | PB(P_RELU), 0, PLATEAU_OUTPUT_ONLY,
     BTSP_BACKWARD_OUTPUT_ONLY, {1.0, 0.0, -INFINITY, 1.0}},
    {"DendriticLoss_6", "DendriticLoss_6", PB(P_LR) | PB(P_SIGN), 0, PLATEAU_NONE, BTSP_BACKWARD_NONE,
     NO_GATE},
    {"Hebb_WeightNorm", "Hebb_WeightNorm", PB(P_LR) | PB(P_SIGN) | PB(P_FWD_ONLY), 0, PLATEAU_NONE,
     BTSP_BACKWARD_NONE, NO_GATE},
    {"Hebb_WeightNorm_4", "Hebb_WeightNorm_4", PB(P_LR) | PB(P_SIGN) | PB(P_FWD_ONLY), 0, PLATEAU_NONE,
     BTSP_BACKWARD_NONE, NO_GATE},
    {"Top_Down_Hebbian_Temporal_Contrast_3", "Top_Down_Hebbian_Temporal_Contrast_3", PB(P_LR), 0,
     PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Top_Down_Hebbian_Temporal_Contrast_1", "Top_Down_Hebbian_Temporal_Contrast_1",
     PB(P_LR) | PB(P_FWD_ONLY), 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Ojas_rule", "Ojas_rule", PB(P_LR) | PB(P_FWD_ONLY), 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Backprop", "Backprop", PB(P_LR), 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Backprop_DendriticLoss", "Backprop_DendriticLoss", PB(P_LR) | PB(P_SOURCE), PB(P_SOURCE),
     PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
};

static const rule_class bias_rules[] = {
    {"DendriticLossBias", "DendriticLossBias", PB(P_LR), 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"Backprop", "BackpropBias", PB(P_LR), 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
    {"BackpropBias", "BackpropBias", PB(P_LR), 0, PLATEAU_NONE, BTSP_BACKWARD_NONE, NO_GATE},
};

/* ------------------------------------------------------------------------------------------ */
/* YAML scalars                                                                                */

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

int in_list(const char *s, const char *const *list)
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
int parse_number(const char *s, size_t len, double *out, int *is_int)
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
    /* 010 is octal 8 to PyYAML (YAML 1.1) and 10 to strtod: neither reading is safe */
    if (!frac && digits > 1 && buf[neg] == '0')
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
cval resolve(const yaml_node_t *n)
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
const char *node_text(const yaml_node_t *n)
{
    if (!n)
        return "";
    if (n->type == YAML_SCALAR_NODE)
        return (const char *)n->data.scalar.value;
    return n->type == YAML_SEQUENCE_NODE ? "[...]" : "{...}";
}

/* Fail with "expected X, got Y" (or the tag problem). */
btsp_status type_fail(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
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

btsp_status get_number(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
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

btsp_status get_bool(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, int *out)
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
btsp_status get_string(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
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

btsp_status get_int(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, double lo,
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

size_t map_len(const yaml_node_t *n)
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

yaml_node_t *pair_key(const cfg_ctx *c, const yaml_node_t *m, size_t i)
{
    return node_at(c, m->data.mapping.pairs.start[i].key);
}

yaml_node_t *pair_value(const cfg_ctx *c, const yaml_node_t *m, size_t i)
{
    return node_at(c, m->data.mapping.pairs.start[i].value);
}

const char *key_text(const cfg_ctx *c, const yaml_node_t *m, size_t i)
{
    return (const char *)pair_key(c, m, i)->data.scalar.value;
}

typedef struct key_ref {
    const char *text;
    size_t pos; /* the pair's index in the mapping */
} key_ref;

static int cmp_key_ref(const void *x, const void *y)
{
    const key_ref *a = x, *b = y;
    int d = strcmp(a->text, b->text);
    return d ? d : (a->pos > b->pos) - (a->pos < b->pos);
}

/* The error for the invalid key at index `bad` of mapping n (none if bad == len). */
static btsp_status report_bad_key(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, size_t bad,
                                  size_t len)
{
    if (bad == len)
        return BTSP_OK;
    const yaml_node_t *k = pair_key(c, n, bad);
    if (k->type != YAML_SCALAR_NODE)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, key, "mapping keys must be plain names");
    return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, key, "empty or invalid mapping key");
}

/* A mapping whose keys are non-empty scalars without duplicates. Null counts as an empty
 * mapping when allow_null (then *is_null = 1). */
btsp_status check_map(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
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
    /* the first invalid key, and (below) the earliest repeated one: whichever comes first in
     * the file is reported, as a scan in file order would */
    size_t len = map_len(n), bad = len;
    for (size_t i = 0; i < len && bad == len; i++) {
        const yaml_node_t *k = pair_key(c, n, i);
        if (k->type != YAML_SCALAR_NODE || k->data.scalar.length == 0 ||
            strlen((const char *)k->data.scalar.value) != k->data.scalar.length)
            bad = i;
    }
    size_t n_valid = bad; /* keys before the first invalid one */
    if (n_valid < 2)
        return report_bad_key(c, n, where, key, bad, len);
    /* duplicates by sorting (key, position), so that a mapping of many keys costs n log n, not
     * n^2; reported as a scan in file order would: the earliest second occurrence, with the
     * first occurrence of its key */
    key_ref *refs = malloc(n_valid * sizeof *refs);
    if (!refs)
        return cfg_nomem(c);
    for (size_t i = 0; i < n_valid; i++) {
        refs[i].text = key_text(c, n, i);
        refs[i].pos = i;
    }
    qsort(refs, n_valid, sizeof *refs, cmp_key_ref);
    size_t dup = len, first = 0;
    for (size_t i = 1; i < n_valid; i++)
        if (strcmp(refs[i].text, refs[i - 1].text) == 0 && refs[i].pos < dup) {
            /* a key's second occurrence precedes its later ones in the sort, so the smallest
             * position found is a second occurrence and refs[i - 1] its key's first */
            dup = refs[i].pos;
            first = refs[i - 1].pos;
        }
    free(refs);
    if (dup < len) {
        const yaml_node_t *k = pair_key(c, n, dup);
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, (const char *)k->data.scalar.value,
                        "duplicate key (first at line %lu)", mark_of(pair_key(c, n, first)).line);
    }
    return report_bad_key(c, n, where, key, bad, len);
}

int is_empty_map(const yaml_node_t *n)
{
    cval v = resolve(n);
    return v.k == V_NULL || (v.k == V_MAP && map_len(n) == 0);
}

/* A sequence of numbers (nulls allowed if null_value is not NULL: they become *null_value),
 * min..max elements. A single number is accepted as a one-element tuple if scalar_ok. */
btsp_status get_tuple(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key,
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
btsp_status get_bounds(cfg_ctx *c, const yaml_node_t *n, const char *where, const char *key, double *lo,
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

btsp_status check_name(cfg_ctx *c, const yaml_node_t *k, const char *where, const char *what)
{
    const char *s = (const char *)k->data.scalar.value;
    size_t len = k->data.scalar.length;
    if (len == 0 || len > CFG_NAME_MAX)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, NULL, "%s name '%s' must have 1 to %d characters",
                        what, s, CFG_NAME_MAX);
    /* The core's rules (btsp_layer_add): names become file names, so no path separators or
     * control characters (a quoted YAML key may hold any, even NUL); '.' separates layer and
     * population in references. Checked here so that the message points at the key. */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.' || ch == '/' || ch == '\\' || ch < 0x20 || ch == 0x7f)
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(k), where, NULL,
                            "%s name '%s' must not contain '.', '/', '\\' or control characters", what, s);
    }
    return BTSP_OK;
}

int find_layer(const cfg_ctx *c, const char *name, size_t len, size_t *out)
{
    for (size_t i = 0; i < c->n_layers; i++) {
        if (strlen(c->layers[i].name) == len && memcmp(c->layers[i].name, name, len) == 0) {
            *out = i;
            return 1;
        }
    }
    return 0;
}

int find_pop_in_layer(const cfg_ctx *c, size_t layer, const char *name, size_t len, size_t *out)
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
int find_pop_dotted(const cfg_ctx *c, const char *s, size_t *out)
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
btsp_status pop_ref_fail(cfg_ctx *c, const yaml_node_t *k, const char *where, const char *s)
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
btsp_status parse_rule(cfg_ctx *c, cfg_rule *r, const yaml_node_t *name_node, const yaml_node_t *kw_node,
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

