/* A population of CA1 cells maps a track, and a reward location comes to be over-represented:
 * after the network model of Milstein et al. 2021 (eLife 10:e73046; their
 * simulate_biBTSP_synthetic_network with the WD_D rule, read from github neurosutras/BTSP;
 * differences below), written as a host loop around libbtsp's kernels. It is the hippocampal
 * counterpart of the library's deep networks: plateaus are not set by a teacher but gated by
 * top-down signals, here an inhibitory feedback that reads how densely the population already
 * represents the current position, and an instructive input at the reward.
 *
 * Setup (units: cm, s, mV): a 187 cm circular track run at 25 cm/s; 200 inputs with Gaussian
 * place fields exp(-((x - c) / sigma)^2), sigma = 90 cm / (3 sqrt(2)) (as examples/place_field.c);
 * 500 cells whose input weights all start at 1
 * (silent). Laps: 10 of exploration, 10 with a reward at 90 cm, 5 of exploration again.
 *  - Each cell's ramp (its depolarisation along the track) is s * sum_j (W_j - 1) x_j(pos).
 *  - The representation density D(pos) is the population's summed rate, rate = max(ramp - 2 mV,
 *    0), divided by the summed rate 500 cells would have with one one-plateau field each: D = 1
 *    when on average every cell carries a field. The feedback reads D once, at each lap's start.
 *  - Plateau probability per second: outside the reward window, g_b(D) = 0.0075 at D = 0
 *    falling along a sigmoid to 0 at the target D = 0.5 (the feedback); in the 500 ms after the
 *    animal reaches the reward, g_r(D) = 0.035 falling to 0 at D = 1.0, multiplied by
 *    1 + 2 min(ramp / 10 mV, 1) (cells already depolarised there are more likely to fire a
 *    plateau). Both gates are btsp_k_q() sigmoids: g(D) = q(D) with x in [0, D_target],
 *    y from p_max to 0, th = D_target, peak = D_target + D_target / 3 (basal) or
 *    D_target + (1.0 - 0.5) / 2 (reward), as in the reference simulation.
 *  - A plateau lasts 300 ms; the cell starts no other in the 800 ms from its onset.
 *    Draws: btsp_k_rand_uniform(seed, cell, time step), the same numbers on every platform;
 *    seed 2021, or the program's first argument.
 *  - Plasticity: the WD rule of examples/place_field.c (btsp_k_wd_default(), btsp_k_wd_rate_acc())
 *    with ET and IS normalised as there, integrated over the lap of the plateau and the next one
 *    (the traces' tails) at the weights of the lap's start, then applied and clipped to [0, 1].
 * Differences from the reference code: (a) it scales ramps by a factor calibrated on recorded
 * data, and its density unit is the rate of a synthetic target ramp (peak 1.4 x 8 mV, 160 cm
 * wide, asymmetric; a mean rate above threshold of about 2.7 mV by our reading); here s is set
 * so that one plateau in a silent cell makes a ramp peaking at 8 mV (their
 * initial_ramp_peak_val), and that field, with a smaller mean rate (printed), is the unit, so the
 * same map reads denser here and the targets 0.5 and 1.0 are reached with fewer fields. (b) It
 * draws each lap's plateaus over a two-lap window and the next lap draws again over its own, so
 * most moments get two chances; here every time step gets one draw, so fields form at the
 * stated rates (about half as fast).
 *
 * Checks (exit status 1 if one fails): (1) 30 laps of exploration with and without the
 * feedback: with it, plateaus nearly stop once D nears its target (it overshoots a little: D is
 * read once per lap and one plateau makes a whole field); without it D approaches 1, at least
 * 1.5 times as dense. (2) The
 * reference protocol: exploration maps the whole track evenly; the reward laps over-represent
 * the reward (density there exceeds that far away, more field peaks near it than its share of
 * the track), partly by cells that move their field there (bidirectional BTSP: the old field
 * depresses). (3) The over-representation persists through the familiar laps. */
