/* State images: btsp_net_state_size(), btsp_net_save_state(), btsp_net_load_state().
 *
 * An image holds everything a finalized network changes while it trains, so that training
 * resumed from an image gives bitwise the same weights as training that never stopped:
 * weights (with each projection's "set by the user since the last constraint pass" flag),
 * biases, the BTSP rules' traces of the previous sample, the BCM thresholds, the seed, the
 * sample counter, the stochastic gates' draw counter and the last loss; plus the populations'
 * state after the last sample (activities, forward snapshot, dendritic states, plateaus,
 * nudges), so that inspection after a load sees what it saw before the save. Parameters
 * (learning rates, time constants, bounds, ...) are not in it: they belong to the structure the
 * caller built or loaded from a config. Monitors are not in it either.
 *
 * Layout, little-endian whatever the host (so images move between machines):
 *   header (HEADER_BYTES):
 *     0  8  magic "BTSPSTAT"
 *     8  4  format version (FORMAT_VERSION)
 *    12  4  library version that wrote it (BTSP_VERSION_NUMBER, informational)
 *    16  8  payload bytes
 *    24  8  structure fingerprint (FNV-1a 64 over the structure description, see fingerprint())
 *    32  4  populations   36  4 projections   40  4 rules   44  4 reserved (0)
 *    48  8  checksum: FNV-1a 64 over header bytes 0-47, then the payload (any one changed byte
 *           changes it: every FNV-1a step is a bijection of the running hash)
 *   payload: seed u64, samples u64, gate counter u64, last loss f64; then per population in
 *   sweep order its state arrays (see walk()); per projection the flag (u32) and W (rows x cols
 *   floats, row-major); per rule its trace arrays; last, per projection with receptive fields
 *   (btsp_proj_set_receptive_fields()) its corners, rows x (row u32, column u32). Floats are
 *   IEEE-754 binary32 bit patterns.
 *
 * Loading checks magic, version, size, structure and checksum before it writes anything, so a
 * rejected image leaves the network as it was. */
#include "internal.h"
#include "state_format.h"

#include <string.h>

#define HEADER_BYTES BTSP__STATE_HEADER_BYTES
#define FORMAT_VERSION 1u
static const unsigned char MAGIC[8] = {'B', 'T', 'S', 'P', 'S', 'T', 'A', 'T'};

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return btsp__fnv1a64(h, b, 8);
}

/* Over the header without its checksum field, then the payload. */
static uint64_t checksum(const unsigned char *image, size_t payload)
{
    uint64_t h = btsp__fnv1a64(BTSP__FNV_OFFSET, image, BTSP__STATE_CHECKSUM_AT);
    return btsp__fnv1a64(h, image + HEADER_BYTES, payload);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* The structure an image must match: every population's name, size and which optional state
 * it has; every projection's name and shape; every rule's kind, target and trace arrays. Two
 * networks built from the same config (or the same calls) have the same fingerprint whatever
 * their parameters. */
static uint64_t fingerprint(const btsp_net *net)
{
    uint64_t h = BTSP__FNV_OFFSET;
    for (size_t i = 0; i < net->pops.n; i++) {
        const btsp_pop *p = net->pops.items[i];
        h = btsp__fnv1a64(h, p->full_name, strlen(p->full_name) + 1);
        h = fnv_u64(h, p->size);
        h = fnv_u64(h, (uint64_t)(p->bias != NULL) | (uint64_t)(p->plateau != NULL) << 1 |
                           (uint64_t)(p->dend != NULL) << 2);
    }
    for (size_t i = 0; i < net->projs.n; i++) {
        const btsp_proj *q = net->projs.items[i];
        h = btsp__fnv1a64(h, q->name, strlen(q->name) + 1);
        h = fnv_u64(h, q->rows);
        h = fnv_u64(h, q->cols);
        if (q->constraint == CONSTRAINT_RF) { /* the image holds its corners (other kinds: as before 0.2) */
            h = btsp__fnv1a64(h, "rf", 3);
            h = fnv_u64(h, q->rf_side);
            h = fnv_u64(h, q->rf_ch);
            h = fnv_u64(h, q->rf_h);
            h = fnv_u64(h, q->rf_w);
        }
    }
    for (size_t i = 0; i < net->rules.n; i++) {
        const btsp_rule *r = net->rules.items[i];
        h = fnv_u64(h, (uint64_t)(int64_t)r->kind);
        h = fnv_u64(h, r->proj ? r->proj->index : UINT64_MAX);
        h = fnv_u64(h, r->bias_pop ? r->bias_pop->index : UINT64_MAX);
        h = fnv_u64(h, (uint64_t)(r->past_pre != NULL) | (uint64_t)(r->theta != NULL) << 1);
    }
    return h;
}

/* One pass over the image's payload: counts its bytes (out == NULL and in == NULL), writes it
 * (out) or reads it into the network (in). Every variable-length part is determined by the
 * structure, which the fingerprint has already matched when reading. */
typedef struct walker {
    unsigned char *out;
    const unsigned char *in;
    size_t pos;
} walker;

static void w_u64(walker *w, uint64_t *v)
{
    if (w->out)
        put_u64(w->out + w->pos, *v);
    else if (w->in)
        *v = get_u64(w->in + w->pos);
    w->pos += 8;
}

static void w_flag(walker *w, int *v)
{
    if (w->out)
        put_u32(w->out + w->pos, (uint32_t)*v);
    else if (w->in)
        *v = get_u32(w->in + w->pos) != 0; /* a flag: 0 or 1 */
    w->pos += 4;
}

static void w_floats(walker *w, float *x, size_t n)
{
    if (!x)
        return;
    if (w->out) {
        unsigned char *p = w->out + w->pos;
        for (size_t i = 0; i < n; i++) {
            uint32_t u;
            memcpy(&u, &x[i], sizeof u);
            put_u32(p + 4 * i, u);
        }
    } else if (w->in) {
        const unsigned char *p = w->in + w->pos;
        for (size_t i = 0; i < n; i++) {
            uint32_t u = get_u32(p + 4 * i);
            memcpy(&x[i], &u, sizeof u);
        }
    }
    w->pos += 4 * n;
}

static void w_u32s(walker *w, uint32_t *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (w->out)
            put_u32(w->out + w->pos, x[i]);
        else if (w->in)
            x[i] = get_u32(w->in + w->pos);
        w->pos += 4;
    }
}

