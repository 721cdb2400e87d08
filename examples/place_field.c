/* Place-field formation by one dendritic plateau: the weight-dependent BTSP model of Milstein et
 * al. 2021 (eLife 10:e73046, "WD_D" model, generic parameter set of their network simulation),
 * written as a host loop around libbtsp's kernels: exponential traces (btsp_k_decay_factor,
 * btsp_k_trace_decay, btsp_k_trace_add), the rule itself with its generic parameters
 * (btsp_k_wd_default, btsp_k_wd_rate_acc) and clipping (btsp_k_clip). A teaching example: it prints the synaptic weights along the track after each
 * plateau and checks the two signatures of BTSP the model was built for.
 *
 * Setup (units: cm, s): a 187 cm circular track run at 25 cm/s; 200 inputs with Gaussian place
 * fields exp(-((x - c) / sigma)^2), sigma = 90 cm / (3 sqrt(2)) (so 90 cm wide, a standard
 * deviation of 15 cm, as the authors' code writes them), centred evenly along the track; one CA1
 * cell whose input
 * weights all start at 1 (no place field). Per lap the model computes
 *   ET_j(t) = (x_j * exp(-t / tau_ET))(t), normalised so that the largest ET over inputs and time
 *             is 1 (eligibility trace),
 *   IS(t)   = (P * exp(-t / tau_IS))(t), normalised to peak 1 (instructive signal from the
 *             300 ms plateau P),
 *   dw_j/dt = k+ q+(ET_j IS) (1 - w_j) - k- q-(ET_j IS) w_j,   w = W / W_max,
 * integrated over the run (four laps; only the induction lap contributes, q(0) = 0) with w held
 * at its value at the start, then clipped to [0, 1].
 *
 * Checks: (1) one plateau at 90 cm creates a field in one lap, peaked a few cm before the
 * plateau position and extending further backwards than forwards (inputs active seconds before
 * the plateau are potentiated most, because tau_ET > tau_IS), and local (less than half of the
 * track); (2) a second plateau at 150 cm moves the field: inputs there potentiate and the strong
 * inputs of the old field depress, while the same plateau in a naive cell potentiates those very
 * inputs (the weight dependence that makes BTSP bidirectional). Exit status 1 if a check fails. */
#include <btsp/btsp_kernels.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define N_IN 200          /* inputs */
#define TRACK 187.0       /* cm */
#define SPEED 25.0        /* cm/s */
#define DT 0.01           /* s, integration step */
#define FIELD_WIDTH 90.0  /* cm, = 3 sqrt(2) sigma of exp(-((x - c) / sigma)^2) */
#define PLATEAU_DUR 0.3   /* s */
#define LAP_STEPS 748        /* TRACK / SPEED / DT: one lap of 7.48 s */
#define LAPS 4            /* two laps of warm-up, the induction lap, one lap for the tails */
#define T_STEPS (LAPS * LAP_STEPS)

/* Generic parameters of the Milstein et al. 2021 network model (btsp_k_wd_default(): times in
 * s; w_max = the initial weight 1 plus the peak change 3.68). */
static btsp_k_wd_params wd;

static double circular_distance(double a, double b)
{
    double d = fabs(a - b);
    return d < TRACK - d ? d : TRACK - d;
}

static double centre(int j)
{
    return TRACK * (j + 0.5) / N_IN;
}

/* Input rates x[t][j] along LAPS laps (the run is periodic in position). */
static float rates[T_STEPS][N_IN];
static float et[T_STEPS][N_IN];
static float is_sig[T_STEPS];

static void make_rates(void)
{
    const double sigma = FIELD_WIDTH / (3.0 * sqrt(2.0));
    for (int t = 0; t < T_STEPS; t++) {
        double pos = fmod(SPEED * DT * t, TRACK);
        for (int j = 0; j < N_IN; j++) {
            double d = circular_distance(pos, centre(j));
            rates[t][j] = (float)exp(-d * d / (sigma * sigma));
        }
    }
}

/* ET: every input filtered by a unit-area exponential (tau_ET), then divided by the population
 * peak. trace <- trace * f + (1 - f) x is the exact discrete filter with unit sum. */
static void make_eligibility(void)
{
    const float f = (float)btsp_k_decay_factor(DT, wd.tau_et);
    float trace[N_IN] = {0};
    float peak = 0.0f;
    for (int t = 0; t < T_STEPS; t++) {
        btsp_k_trace_decay(N_IN, f, trace);
        btsp_k_trace_add(N_IN, trace, rates[t], 1.0f - f);
        memcpy(et[t], trace, sizeof trace);
        for (int j = 0; j < N_IN; j++)
            peak = trace[j] > peak ? trace[j] : peak;
    }
    for (int t = 0; t < T_STEPS; t++)
        for (int j = 0; j < N_IN; j++)
            et[t][j] /= peak;
}