#include <btsp/btsp_kernels.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_CELLS 500
#define N_IN 200
#define TRACK 187.0       /* cm */
#define SPEED 25.0        /* cm/s */
#define DT 0.01           /* s, time step */
#define LAP 748           /* steps per lap: TRACK / SPEED / DT */
#define FIELD_WIDTH 90.0  /* cm */
#define PLATEAU 30        /* steps (300 ms) */
#define PAUSE 50          /* steps (500 ms) without a new plateau after one */
#define REWARD_POS 90.0   /* cm */
#define REWARD_STEPS 50   /* steps (500 ms) of reward after reaching REWARD_POS */
#define RAMP_PEAK 8.0     /* mV: ramp of a field made by one plateau in a silent cell */
#define RATE_TH 2.0       /* mV: ramp below which a cell does not fire */
#define P_BASAL 0.0075    /* plateaus per second at D = 0, outside the reward */
#define P_REWARD 0.035    /* plateaus per second at D = 0, at the reward */
#define D_BASAL 0.5       /* target representation density outside the reward */
#define D_REWARD 1.0      /* target density at the reward */
#define SENS_REWARD 2.0   /* plateau probability gain of a depolarised cell at the reward */

enum { EXPLORE = 10, REWARD = 10, FAMILIAR = 5, LAPS = EXPLORE + REWARD + FAMILIAR };

static btsp_k_wd_params wd;
static uint64_t seed = 2021; /* of the plateau draws; the first argument replaces it */
static float rates[LAP][N_IN]; /* input rates along one lap (the run is periodic) */
static float et[LAP][N_IN];    /* eligibility traces in the periodic steady state, peak 1 */
static float w[N_CELLS][N_IN]; /* normalised weights W / w_max */
static float ramp[N_CELLS][LAP];
static double is_peak;  /* peak of the filtered gate of one isolated plateau */
static double ramp_scale; /* s: mV per unit of sum_j (W_j - 1) x_j */
static double rate_norm;  /* summed rate of N_CELLS one-plateau fields, mean over the lap */

static double circular_distance(double a, double b)
{
    double d = fabs(a - b);
    return d < TRACK - d ? d : TRACK - d;
}

static double position(int t)
{
    return SPEED * DT * t;
}

static void make_inputs(void)
{
    const double sigma = FIELD_WIDTH / (3.0 * sqrt(2.0));
    for (int t = 0; t < LAP; t++)
        for (int j = 0; j < N_IN; j++) {
            double d = circular_distance(position(t), TRACK * (j + 0.5) / N_IN);
            rates[t][j] = (float)exp(-d * d / (sigma * sigma));
        }
    /* unit-area exponential filter (trace <- f trace + (1 - f) x), run for three laps so the
     * last one is the periodic steady state, then divided by the population peak */
    const float f = (float)btsp_k_decay_factor(DT, wd.tau_et);
    float trace[N_IN] = {0}, peak = 0.0f;
    for (int lap = 0; lap < 3; lap++)
        for (int t = 0; t < LAP; t++) {
            btsp_k_trace_decay(N_IN, f, trace);
            btsp_k_trace_add(N_IN, trace, rates[t], 1.0f - f);
            if (lap == 2) {
                memcpy(et[t], trace, sizeof trace);
                for (int j = 0; j < N_IN; j++)
                    peak = fmaxf(peak, trace[j]);
            }
        }
    for (int t = 0; t < LAP; t++)
        for (int j = 0; j < N_IN; j++)
            et[t][j] /= peak;
}

/* Instructive signal over the plateau's lap and the next (2 * LAP steps) for plateaus starting
 * at the given steps: the unit-area filter of the gate, divided by the peak an isolated plateau
 * gives and capped at 1 (overlapping plateaus do not make a larger signal). */
static void instructive(const int *starts, int n, float *is)
{
    const float f = (float)btsp_k_decay_factor(DT, wd.tau_is);
    float s = 0.0f;
    for (int t = 0; t < 2 * LAP; t++) {
        float gate = 0.0f;
        for (int k = 0; k < n; k++)
            gate = t >= starts[k] && t < starts[k] + PLATEAU ? 1.0f : gate;
        btsp_k_trace_decay(1, f, &s);
        btsp_k_trace_add(1, &s, &gate, 1.0f - f);
        is[t] = is_peak > 0.0 ? (float)fmin(s / is_peak, 1.0) : s;
    }
}

