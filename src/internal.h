/* Internal structures shared by the core source files. Not installed.
 *
 * Memory: every object is allocated through the network's allocator (btsp__net_alloc) and linked
 * into the network's object arrays, so btsp_net_destroy frees everything in one place. State
 * buffers are allocated in one pass at finalize; nothing is allocated after that. */
#ifndef BTSP_INTERNAL_H
#define BTSP_INTERNAL_H

#include "btsp/btsp.h"
#include "btsp/btsp_kernels.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>

#define BTSP_NAME_MAX 64 /* layer and population names, including the NUL */

/* A parameter the engine stores or uses as a float must be a float: finite and |x| <= FLT_MAX
 * (a larger finite double would become +-inf in the float, and converting it is undefined). */
static inline int btsp__float_value(double x)
{
    return fabs(x) <= (double)FLT_MAX;
}

/* A bound may also be the infinity on its open side (-inf for a lower, +inf for an upper one). */
static inline int btsp__float_bound(double x, int upper)
{
    return btsp__float_value(x) || x == (upper ? INFINITY : -INFINITY);
}

/* RNG stream numbers: each consumer draws from its own stream so results do not depend on the
 * order in which objects draw. Counters index the draws inside a stream. */
#define BTSP_STREAM_WEIGHTS 0x1000u /* + projection index; counter = element index */
#define BTSP_STREAM_BIAS 0x2000u    /* + population index */
#define BTSP_STREAM_GATE 0x3000u    /* + population index; counter = net->gate_counter */
#define BTSP_STREAM_RF 0x4000u      /* + projection index; counter = 2 x unit (+1 for the column) */

/* Growable array of object pointers. */
typedef struct ptr_vec {
    void **items;
    size_t n, cap;
} ptr_vec;

typedef enum proj_constraint {
    CONSTRAINT_NONE = 0,
    CONSTRAINT_NORMALIZE = 1,
    CONSTRAINT_NO_AUTAPSES = 2,
    CONSTRAINT_CLONE = 3,
    CONSTRAINT_RF = 4 /* btsp_proj_set_receptive_fields() */
} proj_constraint;

struct btsp_layer {
    btsp_net *net;
    char name[BTSP_NAME_MAX];
    size_t index;
    ptr_vec pops; /* btsp_pop*, YAML/sweep order */
};

struct btsp_dend {
    btsp_pop *pop;
    double clip;      /* backward dendritic state is clipped to [-clip, clip] */
    float *fwd_state; /* n: forward dendritic state (unclipped) */
    float *state;     /* n: backward dendritic state (clipped) */
};

struct btsp_pop {
    btsp_net *net;
    btsp_layer *layer;
    char name[BTSP_NAME_MAX];
    char full_name[2 * BTSP_NAME_MAX + 1];
    size_t index; /* position in net->pops (sweep order) */
    size_t size;

    btsp_activation act;
    double act_p0, act_p1;
    double tau;      /* effective after finalize */
    int tau_set;     /* 0: inherit the network's tau at finalize */
    int include_bias;
    double bias_lo, bias_hi;
    int output_flag;
    btsp_init bias_init;
    double bias_a, bias_b;
    btsp_rule *bias_rule;

    btsp_dend *dend; /* NULL if the population has no dendritic compartment */
    btsp_gate *gate; /* NULL if no gate */
    ptr_vec in;      /* incoming btsp_proj*, creation order */
    int has_backward; /* some incoming projection has phase B or A */

    /* State, n floats each (allocated at finalize). */
    float *u, *a, *prev, *fwd_a, *fwd_prev, *bias, *input; /* input: scratch for summed drive */
    float *plateau, *nudge; /* only for gated populations */
    int *sel_idx;           /* gate scratch: n indices */

    /* Evaluation block state: eval_block x n each. */
    float *bu, *ba, *bprev, *binput;
};

struct btsp_proj {
    btsp_net *net;
    btsp_pop *pre, *post;
    size_t index;
    char name[4 * BTSP_NAME_MAX + 2]; /* "<postLayer><postPop>_<preLayer><prePop>" */
    btsp_compartment comp;
    btsp_direction dir;
    btsp_phase phase;
    double lo, hi;
    btsp_init init;
    double init_a, init_b;
    proj_constraint constraint;
    double norm_scale;
    int allow_autapses;
    const btsp_proj *clone_src;
    double clone_scale;
    int clone_transpose;
    /* CONSTRAINT_RF: the presynaptic population read as a rf_ch x rf_h x rf_w image; each post
     * unit keeps a rf_side x rf_side patch whose top-left corner (row, column) is rf_corner[2u],
     * rf_corner[2u + 1] (rows x 2, drawn at initialisation); rows renormalised to L1 norm
     * norm_scale afterwards if norm_scale > 0. */
    size_t rf_side, rf_ch, rf_h, rf_w;
    uint32_t *rf_corner;
    btsp_rule *rule;

    float *W; /* rows x cols = post->size x pre->size */
    size_t rows, cols;
    /* W * x for projections from the input population: the input is constant during a sample,
     * so the product is computed once per sample and reused for all 2T integration steps. */
    float *cache;
    int cache_valid;
    int user_set; /* btsp_proj_set_weights wrote W since the last constraint pass: the next one
                     treats every row as changed (clamp and clone everything) */
    float *bcache; /* the same for an evaluation block: eval_block x rows */
};