/* IS for a plateau starting when the animal reaches `pos` in lap LAPS - 2, normalised to peak 1. */
static void make_instructive(double pos)
{
    const float f = (float)btsp_k_decay_factor(DT, wd.tau_is);
    const int start = (LAPS - 2) * LAP_STEPS + (int)(pos / SPEED / DT + 0.5);
    const int len = (int)(PLATEAU_DUR / DT + 0.5);
    float s = 0.0f, peak = 0.0f;
    for (int t = 0; t < T_STEPS; t++) {
        float p = t >= start && t < start + len ? 1.0f : 0.0f;
        btsp_k_trace_decay(1, f, &s);
        btsp_k_trace_add(1, &s, &p, 1.0f - f);
        is_sig[t] = s;
        peak = s > peak ? s : peak;
    }
    for (int t = 0; t < T_STEPS; t++)
        is_sig[t] /= peak;
}

/* One induction lap: w (normalised weights, W / w_max) changes by the integral of the kinetic
 * scheme with w held at its value before the lap (trapezoid rule), then is clipped to [0, 1]. */
static void induce(float *w, double plateau_pos)
{
    make_instructive(plateau_pos);
    float dw[N_IN] = {0};
    for (int t = 0; t < T_STEPS; t++) {
        const double weight = t == 0 || t == T_STEPS - 1 ? 0.5 : 1.0; /* trapezoid */
        btsp_k_wd_rate_acc(&wd, N_IN, w, et[t], is_sig[t], weight * DT, dw);
    }
    for (int j = 0; j < N_IN; j++)
        w[j] += dw[j];
    btsp_k_clip(N_IN, w, 0.0f, 1.0f);
}

/* Position (cm) of the input with the largest weight, and a text plot of W along the track. */
static double show(const char *title, const float *w)
{
    int best = 0;
    for (int j = 1; j < N_IN; j++)
        best = w[j] > w[best] ? j : best;
    printf("%s: strongest input at %.1f cm, W = %.2f\n", title, centre(best), w[best] * wd.w_max);
    for (int j = 0; j < N_IN; j += 8) {
        double W = w[j] * wd.w_max;
        int bar = (int)(W * 10.0 + 0.5);
        printf("  %6.1f cm  W %5.2f  ", centre(j), W);
        for (int k = 0; k < bar && k < 60; k++)
            putchar('#');
        putchar('\n');
    }
    return centre(best);
}

int main(void)
{
    /* k+, k-, tau_ET, tau_IS, w_max, and q+ and q-: scaled sigmoids on [0, 1] with threshold theta
     * and half-width hw (peak = theta + hw in btsp_k_q's terms): potentiation theta 0.415, hw
     * 0.454; depression 0.0262, 0.0998 (btsp_k_wd_default()). */
    btsp_k_wd_default(&wd);
    const double w_max = wd.w_max;

    make_rates();
    make_eligibility();
    float w[N_IN];
    for (int j = 0; j < N_IN; j++)
        w[j] = (float)(1.0 / w_max); /* W = 1 everywhere: no place field */

    int ok = 1;
    induce(w, 90.0);
    double peak1 = show("after one plateau at 90 cm", w);
    float w1[N_IN];
    memcpy(w1, w, sizeof w);
    /* (1) a one-shot field, peaked before the plateau position (shift between 0 and -40 cm),
     *     asymmetric (inputs 30 cm before the plateau gain more than those 30 cm after it) and
     *     local (weight change above half its maximum on less than half of the track) */
    double shift = peak1 - 90.0, max_gain = 0.0;
    for (int j = 0; j < N_IN; j++)
        max_gain = fmax(max_gain, w[j] * w_max - 1.0);
    int wide = 0;
    for (int j = 0; j < N_IN; j++)
        wide += w[j] * w_max - 1.0 > 0.5 * max_gain;
    double before = w[(int)(60.0 / TRACK * N_IN)] * w_max - 1.0, after = w[(int)(120.0 / TRACK * N_IN)] * w_max - 1.0;
    printf("field peak shift %.1f cm; gain 30 cm before / after the plateau %.2f / %.2f; above half maximum on "
           "%.0f%% of the track\n",
           shift, before, after, 100.0 * wide / N_IN);
    ok &= max_gain > 1.0 && shift < 0.0 && shift > -40.0 && before > after && 2 * wide < N_IN;

    induce(w, 150.0);
    double peak2 = show("after a second plateau at 150 cm", w);
    /* (2) the field moves to the new plateau, and the old field's strong inputs depress, while
     *     in a naive cell (all W = 1) the same plateau potentiates that input: the sign of the
     *     change depends on the weight, not on the timing */
    float naive[N_IN];
    for (int j = 0; j < N_IN; j++)
        naive[j] = (float)(1.0 / w_max);
    induce(naive, 150.0);
    int old = (int)(peak1 / TRACK * N_IN);
    double d_field = (w[old] - w1[old]) * w_max, d_naive = naive[old] * w_max - 1.0;
    printf("input at %.1f cm after the plateau at 150 cm: %+.2f in the cell with a field there (W %.2f -> %.2f), "
           "%+.2f in a naive cell\n",
           centre(old), d_field, w1[old] * w_max, w[old] * w_max, d_naive);
    ok &= peak2 > 110.0 && peak2 < 150.0 && d_field < 0.0 && d_naive > 0.0;
    printf(ok ? "place_field: both BTSP signatures reproduced\n" : "place_field: a check FAILED\n");
    return ok ? 0 : 1;
}