/* One lap's plasticity of a cell: the WD rule integrated (trapezoid) over the two-lap window at
 * the weights of the lap's start, then applied and clipped. Steps before the first plateau have
 * IS = 0 exactly and change nothing (q(0) = 0), so they are skipped; so is the tail once IS has
 * decayed below IS_MIN after the last plateau (about 6 s later): the skipped steps would change
 * no normalised weight by more than k q'(0) IS_MIN tau_IS, 1.4e-6 for the depression term (the
 * larger; 3e-7 for potentiation). */
#define IS_MIN 1e-6
static void induce(float *wc, const int *starts, int n)
{
    float is[2 * LAP], dw[N_IN] = {0};
    instructive(starts, n, is);
    for (int t = starts[0]; t < 2 * LAP; t++) {
        if (t >= starts[n - 1] + PLATEAU && is[t] < IS_MIN)
            break;
        const double weight = t == 0 || t == 2 * LAP - 1 ? 0.5 : 1.0; /* trapezoid ends */
        btsp_k_wd_rate_acc(&wd, N_IN, wc, et[t % LAP], is[t], weight * DT, dw);
    }
    for (int j = 0; j < N_IN; j++)
        wc[j] += dw[j];
    btsp_k_clip(N_IN, wc, 0.0f, 1.0f);
}

static void make_ramp(const float *wc, float *r)
{
    for (int t = 0; t < LAP; t++) {
        double sum = 0.0;
        for (int j = 0; j < N_IN; j++)
            sum += (wc[j] * wd.w_max - 1.0) * rates[t][j];
        r[t] = (float)(ramp_scale * sum);
    }
}

static double fire(double v)
{
    return v > RATE_TH ? v - RATE_TH : 0.0;
}

/* Calibration from one plateau at 90 cm in a silent cell: the ramp scale (peak RAMP_PEAK) and
 * the rate of such a field, the unit of the representation density. */
static void calibrate(void)
{
    float s[2 * LAP], wc[N_IN], r[LAP];
    const int start = (int)(REWARD_POS / (SPEED * DT));
    is_peak = 0.0;
    instructive(&start, 1, s);
    for (int t = 0; t < 2 * LAP; t++)
        is_peak = fmax(is_peak, s[t]);
    for (int j = 0; j < N_IN; j++)
        wc[j] = (float)(1.0 / wd.w_max);
    induce(wc, &start, 1);
    ramp_scale = 1.0;
    make_ramp(wc, r);
    double peak = 0.0;
    for (int t = 0; t < LAP; t++)
        peak = fmax(peak, r[t]);
    ramp_scale = RAMP_PEAK / peak;
    rate_norm = 0.0;
    for (int t = 0; t < LAP; t++)
        rate_norm += fire(r[t] * ramp_scale) / LAP;
    rate_norm *= N_CELLS;
}

static void density(double *d)
{
    for (int t = 0; t < LAP; t++) {
        double sum = 0.0;
        for (int i = 0; i < N_CELLS; i++)
            sum += fire(ramp[i][t]);
        d[t] = sum / rate_norm;
    }
}

/* Position of a cell's field (its ramp's peak), or -1 if the ramp varies by less than 2 mV. */
static double field_peak(const float *r)
{
    int best = 0;
    float lo = r[0];
    for (int t = 1; t < LAP; t++) {
        best = r[t] > r[best] ? t : best;
        lo = fminf(lo, r[t]);
    }
    return r[best] - lo > 2.0f ? position(best) : -1.0;
}

typedef struct {
    int fields;          /* cells with a field */
    double d_mean, d_min, d_max;
    double d_reward;     /* mean density within 20 cm of the reward */
    double d_far;        /* mean density further than 60 cm from it */
    double near_share;   /* share of fields peaked within 30 cm of the reward */
    long plateaus;       /* plateaus in the phase */
} summary;

static summary summarise(const double *d, long plateaus)
{
    summary s = {0, 0.0, INFINITY, 0.0, 0.0, 0.0, 0.0, plateaus};
    int n_rew = 0, n_far = 0, near = 0;
    for (int t = 0; t < LAP; t++) {
        double dist = circular_distance(position(t), REWARD_POS);
        s.d_mean += d[t] / LAP;
        s.d_min = fmin(s.d_min, d[t]);
        s.d_max = fmax(s.d_max, d[t]);
        if (dist <= 20.0) {
            s.d_reward += d[t];
            n_rew++;
        } else if (dist > 60.0) {
            s.d_far += d[t];
            n_far++;
        }
    }
    s.d_reward /= n_rew;
    s.d_far /= n_far;
    for (int i = 0; i < N_CELLS; i++) {
        double p = field_peak(ramp[i]);
        if (p >= 0.0) {
            s.fields++;
            near += circular_distance(p, REWARD_POS) <= 30.0;
        }
    }
    s.near_share = s.fields ? (double)near / s.fields : 0.0;
    return s;
}