static void walk(btsp_net *net, walker *w)
{
    uint64_t loss_bits;
    memcpy(&loss_bits, &net->last_loss, sizeof loss_bits);
    w_u64(w, &net->seed);
    w_u64(w, &net->samples);
    w_u64(w, &net->gate_counter);
    w_u64(w, &loss_bits);
    if (w->in)
        memcpy(&net->last_loss, &loss_bits, sizeof loss_bits);
    for (size_t i = 0; i < net->pops.n; i++) {
        btsp_pop *p = net->pops.items[i];
        size_t n = p->size;
        w_floats(w, p->bias, n);
        w_floats(w, p->u, n);
        w_floats(w, p->a, n);
        w_floats(w, p->prev, n);
        w_floats(w, p->fwd_a, n);
        w_floats(w, p->fwd_prev, n);
        w_floats(w, p->plateau, n);
        w_floats(w, p->nudge, n);
        if (p->dend) {
            w_floats(w, p->dend->fwd_state, n);
            w_floats(w, p->dend->state, n);
        }
    }
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        w_flag(w, &q->user_set);
        w_floats(w, q->W, q->rows * q->cols);
        if (w->in)
            q->cache_valid = 0;
    }
    for (size_t i = 0; i < net->rules.n; i++) {
        btsp_rule *r = net->rules.items[i];
        if (r->past_pre) {
            w_floats(w, r->past_pre, r->proj->cols);
            w_floats(w, r->past_plateau, r->proj->rows);
        }
        w_floats(w, r->theta, r->proj ? r->proj->rows : 0);
    }
    /* last, so that rf_corners_invalid() finds them without a walk */
    for (size_t i = 0; i < net->projs.n; i++) {
        btsp_proj *q = net->projs.items[i];
        if (q->constraint == CONSTRAINT_RF)
            w_u32s(w, q->rf_corner, 2 * q->rows);
    }
}

/* Bytes of the receptive-field corners at the payload's end. */
static size_t rf_bytes(const btsp_net *net)
{
    size_t n = 0;
    for (size_t i = 0; i < net->projs.n; i++) {
        const btsp_proj *q = net->projs.items[i];
        if (q->constraint == CONSTRAINT_RF)
            n += 8 * q->rows;
    }
    return n;
}

/* The corners stored in an image (payload p of `payload` bytes) lie inside their images, so the
 * masks never write out of bounds; checked before the image is loaded. Returns the first
 * offending projection or NULL. */
static const btsp_proj *rf_corners_invalid(const btsp_net *net, const unsigned char *p, size_t payload,
                                           size_t *unit)
{
    size_t pos = payload - rf_bytes(net);
    for (size_t i = 0; i < net->projs.n; i++) {
        const btsp_proj *q = net->projs.items[i];
        if (q->constraint != CONSTRAINT_RF)
            continue;
        for (size_t u = 0; u < q->rows; u++, pos += 8)
            if ((uint64_t)get_u32(p + pos) + q->rf_side > q->rf_h ||
                (uint64_t)get_u32(p + pos + 4) + q->rf_side > q->rf_w) {
                *unit = u;
                return q;
            }
    }
    return NULL;
}

static size_t payload_size(btsp_net *net)
{
    walker w = {NULL, NULL, 0};
    walk(net, &w);
    return w.pos;
}

size_t btsp_net_state_size(const btsp_net *net)
{
    if (!net || !net->finalized)
        return 0;
    /* the counting pass reads nothing and writes nothing */
    return HEADER_BYTES + payload_size((btsp_net *)net);
}

