/* The first BTSP rule: the asymmetric, seconds-long pairing kernel of Bittner et al. 2017
 * (Science 357:1033), with the time constants Madar et al. and Jain et al. use (1.31 s for inputs
 * before the plateau, 0.69 s after; btsp_k_bittner_default()), run as a host loop around
 * btsp_k_bittner_step() (two exponential traces, one step per millisecond) and checked against the
 * closed-form kernel btsp_k_bittner_kernel().
 *
 * 1. The in vitro protocol (as Madar et al. simulate it): five pairings, 30 s apart, of ten
 *    presynaptic spikes at 20 Hz with one plateau. For a negative delay the train ends |delay|
 *    before the plateau; for a positive one it starts delay after it. The weight change against
 *    delay is the experiment's plasticity curve: potentiation for delays of seconds on both
 *    sides, reaching further before the plateau than after it.
 * 2. One lap on a 187 cm track at 25 cm/s with 200 inputs (Gaussian fields, 90 cm wide, rates
 *    up to 20 Hz as expected spike counts per step) and one plateau at 90 cm: the weights form a
 *    place field in that lap, peaked before the plateau position and reaching further back than
 *    forward.
 * 3. The linear ET x IS form of the same data (btsp_k_etis_*: the CA1Sim kernels, a 300 ms
 *    plateau), integrated exactly per step: its kernel peaks while the plateau lasts and still
 *    reaches a second back; the same lap writes a narrower field centred at the plateau.
 *
 * Exit status 1 if a check fails. */
#include <btsp/btsp_kernels.h>

#include <math.h>
#include <stdio.h>

#define DT 0.001 /* s */

static btsp_k_bittner_params bp;

/* Weight change of one synapse by the protocol at `delay` s (negative: the train before the
 * plateau), from the trace step and from the pairwise sum of the kernel. */
static void protocol(double delay, double *dw_step, double *dw_pairs)
{
    enum { PAIRINGS = 5, SPIKES = 10 };
    const double period = 30.0, isi = 0.05, t_plateau = 10.0; /* within each pairing */
    const long steps = (long)(PAIRINGS * period / DT + 0.5);
    float w = 0.0f;
    double pre = 0.0, post = 0.0;
    *dw_pairs = 0.0;
    long spike_step[PAIRINGS * SPIKES], plateau_step[PAIRINGS];
    for (int k = 0; k < PAIRINGS; k++) {
        plateau_step[k] = lround((k * period + t_plateau) / DT);
        for (int s = 0; s < SPIKES; s++) {
            double t = delay < 0.0 ? t_plateau + delay - (SPIKES - 1 - s) * isi : t_plateau + delay + s * isi;
            spike_step[k * SPIKES + s] = lround((k * period + t) / DT);
        }
    }
    int next_spike = 0, next_plateau = 0;
    for (long t = 0; t < steps; t++) {
        float x = 0.0f;
        while (next_spike < PAIRINGS * SPIKES && spike_step[next_spike] == t) {
            x += 1.0f;
            next_spike++;
        }
        int plat = next_plateau < PAIRINGS && plateau_step[next_plateau] == t;
        next_plateau += plat;
        btsp_k_bittner_step(&bp, 1, DT, &x, plat, &pre, &post, &w);
    }
    for (int i = 0; i < PAIRINGS * SPIKES; i++)
        for (int k = 0; k < PAIRINGS; k++)
            *dw_pairs += btsp_k_bittner_kernel(&bp, (double)(spike_step[i] - plateau_step[k]) * DT);
    *dw_step = w;
}

#define N_IN 200
#define TRACK 187.0      /* cm */
#define SPEED 25.0       /* cm/s */
#define FIELD_WIDTH 90.0 /* cm, = 3 sqrt(2) sigma */
#define PEAK_RATE 20.0   /* Hz */
#define PLATEAU_AT 90.0  /* cm */

static double centre(int j)
{
    return TRACK * (j + 0.5) / N_IN;
}

/* Expected spike counts of every input in step t of a lap (x: N_IN). */
static void lap_inputs(long t, float *x)
{
    const double pos = t * DT * SPEED, sigma = FIELD_WIDTH / (3.0 * sqrt(2.0));
    for (int j = 0; j < N_IN; j++) {
        double d = pos - centre(j);
        x[j] = (float)(PEAK_RATE * DT * exp(-d * d / (2 * sigma * sigma)));
    }
}

/* The field's peak input and the inputs where it falls below half of the peak on each side. */
static void field_extent(const float *w, int *peak, int *lo, int *hi)
{
    int k = 0;
    for (int j = 1; j < N_IN; j++)
        if (w[j] > w[k])
            k = j;
    int l = k, h = k;
    while (l > 0 && w[l - 1] >= 0.5f * w[k])
        l--;
    while (h < N_IN - 1 && w[h + 1] >= 0.5f * w[k])
        h++;
    *peak = k;
    *lo = l;
    *hi = h;
}