static void show(const char *title, const double *d, const summary *s)
{
    printf("%s: %d cells with a field, %ld plateaus; density mean %.2f (min %.2f, max %.2f), "
           "%.2f within 20 cm of the reward, %.2f beyond 60 cm; %.0f%% of fields within 30 cm of it\n",
           title, s->fields, s->plateaus, s->d_mean, s->d_min, s->d_max, s->d_reward, s->d_far,
           100.0 * s->near_share);
    for (int t = 0; t < LAP; t += 40) {
        int bar = (int)(d[t] * 40.0 + 0.5);
        printf("  %6.1f cm  D %4.2f  ", position(t), d[t]);
        for (int k = 0; k < bar && k < 70; k++)
            putchar('#');
        putchar('\n');
    }
}

/* Cells whose field peak moved by more than 30 cm during some laps: how many, how many of them
 * now peak within 30 cm of the reward, and how many lost more than 2 mV of ramp at their old
 * peak (the old field depressed, not merely outgrown by a new one). */
typedef struct {
    int moved, to_reward, depressed;
} remap;

/* Runs laps [first, last) and returns the number of plateaus. gated = 0 removes the density
 * feedback (plateau probability at its peak everywhere). rm (may be NULL) gets the remapping. */
static long run(int first, int last, int gated, long refractory[N_CELLS], remap *rm)
{
    double d[LAP];
    long plateaus = 0;
    btsp_k_q_params gb = {D_BASAL, D_BASAL + D_BASAL / 3.0, 0.0, D_BASAL, P_BASAL * DT, 0.0};
    btsp_k_q_params gr = {D_REWARD, D_REWARD + (D_REWARD - D_BASAL) / 2.0, 0.0, D_REWARD, P_REWARD * DT, 0.0};
    const int reward_start = (int)ceil(REWARD_POS / (SPEED * DT));
    double before[N_CELLS], before_v[N_CELLS];
    int before_t[N_CELLS];
    for (int i = 0; i < N_CELLS; i++) {
        before[i] = field_peak(ramp[i]);
        before_t[i] = (int)lround(before[i] / (SPEED * DT)); /* position(t) = 0.25 cm * t */
        before_v[i] = before[i] >= 0.0 ? ramp[i][before_t[i]] : 0.0;
    }
    for (int lap = first; lap < last; lap++) {
        const int rewarded = lap >= EXPLORE && lap < EXPLORE + REWARD;
        density(d); /* the feedback reads the map as it is at the lap's start */
        for (int i = 0; i < N_CELLS; i++) {
            int starts[LAP / (PLATEAU + PAUSE) + 1], n = 0;
            for (int t = 0; t < LAP; t++) {
                const long step = (long)lap * LAP + t;
                if (step < refractory[i])
                    continue;
                double p;
                if (rewarded && t >= reward_start && t < reward_start + REWARD_STEPS)
                    p = (gated ? btsp_k_q(&gr, d[t]) : P_REWARD * DT) *
                        (1.0 + SENS_REWARD * fmin(fmax(ramp[i][t] / 10.0, 0.0), 1.0));
                else
                    p = gated ? btsp_k_q(&gb, d[t]) : P_BASAL * DT;
                if (btsp_k_rand_uniform(seed, (uint64_t)i, (uint64_t)step) < p) {
                    starts[n++] = t;
                    refractory[i] = step + PLATEAU + PAUSE;
                }
            }
            if (n) {
                induce(w[i], starts, n);
                make_ramp(w[i], ramp[i]);
                plateaus += n;
            }
        }
    }
    if (rm) {
        rm->moved = rm->to_reward = rm->depressed = 0;
        for (int i = 0; i < N_CELLS; i++) {
            double after = field_peak(ramp[i]);
            if (before[i] >= 0.0 && after >= 0.0 && circular_distance(before[i], after) > 30.0) {
                rm->moved++;
                rm->to_reward += circular_distance(after, REWARD_POS) <= 30.0;
                rm->depressed += before_v[i] - ramp[i][before_t[i]] > 2.0;
            }
        }
    }
    return plateaus;
}