struct btsp_rule {
    btsp_net *net;
    btsp_rule_kind kind;
    int enabled;
    double lr;
    int lr_set;
    double sign, dep_ratio, dep_th, dep_width, discount, forward_only, w_max;
    int w_max_set;
    double theta_tau, theta_k;
    double relu_gate; /* HEBB_TEMPORAL_CONTRAST: gate the post-backward post rate */
    btsp_proj *proj;    /* projection rule */
    btsp_pop *bias_pop; /* or bias rule */
    /* BTSP traces of the previous sample: pre rates (cols) and post plateaus (rows). */
    float *past_pre, *past_plateau;
    /* BTSP: the rows (post units) the last step updated, n_touched of them (the kernel skips rows
     * without an event and clamps the rows it updates, so nothing else changed; used to clone
     * only what changed). */
    uint32_t *touched;
    size_t n_touched;
    float *theta; /* SUPERVISED_BCM: sliding threshold, one per post unit (rows) */
    btsp_pop *source; /* BACKPROP_DENDRITIC_LOSS: population whose forward dendritic state is the loss */
};

struct btsp_gate {
    btsp_net *net;
    btsp_gate_kind kind;
    double max_frac;
    int stochastic;
    double neg_th;
    int relu_gate;
    btsp_pop *pop;
};

struct btsp_monitor {
    btsp_net *net;
    btsp_var var;
    btsp_pop *pop;
    btsp_proj *proj;
    uint32_t stride;
    size_t capacity, width, n;
    uint64_t dropped;
    float *data;
    uint64_t *steps;
};

struct btsp_net {
    btsp_allocator alloc;
    size_t bytes; /* currently allocated through alloc */
    int finalized;
    btsp_status errcode;
    char errmsg[512];

    double tau;
    double forward_steps, backward_steps;
    double lr;
    int check_finite;
    size_t eval_block;
    int init_rng; /* btsp_init_rng of the initial weights and biases */
    uint64_t seed;
    btsp_backward_mode backward;
    btsp_step_fn hook;
    void *hook_user;
    void *user;

    ptr_vec layers, pops, projs, rules, gates, mons;
    btsp_pop *input, *output;

    uint64_t samples;
    double last_loss;
    uint64_t gate_counter;
    float *target;    /* n_out */
    float *work;      /* rule scratch: 6 * max_pop floats */
    size_t max_pop;   /* largest population size */
    size_t block_cap; /* eval block allocated */
    struct btsp_bp *bp; /* gradient rules: forward history and scratch (backprop.c) */
};

/* ---- net.c: memory, errors, vectors ---- */
void *btsp__net_alloc(btsp_net *net, size_t size);
void *btsp__net_calloc(btsp_net *net, size_t n, size_t size);
void btsp__net_free(btsp_net *net, void *p);
btsp_status btsp__net_error(btsp_net *net, btsp_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
btsp_status btsp__vec_push(btsp_net *net, ptr_vec *v, void *item);
void btsp__vec_free(btsp_net *net, ptr_vec *v);
/* Check a double parameter: finite and within [lo, hi]. */
btsp_status btsp__check_range(btsp_net *net, const char *what, double v, double lo, double hi);

/* ---- engine.c ---- */
btsp_status engine_finalize(btsp_net *net);
void btsp__engine_free_state(btsp_net *net);

/* kernels.c: 1 if btsp_k_btsp_update() updates a row with this plateau and past plateau (a
 * positive or negative plateau, or a positive past one), 0 if it leaves the row alone. The
 * rules record touched rows with it, so the two cannot disagree. */
int btsp__k_btsp_row_active(float plateau, float past_plateau);
void btsp__engine_init_params(btsp_net *net);
void btsp__engine_constrain(btsp_net *net, int all);
/* Clamp one projection to its (new) bounds now and re-derive the clones of it. */
void btsp__engine_apply_bounds(btsp_net *net, btsp_proj *q);
void btsp__engine_reset_state(btsp_net *net);

/* ---- rules.c ---- */
int btsp__rule_kind_known(btsp_rule_kind kind);
int btsp__rule_accepts(btsp_rule_kind kind, btsp_rule_param param);
void btsp__rule_step(btsp_net *net, btsp_rule *rule);
void btsp__rule_after_step(btsp_net *net, btsp_rule *rule);
void btsp__rule_reset(btsp_rule *rule);
double btsp__rule_lr(const btsp_rule *rule);
/* BTSP w_max: the explicit parameter, else the projection's upper bound, else 2. */
double btsp__rule_w_max(const btsp_rule *rule);

/* ---- monitor.c ---- */
btsp_status btsp__monitor_finalize(btsp_net *net, btsp_monitor *m);
void btsp__monitor_record(btsp_net *net, btsp_monitor *m);

/* ---- backprop.c: Backprop, BackpropBias, Backprop_DendriticLoss ---- */
btsp_status btsp__backprop_alloc(btsp_net *net);    /* at finalize, after the state */
void btsp__backprop_free(btsp_net *net);
btsp_status btsp__backprop_validate(btsp_net *net); /* at finalize, before allocation */
void btsp__backprop_record(btsp_net *net, size_t t); /* forward phase: state after step t (0 = reset) */
void btsp__backprop_train_step(btsp_net *net);       /* gradients from the recorded forward phase, SGD */

#endif
