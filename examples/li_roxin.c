/* BTSP as a one-shot rule with skewed plasticity kernels: the two rules of Li & Roxin 2023 (PLoS
 * Comput. Biol., "Rapid memory encoding in a recurrent network model with BTSP"; code
 * PanYe87/BTSP-Based-Learning), written around libbtsp's kernels btsp_k_lr_default,
 * btsp_k_lr_induction, btsp_k_lr_ring_store and btsp_k_lr_ring_moments.
 *
 * Part 1, CA3 -> CA1 (one update per induction lap, their fitted parameters at 25 cm/s):
 *   dW_j = P F_P(tau_j) (1 - W_j) - D F_D(tau_j) W_j,  W_j clipped to [0, 1],
 * tau_j = (x_j - x_plateau) / v the time from the plateau to input j's field centre, F_P and F_D
 * skewed Student-t densities summed over laps. 400 inputs evenly on a 187 cm circular track (the
 * track of examples/place_field.c; the authors pass the length as an argument), all weights 0.2
 * at first (our choice: a naive cell). The same two experiments as examples/place_field.c, which
 * runs the Milstein et al. 2021 kinetic model: one plateau at 90 cm, then one at 150 cm.
 *
 * Part 2, recurrent CA3 (one shot per environment): every environment activates half of 200
 * cells at random, at evenly spaced phases in random order; every pair of active cells changes by
 * dW = P (1 - W)(1 + cos dphi) - D W (1 - cos dphi) (P = D = 0.1, our choice). The weights among
 * an environment's cells then carry its ring structure (their correlation with cos dphi), later
 * environments overwrite it gradually, and the weights' mean approaches P / (P + D).
 *
 * Checks (exit status 1 if one fails): (1) one induction makes a local field peaked before the
 * plateau and extending further backwards; (2) a second induction moves it, depressing the old
 * field's strongest input, which the same plateau potentiates in a naive cell; (3) the newest
 * environment is stored best and older ones fade; the mean weight is within 0.02 of P / (P + D). */
#include <btsp/btsp_kernels.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_IN 400
#define TRACK 187.0 /* cm */
#define SPEED 25.0  /* cm/s */
#define W0 0.2f

static double centre(int j)
{
    return TRACK * (j + 0.5) / N_IN;
}

static btsp_k_lr_params lr;
static double t_input[N_IN]; /* s: when the animal passes input j's field centre */

static void induce(float *w, double plateau_cm)
{
    const double t_plateau = plateau_cm / SPEED;
    btsp_k_lr_induction(&lr, N_IN, t_input, 1, &t_plateau, w);
}

static double show(const char *title, const float *w)
{
    int best = 0;
    for (int j = 1; j < N_IN; j++)
        best = w[j] > w[best] ? j : best;
    printf("%s: strongest input at %.1f cm, W = %.2f\n", title, centre(best), w[best]);
    for (int j = 0; j < N_IN; j += 20) {
        printf("  %6.1f cm  W %4.2f  ", centre(j), w[j]);
        for (int k = 0; k < (int)(w[j] * 50.0 + 0.5); k++)
            putchar('#');
        putchar('\n');
    }
    return centre(best);
}

static int feed_forward(void)
{
    if (btsp_k_lr_default(&lr, SPEED, TRACK) != 0)
        return 0;
    for (int j = 0; j < N_IN; j++)
        t_input[j] = centre(j) / SPEED;
    float w[N_IN];
    for (int j = 0; j < N_IN; j++)
        w[j] = W0;
    int ok = 1;
    induce(w, 90.0);
    const double peak1 = show("after one plateau at 90 cm", w);
    float w1[N_IN];
    memcpy(w1, w, sizeof w);
    double max_gain = 0.0;
    int wide = 0;
    for (int j = 0; j < N_IN; j++)
        max_gain = fmax(max_gain, w[j] - W0);
    for (int j = 0; j < N_IN; j++)
        wide += w[j] - W0 > 0.5 * max_gain;
    const double before = w[(int)(60.0 / TRACK * N_IN)] - W0, after = w[(int)(120.0 / TRACK * N_IN)] - W0;
    printf("field peak shift %.1f cm; gain 30 cm before / after the plateau %.2f / %.2f; above half maximum on "
           "%.0f%% of the track\n",
           peak1 - 90.0, before, after, 100.0 * wide / N_IN);
    ok &= max_gain > 0.3 && peak1 < 90.0 && peak1 > 50.0 && before > after && 2 * wide < N_IN;

    induce(w, 150.0);
    const double peak2 = show("after a second plateau at 150 cm", w);
    float naive[N_IN];
    for (int j = 0; j < N_IN; j++)
        naive[j] = W0;
    induce(naive, 150.0);
    const int old = (int)(peak1 / TRACK * N_IN);
    const double d_field = w[old] - w1[old], d_naive = naive[old] - W0;
    printf("input at %.1f cm after the plateau at 150 cm: %+.2f in the cell with a field there (W %.2f -> %.2f), "
           "%+.2f in a naive cell\n",
           centre(old), d_field, w1[old], w[old], d_naive);
    ok &= peak2 > 110.0 && peak2 < 150.0 && d_field < 0.0 && d_naive > 0.0;
    return ok;
}