static void reset(long refractory[N_CELLS])
{
    for (int i = 0; i < N_CELLS; i++) {
        for (int j = 0; j < N_IN; j++)
            w[i][j] = (float)(1.0 / wd.w_max);
        memset(ramp[i], 0, sizeof ramp[i]);
        refractory[i] = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        seed = strtoull(argv[1], NULL, 10);
    btsp_k_wd_default(&wd);
    make_inputs();
    calibrate();
    printf("calibration: one plateau in a silent cell makes a %.0f mV ramp (scale %.3f mV per unit input), "
           "mean rate above threshold %.2f mV: the density unit\n",
           RAMP_PEAK, ramp_scale, rate_norm / N_CELLS);

    static long refractory[N_CELLS];
    double d[LAP];
    int ok = 1;
    remap rm;

    /* (1) the feedback: 30 laps of exploration with and without it. With it, plateaus stop where
     *     the density nears its target 0.5 and the map stops growing; without it, plateaus go on
     *     at their peak probability and the density overshoots. */
    reset(refractory);
    long p_free = run(0, 3 * EXPLORE, 0, refractory, NULL);
    density(d);
    summary free_run = summarise(d, p_free);
    reset(refractory);
    long p_first = run(0, 2 * EXPLORE, 1, refractory, NULL);
    long p_last = run(2 * EXPLORE, 3 * EXPLORE, 1, refractory, NULL);
    density(d);
    summary gated = summarise(d, p_first + p_last);
    printf("30 laps of exploration: density mean %.2f (max %.2f) with the feedback, %ld plateaus, %ld of them in "
           "the last 10 laps; without it %.2f (max %.2f), %ld plateaus\n",
           gated.d_mean, gated.d_max, gated.plateaus, p_last, free_run.d_mean, free_run.d_max, free_run.plateaus);
    ok &= gated.d_mean < D_BASAL + 0.15 && free_run.d_mean > 1.5 * gated.d_mean && p_last * 10 < p_first;

    /* the reference protocol: 10 laps of exploration, 10 with a reward at 90 cm, 5 without */
    reset(refractory);
    long p = run(0, EXPLORE, 1, refractory, NULL);
    density(d);
    summary explore = summarise(d, p);
    show("after 10 laps of exploration", d, &explore);
    ok &= explore.fields > N_CELLS / 5 && explore.d_min > 0.5 * explore.d_max;

    p = run(EXPLORE, EXPLORE + REWARD, 1, refractory, &rm);
    density(d);
    summary reward = summarise(d, p);
    show("after 10 laps with a reward at 90 cm", d, &reward);
    printf("%d cells moved their field by more than 30 cm during the reward laps, %d of them to within 30 cm of "
           "the reward; %d lost more than 2 mV of ramp at their old peak\n",
           rm.moved, rm.to_reward, rm.depressed);
    /* (2) over-representation of the reward: denser there than far away, more field peaks near
     *     it than its share of the track (60 cm of 187: 32%), and fields that moved there, most
     *     of them with the old field depressed */
    const double share = 60.0 / TRACK;
    ok &= reward.d_reward > 1.3 * reward.d_far && reward.near_share > 1.3 * share &&
          reward.d_reward > explore.d_reward + 0.2 && 2 * rm.to_reward > rm.moved && rm.to_reward > 10 &&
          2 * rm.depressed > rm.moved;

    p = run(EXPLORE + REWARD, LAPS, 1, refractory, NULL);
    density(d);
    summary familiar = summarise(d, p);
    show("after 5 more laps without reward", d, &familiar);
    /* (3) the over-representation persists: the basal feedback allows no plateaus where the
     *     density exceeds 0.5, so the reward's fields stay */
    ok &= familiar.d_reward > 0.9 * reward.d_reward && familiar.d_reward > 1.3 * familiar.d_far;

    printf(ok ? "place_population: reward over-representation reproduced\n" : "place_population: a check FAILED\n");
    return ok ? 0 : 1;
}
