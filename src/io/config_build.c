/* EIANN config loader, layer 2 and entry points: the checked description becomes btsp_* calls
 * (see config_internal.h and include/btsp/btsp_config.h). */
#include "config_internal.h"

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
    if (st)
        return api_fail(c, net, st, r->mark, where, rule_key, "btsp_rule_create");
    for (size_t t = 0; t < N_KWARGS; t++) {
        int p = kwarg_table[t].param;
        if (!(r->given & PB(p)))
            continue;
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
        if (p->constraint == CON_RF &&
            (st = btsp_proj_set_receptive_fields(jh[i], (size_t)p->rf_side, (size_t)p->rf_dims[0],
                                                 (size_t)p->rf_dims[1], (size_t)p->rf_dims[2], p->norm_scale)) !=
                BTSP_OK)
            return api_fail(c, net, st, p->constraint_mark, where, "weight_constraint",
                            "btsp_proj_set_receptive_fields");
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
        return cfg_fail(c, BTSP_E_IO, m, NULL, NULL, "read error: %s", strerror(errno));
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

