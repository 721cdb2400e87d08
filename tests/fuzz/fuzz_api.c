/* Fuzz target: the core API used wrongly. The input is read as a program of up to 96 calls on
 * one network: building layers, populations, dendrites, projections, rules and gates with
 * arbitrary (often invalid: NaN, +-inf, out-of-range, wrong enum) arguments, setting network
 * parameters, finalizing, training, evaluating, computing loss and input gradients, writing
 * weights, resetting, saving and loading state images (intact ones must load and save to the
 * same bytes, ones with a damaged byte must be refused). Properties checked: no crash, no sanitizer report, no leak and every byte
 * returned to the allocator; every failing call leaves a non-empty one-line message, never
 * returns BTSP_E_INTERNAL and changes no object count, weight or bias (except a non-finite
 * training update, BTSP_E_NUMERIC); the gradient calls change no weight or bias even when they
 * succeed; once finalized, while only the library has written weights, after finalize and
 * after every training step every weight keeps the sign its bounds demand (Dale's law), and
 * lies within the bounds unless its projection is normalised or a clone, or it is a removed
 * autapse (the exceptions btsp_proj_set_bounds() documents). Every program runs twice, on two
 * networks with their own budgets, and both must end with bitwise the same weights,
 * activities, biases and plateaus (determinism). */
#include "fuzz_common.h"
#include "state_format.h" /* src/: btsp__fnv1a64 */

#include <math.h>

#define MAX_LAYERS 4
#define MAX_POPS 10
#define MAX_PROJS 16
#define MAX_RULES 12
#define MAX_GATES 6
#define MAX_OPS 96
#define MAX_UNITS 9 /* population sizes 0..8 (0 is invalid) */

typedef struct {
    const uint8_t *p;
    size_t n;
} reader;