int main(void)
{
    int ok = 1;
    btsp_k_bittner_default(&bp);
    printf("Bittner et al. 2017 kernel: tau %.2f s before the plateau, %.2f s after; amplitudes %.2f / %.2f\n\n",
           bp.tau_before, bp.tau_after, bp.amp_before, bp.amp_after);

    /* 1. plasticity curve of the pairing protocol */
    static const double delays[] = {-4, -3, -2, -1, -0.5, -0.1, 0.1, 0.5, 1, 2, 3, 4};
    const size_t nd = sizeof delays / sizeof delays[0];
    double dw[sizeof delays / sizeof delays[0]], worst = 0.0;
    printf("pairing protocol (5 x 10 spikes at 20 Hz, one plateau each)\n  delay (s)  weight change  pairwise sum\n");
    for (size_t i = 0; i < nd; i++) {
        double ref;
        protocol(delays[i], &dw[i], &ref);
        double rel = fabs(dw[i] - ref) / ref;
        worst = rel > worst ? rel : worst;
        printf("  %+8.1f  %13.4f  %12.4f\n", delays[i], dw[i], ref);
    }
    printf("  largest relative difference step vs pairwise: %.1e\n", worst);
    ok &= worst < 1e-6; /* the rounding of the float weight */
    /* seconds on both sides (-4 s and +2 s still give over 5 % of the largest change at -0.1 s and
     * +0.1 s); the same distance before beats after */
    ok &= dw[0] > 0.05 * dw[5] && dw[9] > 0.05 * dw[6]; /* delays[0] = -4, delays[9] = +2 */
    for (size_t i = 0; i < nd / 2; i++)
        ok &= dw[i] > dw[nd - 1 - i]; /* delay -d vs +d */
    if (!ok)
        printf("CHECK FAILED: the plasticity curve\n");

    /* 2. one lap, one plateau */
    const long steps = lround(TRACK / SPEED / DT), plat_step = lround(PLATEAU_AT / SPEED / DT);
    float w[N_IN] = {0}, x[N_IN];
    double pre[N_IN] = {0}, post = 0.0;
    for (long t = 0; t < steps; t++) {
        lap_inputs(t, x);
        btsp_k_bittner_step(&bp, N_IN, DT, x, t == plat_step, pre, &post, w);
    }
    int peak, lo, hi;
    field_extent(w, &peak, &lo, &hi);
    double back = PLATEAU_AT - centre(lo), fwd = centre(hi) - PLATEAU_AT;
    printf("\none lap at %.0f cm/s, plateau at %.0f cm: field peak at %.1f cm (%+.1f cm), weight %.3f;\n"
           "half maximum from %.1f to %.1f cm: %.1f cm before the plateau, %.1f cm after\n",
           SPEED, PLATEAU_AT, centre(peak), centre(peak) - PLATEAU_AT, w[peak], centre(lo), centre(hi), back, fwd);
    /* the peak before the plateau (the asymmetry; the reaches are measured from the plateau, so
     * back > fwd alone would also pass a shifted symmetric field), a local field */
    int lap_ok = centre(peak) < PLATEAU_AT && back > fwd && fwd > 0.0 && w[0] < 0.5f * w[peak];
    if (!lap_ok)
        printf("CHECK FAILED: the one-lap field\n");
    ok &= lap_ok;

    /* 3. the linear ET x IS form (CA1Sim's fit): its kernel, and the same lap */
    btsp_k_etis_params ep;
    btsp_k_etis_default(&ep);
    printf("\nlinear ET x IS form: local kernel %.1f / %.0f ms, global %.0f / %.0f ms, %.0f ms plateau\n"
           "  delay (s)  kernel (one spike, one plateau)\n",
           1e3 * ep.local_rise, 1e3 * ep.local_decay, 1e3 * ep.global_rise, 1e3 * ep.global_decay,
           1e3 * ep.plateau_dur);
    static const double kd[] = {-2.0, -1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0, 2.0};
    double kv[sizeof kd / sizeof kd[0]];
    for (size_t i = 0; i < sizeof kd / sizeof kd[0]; i++) {
        kv[i] = btsp_k_etis_kernel(&ep, kd[i]);
        printf("  %+8.1f  %.5f\n", kd[i], kv[i]);
    }
    float we[N_IN] = {0};
    static double ete[2 * N_IN];
    double ise[2] = {0, 0};
    const long plen = lround(ep.plateau_dur / DT);
    for (long t = 0; t < steps; t++) {
        lap_inputs(t, x);
        btsp_k_etis_step(&ep, N_IN, DT, x, t >= plat_step && t < plat_step + plen, ete, ise, we);
    }
    int pk, elo, ehi;
    field_extent(we, &pk, &elo, &ehi);
    printf("one lap: field peak at %.1f cm (%+.1f cm from the plateau onset), weight %.3f;\n"
           "half maximum from %.1f to %.1f cm: %.1f cm before the onset, %.1f cm after\n",
           centre(pk), centre(pk) - PLATEAU_AT, we[pk], centre(elo), centre(ehi), PLATEAU_AT - centre(elo),
           centre(ehi) - PLATEAU_AT);
    /* the kernel peaks while the plateau lasts (spikes then meet a rising instructive signal),
     * still reaches a second back (over 10 % of its peak at -1 s) and less far forward; the lap's
     * field is narrower than the kernel form's and local */
    int etis_ok = kv[5] > kv[4] && kv[5] > kv[6] && kv[1] > 0.1 * kv[5] && kv[7] < kv[1] && ehi - elo < hi - lo &&
                  we[0] < 0.5f * we[pk];
    if (!etis_ok)
        printf("CHECK FAILED: the linear form\n");
    ok &= etis_ok;
    printf("\n%s\n", ok ? "all checks passed" : "SOME CHECKS FAILED");
    return ok ? 0 : 1;
}