btsp_status btsp_net_save_state(btsp_net *net, void *buf, size_t size, size_t *written)
{
    if (written)
        *written = 0;
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_save_state: finalize the network first");
    if (!buf)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_net_save_state: NULL buffer");
    size_t payload = payload_size(net), total = HEADER_BYTES + payload;
    if (size < total)
        return btsp__net_error(net, BTSP_E_SHAPE,
                               "btsp_net_save_state: the buffer holds %zu bytes, the image needs %zu "
                               "(btsp_net_state_size())",
                               size, total);
    unsigned char *h = buf;
    walker w = {h + HEADER_BYTES, NULL, 0};
    walk(net, &w);
    memcpy(h, MAGIC, sizeof MAGIC);
    put_u32(h + 8, FORMAT_VERSION);
    put_u32(h + 12, (uint32_t)BTSP_VERSION_NUMBER);
    put_u64(h + 16, payload);
    put_u64(h + 24, fingerprint(net));
    put_u32(h + 32, (uint32_t)net->pops.n);
    put_u32(h + 36, (uint32_t)net->projs.n);
    put_u32(h + 40, (uint32_t)net->rules.n);
    put_u32(h + 44, 0);
    put_u64(h + BTSP__STATE_CHECKSUM_AT, checksum(h, payload));
    if (written)
        *written = total;
    return BTSP_OK;
}

btsp_status btsp_net_load_state(btsp_net *net, const void *buf, size_t size)
{
    if (!net)
        return BTSP_E_INVALID_ARG;
    if (!net->finalized)
        return btsp__net_error(net, BTSP_E_STATE, "btsp_net_load_state: finalize the network first");
    if (!buf)
        return btsp__net_error(net, BTSP_E_INVALID_ARG, "btsp_net_load_state: NULL buffer");
    const unsigned char *h = buf;
    if (size < HEADER_BYTES || memcmp(h, MAGIC, sizeof MAGIC) != 0)
        return btsp__net_error(net, BTSP_E_FORMAT, "btsp_net_load_state: not a libbtsp state image (%zu bytes%s)",
                               size, size < HEADER_BYTES ? ", shorter than the header" : ", wrong magic");
    uint32_t version = get_u32(h + 8);
    if (version != FORMAT_VERSION)
        return btsp__net_error(net, BTSP_E_UNSUPPORTED,
                               "btsp_net_load_state: image format version %u, this library reads version %u",
                               (unsigned)version, FORMAT_VERSION);
    size_t payload = payload_size(net);
    uint64_t stored = get_u64(h + 16);
    uint32_t np = get_u32(h + 32), nq = get_u32(h + 36), nr = get_u32(h + 40);
    if (np != net->pops.n || nq != net->projs.n || nr != net->rules.n)
        return btsp__net_error(net, BTSP_E_SHAPE,
                               "btsp_net_load_state: the image is of another network (%u populations, %u "
                               "projections, %u rules; this one has %zu, %zu, %zu)",
                               (unsigned)np, (unsigned)nq, (unsigned)nr, net->pops.n, net->projs.n, net->rules.n);
    if (get_u64(h + 24) != fingerprint(net))
        return btsp__net_error(net, BTSP_E_SHAPE,
                               "btsp_net_load_state: the image is of another network (same numbers of "
                               "populations, projections and rules, but other names, sizes or rules)");
    if (stored != payload)
        return btsp__net_error(net, BTSP_E_FORMAT,
                               "btsp_net_load_state: the header gives %llu payload bytes, this network's "
                               "image has %zu (the image is damaged)",
                               (unsigned long long)stored, payload);
    if (size - HEADER_BYTES < payload)
        return btsp__net_error(net, BTSP_E_FORMAT, "btsp_net_load_state: image truncated (%zu of %zu bytes)", size,
                               (size_t)(HEADER_BYTES + payload));
    if (size - HEADER_BYTES > payload)
        return btsp__net_error(net, BTSP_E_FORMAT,
                               "btsp_net_load_state: %zu bytes after the image's end (%zu bytes expected)",
                               size - HEADER_BYTES - payload, (size_t)(HEADER_BYTES + payload));
    if (get_u64(h + BTSP__STATE_CHECKSUM_AT) != checksum(h, payload))
        return btsp__net_error(net, BTSP_E_FORMAT, "btsp_net_load_state: checksum mismatch (the image is damaged)");
    size_t unit = 0;
    const btsp_proj *bad = rf_corners_invalid(net, h + HEADER_BYTES, payload, &unit);
    if (bad)
        return btsp__net_error(net, BTSP_E_FORMAT,
                               "btsp_net_load_state: receptive field of unit %zu of '%s' lies outside its %zu x %zu "
                               "image (the image is damaged)",
                               unit, bad->name, bad->rf_h, bad->rf_w);
    walker w = {NULL, h + HEADER_BYTES, 0};
    walk(net, &w);
    return BTSP_OK;
}
