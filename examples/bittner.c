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
    float pre = 0.0f, w = 0.0f;
    double post = 0.0;
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
    ok &= worst < 1e-4; /* float rounding in each of up to 150,000 decay steps of the trace */
    /* seconds on both sides; the same distance before beats after */
    ok &= dw[0] > 0.05 * dw[5] && dw[nd - 4] > 0.05 * dw[6]; /* -4 s and +2 s still potentiate */
    for (size_t i = 0; i < nd / 2; i++)
        ok &= dw[i] > dw[nd - 1 - i]; /* delay -d vs +d */
    if (!ok)
        printf("CHECK FAILED: the plasticity curve\n");

    /* 2. one lap, one plateau */
    const double lap_s = TRACK / SPEED, sigma = FIELD_WIDTH / (3.0 * sqrt(2.0));
    const long steps = lround(lap_s / DT), plat_step = lround(PLATEAU_AT / SPEED / DT);
    float w[N_IN] = {0}, pre[N_IN] = {0}, x[N_IN];
    double post = 0.0;
    for (long t = 0; t < steps; t++) {
        double pos = t * DT * SPEED;
        for (int j = 0; j < N_IN; j++) {
            double d = pos - centre(j);
            x[j] = (float)(PEAK_RATE * DT * exp(-d * d / (2 * sigma * sigma)));
        }
        btsp_k_bittner_step(&bp, N_IN, DT, x, t == plat_step, pre, &post, w);
    }
    int peak = 0;
    for (int j = 1; j < N_IN; j++)
        if (w[j] > w[peak])
            peak = j;
    /* extent at half maximum on each side of the peak */
    int lo = peak, hi = peak;
    while (lo > 0 && w[lo - 1] >= 0.5f * w[peak])
        lo--;
    while (hi < N_IN - 1 && w[hi + 1] >= 0.5f * w[peak])
        hi++;
    double back = PLATEAU_AT - centre(lo), fwd = centre(hi) - PLATEAU_AT;
    printf("\none lap at %.0f cm/s, plateau at %.0f cm: field peak at %.1f cm (%+.1f cm), weight %.3f;\n"
           "half maximum from %.1f to %.1f cm: %.1f cm before the plateau, %.1f cm after\n",
           SPEED, PLATEAU_AT, centre(peak), centre(peak) - PLATEAU_AT, w[peak], centre(lo), centre(hi), back, fwd);
    int lap_ok = centre(peak) < PLATEAU_AT && back > fwd && fwd > 0.0 && w[0] < 0.5f * w[peak];
    if (!lap_ok)
        printf("CHECK FAILED: the one-lap field\n");
    ok &= lap_ok;
    printf("\n%s\n", ok ? "all checks passed" : "SOME CHECKS FAILED");
    return ok ? 0 : 1;
}