/* Part 2 */
#define N_CELLS 200
#define N_ACTIVE 100
#define N_ENV 300
#define AMP 0.1

/* Deterministic uniform permutation of 0..n-1 for environment e (libbtsp's counter RNG). */
static void environment(uint64_t e, uint32_t *cells, float *phase)
{
    uint32_t perm[N_CELLS];
    btsp_k_permutation(2023, e, perm, N_CELLS);
    for (int a = 0; a < N_ACTIVE; a++) {
        cells[a] = perm[a];
        phase[a] = (float)(-3.14159265358979 + 6.28318530717959 * (a + 0.5) / N_ACTIVE);
    }
}

/* Pearson correlation, over the ordered pairs a != b of an environment's active cells, of their
 * weight and cos(dphi): how much of the environment's ring the weights still hold. */
static double ring_memory(const float *W, uint64_t e)
{
    uint32_t cells[N_ACTIVE];
    float phase[N_ACTIVE];
    environment(e, cells, phase);
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, n = 0;
    for (int a = 0; a < N_ACTIVE; a++)
        for (int b = 0; b < N_ACTIVE; b++) {
            if (a == b)
                continue;
            const double x = W[(size_t)cells[a] * N_CELLS + cells[b]], y = cos((double)phase[a] - phase[b]);
            sx += x;
            sy += y;
            sxx += x * x;
            syy += y * y;
            sxy += x * y;
            n += 1;
        }
    const double cov = sxy / n - sx / n * sy / n;
    return cov / sqrt((sxx / n - sx / n * sx / n) * (syy / n - sy / n * sy / n));
}

static int recurrent(void)
{
    float *W = malloc(sizeof(float) * N_CELLS * N_CELLS);
    if (!W)
        return 0;
    for (size_t i = 0; i < (size_t)N_CELLS * N_CELLS; i++)
        W[i] = (float)(0.1 * btsp_k_rand_uniform(2023, 1000000, i)); /* U(0, 0.1), as the authors */
    uint32_t cells[N_ACTIVE];
    float phase[N_ACTIVE];
    for (uint64_t e = 0; e < N_ENV; e++) {
        environment(e, cells, phase);
        btsp_k_lr_ring_store(N_ACTIVE, cells, phase, AMP, AMP, W, N_CELLS);
    }
    double mean = 0.0;
    for (size_t i = 0; i < (size_t)N_CELLS * N_CELLS; i++)
        mean += W[i];
    mean /= (double)N_CELLS * N_CELLS;
    double want_mean, want_var;
    btsp_k_lr_ring_moments(AMP, AMP, &want_mean, &want_var);
    printf("recurrent rule, %d environments of %d of %d cells (P = D = %.1f): mean weight %.3f (stationary "
           "P / (P + D) = %.3f)\n",
           N_ENV, N_ACTIVE, N_CELLS, AMP, mean, want_mean);
    printf("  environment stored k environments ago: correlation of its cells' weights with cos(dphi)\n");
    const int ages[] = {0, 1, 2, 5, 10, 20, 50, 100};
    double corr[8];
    int ok = fabs(mean - want_mean) < 0.02;
    for (int k = 0; k < 8; k++) {
        corr[k] = ring_memory(W, (uint64_t)(N_ENV - 1 - ages[k]));
        printf("  k = %3d   %.3f\n", ages[k], corr[k]);
        if (k > 0)
            ok &= corr[k] < corr[k - 1] + 0.02; /* fading, up to sampling noise */
    }
    ok &= corr[0] > 0.5 && corr[7] < 0.5 * corr[0];
    free(W);
    return ok;
}

int main(void)
{
    const int ok1 = feed_forward();
    const int ok2 = recurrent();
    printf(ok1 && ok2 ? "li_roxin: one-shot field and its move, and the recurrent ring memory reproduced\n"
                      : "li_roxin: a check FAILED\n");
    return ok1 && ok2 ? 0 : 1;
}