static unsigned byte(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* Values that sit on or next to the documented bounds, plus non-finite ones. */
static double value(reader *r)
{
    static const double table[] = {0.0, 1.0, -1.0, 0.5, 2.0, 1e-3, 15.0, 3.0, 0.1, -0.5, 1e6, 1.0000001e6,
                                   -1e6, 1e300, -1e300, 100000.0, 100001.0, 65536.0, 65537.0, -0.0, 1e-300,
                                   0.99, 1.01, 64.0};
    unsigned b = byte(r);
    if (b == 255)
        return NAN;
    if (b == 254)
        return INFINITY;
    if (b == 253)
        return -INFINITY;
    return table[b % (sizeof table / sizeof table[0])];
}

/* Constraints that act after clamping, so that bounds hold only in part (btsp_proj_set_bounds()). */
enum {
    CON_NORMALIZED = 1, /* rows rescaled: only the sign bounds hold */
    CON_CLONE = 2,      /* not clamped at all */
    CON_NO_AUTAPSES = 4, /* the diagonal is 0 whatever the bounds */
    CON_RF = 8           /* receptive fields: weights outside them are 0 whatever the bounds */
};

/* Keep a newly created object in its list (objects beyond the list's size stay untracked). */
#define KEEP(list, count, max, obj)                                                                \
    do {                                                                                           \
        if ((count) < (max))                                                                       \
            (list)[(count)++] = (obj);                                                             \
    } while (0)

typedef struct {
    btsp_net *net;
    btsp_layer *layers[MAX_LAYERS];
    btsp_pop *pops[MAX_POPS];
    btsp_proj *projs[MAX_PROJS];
    btsp_rule *rules[MAX_RULES];
    btsp_gate *gates[MAX_GATES];
    size_t n_layers, n_pops, n_projs, n_rules, n_gates;
    unsigned char constraint[MAX_PROJS]; /* CON_* flags of each tracked projection */
    int user_weights; /* the caller wrote weights, so bounds hold only after btsp_net_constrain */
} world;

/* `null_arg`: a handle passed to the call was NULL, so the library had no network to put a
 * message on; the call must still fail cleanly, and the message must stay one line. */
static void check(world *w, btsp_status st, int null_arg)
{
#ifdef FUZZ_TRACE /* -DFUZZ_TRACE: print every call's outcome, to read what an input does */
    fprintf(stderr, "%s%s%s\n", btsp_status_name(st), st < 0 ? ": " : "", st < 0 ? btsp_net_errmsg(w->net) : "");
#endif
    FUZZ_EXPECT(st != BTSP_E_INTERNAL);
    const char *msg = btsp_net_errmsg(w->net);
    FUZZ_EXPECT(strchr(msg, '\n') == NULL);
    if (null_arg)
        FUZZ_EXPECT(st != BTSP_OK);
    else if (st < 0)
        fuzz_expect_message(msg, 4096);
}

/* An object from a list, or NULL (invalid handle use) when the byte says so or none exists. */
#define PICK(r, arr, n) ((n) == 0 || byte(r) % 8 == 7 ? NULL : (arr)[byte(r) % (n)])

static size_t proj_slot(const world *w, const btsp_proj *pj)
{
    for (size_t i = 0; i < w->n_projs; i++)
        if (w->projs[i] == pj)
            return i;
    return MAX_PROJS;
}

static void check_bounds(world *w)
{
    if (w->user_weights || !btsp_net_is_finalized(w->net))
        return;
    for (size_t i = 0; i < btsp_net_proj_count(w->net); i++) {
        btsp_proj *pj = btsp_net_proj_at(w->net, i);
        double lo, hi;
        const float *v;
        size_t rows, cols;
        FUZZ_EXPECT(btsp_proj_get_bounds(pj, &lo, &hi) == BTSP_OK);
        FUZZ_EXPECT(btsp_proj_weights(pj, &v, &rows, &cols) == BTSP_OK);
        size_t slot = proj_slot(w, pj);
        unsigned con = slot < MAX_PROJS ? w->constraint[slot] : 0;
        if (con & CON_CLONE)
            continue;
        if (con & CON_NORMALIZED) {
            lo = lo >= 0 ? 0 : -INFINITY;
            hi = hi <= 0 ? 0 : INFINITY;
        }
        /* Clamping happens in float32, to the nearest floats of the bounds (btsp.h). */
        const float flo = (float)lo, fhi = (float)hi;
        for (size_t k = 0; k < rows * cols; k++) {
            int ok = !isfinite(v[k]) || (v[k] >= flo && v[k] <= fhi) ||
                     ((con & (CON_NO_AUTAPSES | CON_RF)) && v[k] == 0.0f);
#ifdef FUZZ_TRACE
            if (!ok)
                fprintf(stderr, "%s[%zu] = %g outside [%g, %g]\n", btsp_proj_name(pj), k, v[k], lo, hi);
#endif
            FUZZ_EXPECT(ok);
        }
    }
}

static btsp_status op_train(world *w, reader *r, int evaluate)
{
    btsp_pop *in = btsp_net_input(w->net), *out = btsp_net_output(w->net);
    size_t nx = in ? btsp_pop_size(in) : 0, ny = out ? btsp_pop_size(out) : 0;
    float x[MAX_UNITS + 1], y[MAX_UNITS + 1];
    double xv = value(r);
    double yv = value(r);
    for (size_t i = 0; i <= MAX_UNITS; i++) {
        x[i] = (float)(xv * (double)(i % 4) / 3.0); /* a graded input pattern */
        y[i] = i == 0 ? (float)yv : 0.0f;
    }
    /* Sometimes the wrong length, to exercise the shape checks. */
    if (byte(r) % 8 == 0)
        nx++;
    FUZZ_EXPECT(nx <= MAX_UNITS + 1 && ny <= MAX_UNITS + 1); /* sizes are at most MAX_UNITS - 1 */
    btsp_status st;
    if (evaluate) {
        unsigned e = byte(r);
        size_t np = btsp_net_pop_count(w->net);
        FUZZ_EXPECT(np <= MAX_POPS);
        if (e % 2) {
            /* btsp_net_evaluate_activity: some populations' activities and previous activities,
             * sometimes with a wrong population count */
            float bufa[MAX_POPS][MAX_UNITS + 1], bufp[MAX_POPS][MAX_UNITS + 1];
            float *act[MAX_POPS], *prev[MAX_POPS];
            for (size_t i = 0; i < np; i++) {
                act[i] = (e / 2 + i) % 3 ? bufa[i] : NULL;
                prev[i] = (e / 8 + i) % 2 ? bufp[i] : NULL;
            }
            st = btsp_net_evaluate_activity(w->net, x, 1, nx, (e / 4) % 4 ? act : NULL, (e / 16) % 4 ? prev : NULL,
                                            np + (e % 32 == 31));
        } else {
            st = btsp_net_evaluate(w->net, x, 1, nx, y, ny);
        }
    } else {
        st = btsp_net_train_sample(w->net, x, nx, y, ny);
        if (st == BTSP_OK)
            check_bounds(w);
    }
    return st;
}

/* btsp_net_loss_gradient or btsp_net_input_gradient on a graded input, sometimes with wrong
 * lengths; both must leave weights and biases as they were (the caller checks). */
static btsp_status op_gradient(world *w, reader *r, btsp_pop *pop, btsp_proj *proj, unsigned a)
{
    btsp_pop *in = btsp_net_input(w->net), *out = btsp_net_output(w->net);
    size_t nx = in ? btsp_pop_size(in) : 0, ny = out ? btsp_pop_size(out) : 0;
    float x[MAX_UNITS + 1], y[MAX_UNITS + 1], cot[3 * (MAX_UNITS + 1)], g[3 * (MAX_UNITS + 1) * (MAX_UNITS + 1)];
    double xv = value(r);
    double cv = value(r);
    for (size_t i = 0; i <= MAX_UNITS; i++) {
        x[i] = (float)(xv * (double)(i % 4) / 3.0);
        y[i] = i == 1 ? 1.0f : 0.0f;
    }
    for (size_t i = 0; i < 3 * (MAX_UNITS + 1); i++)
        cot[i] = (float)(cv * (double)(i % 3 == 0));
    int wrong = byte(r) % 8 == 0; /* a wrong length, to exercise the shape checks */
    unsigned steps = (a / 4) % 5;
    if (a % 2) {
        size_t rows = proj ? btsp_pop_size(btsp_proj_post(proj)) : 0, cols = proj ? btsp_pop_size(btsp_proj_pre(proj)) : 0;
        return btsp_net_loss_gradient(w->net, x, nx, y, ny, steps, proj, g, rows + (size_t)wrong, cols);
    }
    size_t n = pop ? btsp_pop_size(pop) : 0, m = 1 + (a / 2) % 3;
    FUZZ_EXPECT(nx <= MAX_UNITS + 1 && n <= MAX_UNITS + 1);
    return btsp_net_input_gradient(w->net, x, nx, pop, cot, m, n, steps, g, m * nx - (size_t)wrong);
}

/* A hash of the object counts and, once finalized, every weight and bias: what a failing call
 * must leave as it was (docs/design.md, "Errors"). */
static uint64_t fingerprint(const btsp_net *net)
{
    size_t counts[3] = {btsp_net_layer_count(net), btsp_net_pop_count(net), btsp_net_proj_count(net)};
    uint64_t h = btsp__fnv1a64(BTSP__FNV_OFFSET, counts, sizeof counts);
    if (!btsp_net_is_finalized(net))
        return h;
    for (size_t i = 0; i < counts[2]; i++) {
        const float *v;
        size_t rows, cols;
        FUZZ_EXPECT(btsp_proj_weights(btsp_net_proj_at(net, i), &v, &rows, &cols) == BTSP_OK);
        h = btsp__fnv1a64(h, v, rows * cols * sizeof *v);
    }
    for (size_t i = 0; i < counts[1]; i++) {
        const float *v;
        size_t n;
        if (btsp_pop_state(btsp_net_pop_at(net, i), BTSP_VAR_BIAS, &v, &n) == BTSP_OK)
            h = btsp__fnv1a64(h, v, n * sizeof *v);
    }
    return h;
}

/* Save the state image, then load it back unchanged (must succeed and save to the same bytes)
 * or with one byte damaged (a2 odd; must fail as a foreign, damaged or unsupported image). */
static btsp_status state_round_trip(btsp_net *net, unsigned a2)
{
    size_t n = btsp_net_state_size(net);
    if (n == 0)
        return btsp_net_save_state(net, NULL, 0, NULL); /* NULL buffer or not finalized: an error */
    unsigned char *img = malloc(n), *again = malloc(n);
    FUZZ_EXPECT(img && again);
    size_t written = 0;
    FUZZ_EXPECT(btsp_net_save_state(net, img, n, &written) == BTSP_OK && written == n);
    FUZZ_EXPECT(btsp_net_save_state(net, again, n - 1, NULL) == BTSP_E_SHAPE);
    btsp_status st;
    if (a2 % 2) {
        img[(a2 / 2 * 2654435761u) % n] ^= (unsigned char)(1u << (a2 % 8));
        st = btsp_net_load_state(net, img, n);
        FUZZ_EXPECT(st == BTSP_E_FORMAT || st == BTSP_E_SHAPE || st == BTSP_E_UNSUPPORTED);
    } else {
        st = btsp_net_load_state(net, img, n);
        FUZZ_EXPECT(st == BTSP_OK);
        FUZZ_EXPECT(btsp_net_save_state(net, again, n, NULL) == BTSP_OK && memcmp(img, again, n) == 0);
    }
#ifdef FUZZ_TRACE
    fprintf(stderr, "[state round trip, %zu bytes%s] ", n, a2 % 2 ? ", damaged" : "");
#endif
    free(img);
    free(again);
    return st;
}

static void step(world *w, reader *r)
{
    const uint64_t before = fingerprint(w->net);
    /* Every call reads the same fields in this order (declarations are sequenced, function
     * arguments are not), so an input means the same program with every compiler. */
    btsp_pop *pop = PICK(r, w->pops, w->n_pops);
    btsp_pop *pre = PICK(r, w->pops, w->n_pops);
    btsp_proj *proj = PICK(r, w->projs, w->n_projs);
    btsp_proj *src = PICK(r, w->projs, w->n_projs);
    btsp_rule *rule = PICK(r, w->rules, w->n_rules);
    btsp_gate *gate = PICK(r, w->gates, w->n_gates);
    btsp_layer *layer = PICK(r, w->layers, w->n_layers);
    unsigned op = byte(r) % 27;
    unsigned a0 = byte(r), a1 = byte(r), a2 = byte(r);
    double v0 = value(r);
    double v1 = value(r);
#ifdef FUZZ_TRACE
    fprintf(stderr, "op %u (%u %u %u; %g %g) ", op, a0, a1, a2, v0, v1);
#endif
    btsp_status st = BTSP_OK;
    int null_arg = 0; /* set by each case: a handle it passes is NULL */
    int pure = 0;     /* set by calls that must not change weights or biases even on success */
    switch (op) {
    case 0: {
        static const char *names[] = {"Input", "H1", "Output", "H2", "", "a.b", "x/y"};
        btsp_layer *l = NULL;
        st = btsp_layer_add(w->net, names[a0 % 7], &l);
        if (st == BTSP_OK)
            KEEP(w->layers, w->n_layers, MAX_LAYERS, l);
        break;
    }
    case 1: {
        static const char *names[] = {"E", "SomaI", "DendI", "E"};
        btsp_pop *p = NULL;
        null_arg = !layer;
        st = btsp_pop_add(layer, names[a0 % 4], a1 % MAX_UNITS, &p);
        if (st == BTSP_OK)
            KEEP(w->pops, w->n_pops, MAX_POPS, p);
        break;
    }
    case 2: null_arg = !pop; st = btsp_pop_set_activation(pop, (btsp_activation)(a0 % 10), v0, v1); break;
    case 3: null_arg = !pop; st = btsp_pop_set(pop, (btsp_pop_param)(199 + a0 % 7), v0); break;
    case 4: null_arg = !pop; st = btsp_pop_set_bias_init(pop, (btsp_init)(a0 % 7), v0, v1); break;
    case 5: {
        btsp_dend *d = NULL;
        null_arg = !pop;
        st = btsp_pop_dend(pop, &d);
        if (st == BTSP_OK)
            st = btsp_dend_set(d, (btsp_dend_param)(299 + a0 % 3), v0);
        break;
    }
    case 6: {
        btsp_proj *pj = NULL;
        null_arg = !pre || !pop;
        st = btsp_proj_add(pre, pop, (btsp_compartment)(a0 % 3), &pj);
        if (st == BTSP_OK)
            KEEP(w->projs, w->n_projs, MAX_PROJS, pj);
        break;
    }
    case 7: null_arg = !proj; st = btsp_proj_set_direction(proj, (btsp_direction)(a0 % 3)); break;
    case 8: null_arg = !proj; st = btsp_proj_set_phase(proj, (btsp_phase)(a0 % 4)); break;
    case 9: null_arg = !proj; st = btsp_proj_set_bounds(proj, v0, v1); break;
    case 10: null_arg = !proj; st = btsp_proj_set_init(proj, (btsp_init)(a0 % 7), v0, v1); break;
    case 11:
        null_arg = !proj;
        st = btsp_proj_set_normalize(proj, v0, (int)(a0 % 3));
        if (st == BTSP_OK)
            w->constraint[proj_slot(w, proj)] |= CON_NORMALIZED;
        break;
    case 12:
        null_arg = !proj;
        st = btsp_proj_set_no_autapses(proj);
        if (st == BTSP_OK)
            w->constraint[proj_slot(w, proj)] |= CON_NO_AUTAPSES;
        break;
    case 13:
        null_arg = !proj || !src;
        st = btsp_proj_set_clone(proj, src, v0, (int)(a0 % 3));
        if (st == BTSP_OK)
            w->constraint[proj_slot(w, proj)] |= CON_CLONE;
        break;
    case 14: {
        btsp_rule *ru = NULL;
        st = btsp_rule_create(w->net, (btsp_rule_kind)(a0 % 32), &ru);
        if (st == BTSP_OK)
            KEEP(w->rules, w->n_rules, MAX_RULES, ru);
        break;
    }
    case 15:
        null_arg = !rule || (a0 % 2 ? !proj : !pop);
        st = a0 % 2 ? btsp_proj_set_rule(proj, rule) : btsp_pop_set_bias_rule(pop, rule);
        break;
    case 16: null_arg = !rule; st = btsp_rule_set(rule, (btsp_rule_param)(399 + a0 % 14), v0); break;
    case 17:
        null_arg = !rule || (a0 % 2 && !pop);
        st = a0 % 2 ? btsp_rule_set_source(rule, pop) : btsp_rule_enable(rule, (int)(a1 % 3));
        break;
    case 18: {
        btsp_gate *g = NULL;
        st = btsp_gate_create(w->net, (btsp_gate_kind)(a0 % 4), &g);
        if (st == BTSP_OK)
            KEEP(w->gates, w->n_gates, MAX_GATES, g);
        break;
    }
    case 19:
        null_arg = !gate || (a0 % 2 == 0 && !pop);
        st = a0 % 2 ? btsp_gate_set(gate, (btsp_gate_param)(499 + a1 % 6), v0) : btsp_gate_attach(gate, pop);
        break;
    case 20:
        st = a0 % 4 ? btsp_net_set(w->net, (btsp_net_param)(99 + a1 % 8), v0)
                    : btsp_net_set_backward(w->net, (btsp_backward_mode)(a1 % 5));
        break;
    case 21: {
        btsp_monitor *m = NULL;
        null_arg = !pop;
        st = btsp_monitor_add_pop(pop, (btsp_var)(a0 % 13), a1 % 4, a2 % 8, &m);
        break;
    }
    case 22:
        st = btsp_net_finalize(w->net);
        if (st == BTSP_OK)
            check_bounds(w);
        break;
    case 23:
        if (a2 % 16 == 15) { /* gradients (read-only analyses) */
            null_arg = a1 % 2 ? !proj : !pop;
            st = op_gradient(w, r, pop, proj, a1);
            pure = 1;
        } else {
            st = op_train(w, r, a0 % 4 == 0);
        }
        break;
    case 24: {
        float v[MAX_UNITS * MAX_UNITS];
        for (size_t i = 0; i < MAX_UNITS * MAX_UNITS; i++)
            v[i] = (float)(i % 5 == 4 ? v1 : v0) * (float)(i % 3);
        null_arg = !proj;
        st = btsp_proj_set_weights(proj, v, a0 % MAX_UNITS, a1 % MAX_UNITS);
        if (st == BTSP_OK)
            w->user_weights = 1;
        break;
    }
    case 26:
        null_arg = !proj;
        if (a2 % 2) { /* receptive fields: an image geometry near the presynaptic size, any side */
            size_t n = proj ? btsp_pop_size(btsp_proj_pre(proj)) : 4, ch = 1 + a0 % 2, h = 1 + a1 % 3;
            double norm = a2 % 8 < 4 ? 0.0 : v0;
            st = btsp_proj_set_receptive_fields(proj, a2 / 2 % 4, ch, h, n / (ch * h) + a0 / 2 % 2, norm);
            if (st == BTSP_OK)
                w->constraint[proj_slot(w, proj)] |= CON_RF | (norm > 0.0 ? CON_NORMALIZED : 0);
        } else { /* and the queries */
            size_t row, col, side;
            double ns;
            st = a0 % 2 ? btsp_proj_receptive_field(proj, a1 % MAX_UNITS, &row, &col)
                        : btsp_proj_get_receptive_fields(proj, &side, NULL, NULL, NULL, &ns);
            pure = 1;
        }
        break;
    default:
        if (a0 % 2) {
            st = btsp_net_reset(w->net, a1 % 9);
        } else if (a1 % 4 == 3) {
            st = state_round_trip(w->net, a2);
            pure = 1;
        } else {
            st = btsp_net_constrain(w->net);
            if (st == BTSP_OK)
                w->user_weights = 0;
        }
        break;
    }
    check(w, st, null_arg);
    /* A failing call changes nothing; a non-finite training update is the documented exception. */
    if ((st < 0 && st != BTSP_E_NUMERIC) || pure)
        FUZZ_EXPECT(fingerprint(w->net) == before);
}

/* Runs the program on a fresh network; returns it (the caller destroys it). */
static btsp_net *run_program(const uint8_t *data, size_t size, btsp_allocator *alloc)
{
    world w;
    memset(&w, 0, sizeof w);
    FUZZ_EXPECT(btsp_net_create_with_allocator(alloc, &w.net) == BTSP_OK);
    reader r = {data, size};
    for (int i = 0; i < MAX_OPS && r.n > 0; i++)
        step(&w, &r);
    return w.net;
}

/* Determinism: the same calls give bitwise the same weights, biases and state. */
static void expect_same(const btsp_net *a, const btsp_net *b)
{
    FUZZ_EXPECT(btsp_net_is_finalized(a) == btsp_net_is_finalized(b));
    FUZZ_EXPECT(btsp_net_proj_count(a) == btsp_net_proj_count(b));
    FUZZ_EXPECT(btsp_net_pop_count(a) == btsp_net_pop_count(b));
    if (!btsp_net_is_finalized(a))
        return;
    for (size_t i = 0; i < btsp_net_proj_count(a); i++) {
        const float *va, *vb;
        size_t ra, ca, rb, cb;
        FUZZ_EXPECT(btsp_proj_weights(btsp_net_proj_at(a, i), &va, &ra, &ca) == BTSP_OK);
        FUZZ_EXPECT(btsp_proj_weights(btsp_net_proj_at(b, i), &vb, &rb, &cb) == BTSP_OK);
        FUZZ_EXPECT(ra == rb && ca == cb);
        FUZZ_EXPECT(memcmp(va, vb, ra * ca * sizeof *va) == 0);
    }
    static const btsp_var vars[] = {BTSP_VAR_ACTIVITY, BTSP_VAR_BIAS, BTSP_VAR_PLATEAU};
    for (size_t i = 0; i < btsp_net_pop_count(a); i++)
        for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++) {
            const float *sa, *sb;
            size_t na, nb;
            btsp_status st = btsp_pop_state(btsp_net_pop_at(a, i), vars[k], &sa, &na);
            FUZZ_EXPECT(btsp_pop_state(btsp_net_pop_at(b, i), vars[k], &sb, &nb) == st);
            if (st == BTSP_OK)
                FUZZ_EXPECT(na == nb && memcmp(sa, sb, na * sizeof *sa) == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_budget ba = {0, (size_t)64 << 20}, bb = ba;
    btsp_allocator alloc_a = {fuzz_alloc, fuzz_free, &ba}, alloc_b = {fuzz_alloc, fuzz_free, &bb};
    btsp_net *a = run_program(data, size, &alloc_a);
    btsp_net *b = run_program(data, size, &alloc_b);
    expect_same(a, b);
    btsp_net_destroy(a);
    btsp_net_destroy(b);
    FUZZ_EXPECT(ba.used == 0 && bb.used == 0);
    return 0;
}
