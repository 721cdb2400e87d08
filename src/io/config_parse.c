/* EIANN config loader, layer 1: layer_config, projection_config and training_kwargs become a
 * checked description, then the plan (clones, output, gates, backward mode); see
 * config_internal.h. */
#include "config_internal.h"

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

/* receptive_field_mask(receptive_field_size, image_dims=(28, 28), apply_weight_norm=False,
 * **normalize_weight kwargs): EIANN reads image_dims (H, W) as (1, H, W) and passes the other
 * kwargs to normalize_weight only with apply_weight_norm. Of those, `scale` is supported (a
 * positive number; null fails in EIANN too), and is refused without apply_weight_norm, where
 * EIANN would ignore it. */
static btsp_status parse_rf_kwargs(cfg_ctx *c, cfg_proj *p, const yaml_node_t *cn, const yaml_node_t *kw,
                                   size_t len, const char *where)
{
    int has_size = 0, apply_norm = 0;
    const yaml_node_t *scale_n = NULL;
    btsp_status st = BTSP_OK;
    p->rf_dims[0] = 1.0;
    p->rf_dims[1] = 28.0;
    p->rf_dims[2] = 28.0;
    p->norm_scale = 0.0;
    for (size_t i = 0; i < len; i++) {
        const char *k = key_text(c, kw, i);
        const yaml_node_t *vn = pair_value(c, kw, i);
        if (strcmp(k, "receptive_field_size") == 0) {
            st = get_int(c, vn, where, k, 1, 1e9, &p->rf_side);
            has_size = 1;
        } else if (strcmp(k, "image_dims") == 0) {
            double d[3];
            size_t n;
            st = get_tuple(c, vn, where, k, 2, 3, NULL, 0, d, &n);
            for (size_t j = 0; !st && j < n; j++)
                if (!(d[j] >= 1.0 && d[j] <= 1e9) || d[j] != floor(d[j]))
                    st = cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, k,
                                  "image_dims must be positive integers ([height, width] or [channels, height, "
                                  "width])");
            if (!st) {
                p->rf_dims[0] = n == 3 ? d[0] : 1.0;
                p->rf_dims[1] = d[n - 2];
                p->rf_dims[2] = d[n - 1];
            }
        } else if (strcmp(k, "apply_weight_norm") == 0) {
            st = get_bool(c, vn, where, k, &apply_norm);
        } else if (strcmp(k, "scale") == 0) {
            scale_n = vn;
            st = get_number(c, vn, where, k, 0, NULL, &p->norm_scale);
            if (!st && !(p->norm_scale > 0.0 && isfinite(p->norm_scale)))
                st = cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, k, "scale must be a finite number > 0");
        } else {
            return cfg_fail(c, BTSP_E_FORMAT, mark_of(pair_key(c, kw, i)), where, k,
                            "receptive_field_mask has no kwarg '%s' (accepted: receptive_field_size, image_dims, "
                            "apply_weight_norm, scale)",
                            k);
        }
        if (st)
            return st;
    }
    if (!has_size)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(cn), where, "weight_constraint_kwargs",
                        "receptive_field_mask needs a 'receptive_field_size'");
    if (apply_norm && !scale_n)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(cn), where, "weight_constraint_kwargs",
                        "apply_weight_norm needs a 'scale'");
    if (!apply_norm && scale_n)
        return cfg_fail(c, BTSP_E_FORMAT, mark_of(scale_n), where, "scale",
                        "scale has no effect without 'apply_weight_norm: true'");
    if (!apply_norm)
        p->norm_scale = 0.0;
    p->constraint = CON_RF;
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
    int isnull = 1;
    if (kw) {
        st = check_map(c, kw, where, "weight_constraint_kwargs", 1, &isnull);
        if (st)
            return st;
    }
    size_t len = isnull ? 0 : map_len(kw);
    if (strcmp(name, "receptive_field_mask") == 0)
        return parse_rf_kwargs(c, p, cn, kw, len, where);
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

/* A string value that must be one of the words of `k`; *value receives its enum value.
 * `choices` lists the words for the message. */
static btsp_status get_keyword(cfg_ctx *c, const yaml_node_t *vn, const char *where, const char *key,
                               const keyword *k, size_t n, const char *choices, int *value)
{
    const char *s;
    btsp_status st = get_string(c, vn, where, key, 0, &s);
    if (st)
        return st;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, k[i].word) == 0) {
            *value = k[i].value;
            return BTSP_OK;
        }
    return cfg_fail(c, BTSP_E_FORMAT, mark_of(vn), where, key, "%s '%s' must be %s", key, s, choices);
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
            static const keyword dirs[] = {{"F", BTSP_DIR_FORWARD}, {"forward", BTSP_DIR_FORWARD},
                                           {"R", BTSP_DIR_RECURRENT}, {"recurrent", BTSP_DIR_RECURRENT}};
            int v = 0;
            st = get_keyword(c, vn, where, k, dirs, ARRAY_LEN(dirs), "F, forward, R or recurrent", &v);
            if (st)
                return st;
            p->dir = (btsp_direction)v;
        } else if (strcmp(k, "update_phase") == 0) {
            static const keyword phases[] = {{"F", BTSP_PHASE_FORWARD},  {"forward", BTSP_PHASE_FORWARD},
                                             {"B", BTSP_PHASE_BACKWARD}, {"backward", BTSP_PHASE_BACKWARD},
                                             {"A", BTSP_PHASE_ALL},      {"all", BTSP_PHASE_ALL}};
            int v = 0;
            st = get_keyword(c, vn, where, k, phases, ARRAY_LEN(phases), "F, forward, B, backward, A or all", &v);
            if (st)
                return st;
            p->phase = (btsp_phase)v;
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

btsp_status parse_root(cfg_ctx *c, const yaml_node_t *root)
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

