/* Place fields from a two-trace BTSP rule with a fixed point: the model of Cone & Shouval 2021
 * (Front. Comput. Neurosci. 15:640235), written as a host loop around libbtsp's kernels
 * btsp_k_cs_traces, btsp_k_cs_integrals_acc, btsp_k_cs_apply and btsp_k_cs_fixed_point, with
 * the parameters of the authors' main simulation (btsp_k_cs_default()).
 *
 * Setup (their main script; units m, s): a 1.87 m linear track crossed in 16.1 s (11.6 cm/s);
 * 50 inputs with Gaussian place fields (sigma = 0.9 / (3 sqrt 2) m = 21 cm) centred evenly
 * along it; one plateau when the animal is at the middle of the track, in every lap; time step
 * 1 ms; both traces start each lap at 0 (the linear track). Each input j has a potentiation trace
 * T_p (fast, 0.2 s) and a depression trace T_d (slow, 1.5 s, saturating quickly); per lap
 *   dW_j = eta_w integral IS(t) [T_p(t) (1 - W_j) - T_d(t) W_j] dt,  W_j >= 0.
 * The lap integrals I_p = int IS T_p dt and I_d = int IS T_d dt do not depend on W, so they are
 * computed once (one lap of the kernels) and every lap after that is one btsp_k_cs_apply():
 * reusing what does not change is the fast way to run this model, and exact.
 *
 * Checks (exit status 1 if one fails): (1) from no field and from a field at another place the
 * weights converge to the same fixed point W* = I_p / (I_p + I_d), each synapse a fraction
 * eta_w (I_p + I_d) of the remaining way per lap, as the closed form says; (2) the fixed-point
 * field is local, centred near the plateau; (3) at a higher running speed the field is wider in
 * space (the rule's time constants are fixed, so seconds become more centimetres). */
#include <btsp/btsp_kernels.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#define N_IN 50
#define TRACK 1.87    /* m */
#define LAP_TIME 16.1 /* s at the authors' speed */
#define DT 0.001      /* s */
#define LAPS 10
#define ALPHA 7.5 /* mV of ramp per unit weight and unit rate (the authors' alpha) */

static btsp_k_cs_params cs;

static double centre(int j)
{
    return TRACK * (j + 0.5) / N_IN;
}

static double rate_at(int j, double pos)
{
    const double sigma = 0.9 / (3.0 * sqrt(2.0)), d = pos - centre(j);
    return exp(-d * d / (2.0 * sigma * sigma));
}

/* One lap at `speed` (m/s) with a plateau at `plateau_pos` (m): the lap integrals per input. */
static void lap_integrals(double speed, double plateau_pos, double *ip, double *id)
{
    const long steps = lround(TRACK / speed / DT), plateau_step = lround(plateau_pos / speed / DT);
    const double decay = btsp_k_decay_factor(DT, cs.tau_is);
    float tp[N_IN] = {0}, td[N_IN] = {0}, r[N_IN];
    double is = 0.0;
    memset(ip, 0, N_IN * sizeof *ip);
    memset(id, 0, N_IN * sizeof *id);
    for (long s = 0; s < steps; s++) {
        const double pos = speed * DT * s;
        for (int j = 0; j < N_IN; j++)
            r[j] = (float)rate_at(j, pos);
        btsp_k_cs_traces(&cs, N_IN, r, DT, tp, td);
        is = s + 1 == plateau_step ? cs.is_peak : is * decay; /* IS at the end of the step: peak at the plateau */
        btsp_k_cs_integrals_acc(N_IN, is, tp, td, DT, ip, id);
    }
}

/* Full width at half maximum (m) of a weight profile over the input centres, by linear
 * interpolation either side of its peak. */
static double fwhm(const double *w)
{
    int best = 0;
    for (int j = 1; j < N_IN; j++)
        best = w[j] > w[best] ? j : best;
    const double half = 0.5 * w[best];
    int lo = best, hi = best;
    while (lo > 0 && w[lo - 1] >= half)
        lo--;
    while (hi < N_IN - 1 && w[hi + 1] >= half)
        hi++;
    double left = lo > 0 ? centre(lo - 1) + (half - w[lo - 1]) / (w[lo] - w[lo - 1]) * (centre(lo) - centre(lo - 1))
                         : centre(0);
    double right = hi < N_IN - 1
                       ? centre(hi) + (w[hi] - half) / (w[hi] - w[hi + 1]) * (centre(hi + 1) - centre(hi))
                       : centre(N_IN - 1);
    return right - left;
}

static double fixed_point_field(double speed, double plateau_pos, double *wstar, double *ip, double *id)
{
    lap_integrals(speed, plateau_pos, ip, id);
    for (int j = 0; j < N_IN; j++)
        wstar[j] = btsp_k_cs_fixed_point(ip[j], id[j]);
    return fwhm(wstar);
}

int main(void)
{
    btsp_k_cs_default(&cs);
    const double speed = TRACK / LAP_TIME, mid = TRACK / 2.0;
    double ip[N_IN], id[N_IN], wstar[N_IN];
    const double width = fixed_point_field(speed, mid, wstar, ip, id);

    /* two starts: no field, and the fixed point of a plateau at a quarter of the track */
    float w[2][N_IN];
    double other[N_IN], oip[N_IN], oid[N_IN];
    fixed_point_field(speed, TRACK / 4.0, other, oip, oid);
    for (int j = 0; j < N_IN; j++) {
        w[0][j] = 0.0f;
        w[1][j] = (float)other[j];
    }
    float w_start[2][N_IN];
    memcpy(w_start, w, sizeof w);
    int ok = 1;
    printf("plateau at %.2f m every lap, %.1f cm/s; distance to the fixed point W* (largest over inputs):\n", mid,
           100.0 * speed);
    printf("  lap   from no field   from a field at %.2f m\n", TRACK / 4.0);
    for (int lap = 1; lap <= LAPS; lap++) {
        double dist[2] = {0.0, 0.0};
        for (int s = 0; s < 2; s++) {
            btsp_k_cs_apply(&cs, N_IN, ip, id, w[s]);
            for (int j = 0; j < N_IN; j++) {
                /* the closed form: W_n - W* = (W_0 - W*) (1 - eta_w (I_p + I_d))^n */
                double want = wstar[j] + (w_start[s][j] - wstar[j]) * pow(1.0 - cs.eta_w * (ip[j] + id[j]), lap);
                ok &= fabs(w[s][j] - want) < 1e-5;
                dist[s] = fmax(dist[s], fabs(w[s][j] - wstar[j]));
            }
        }
        printf("  %3d   %13.5f   %13.5f\n", lap, dist[0], dist[1]);
    }
    double slowest = 1.0, fastest = 0.0;
    for (int j = 0; j < N_IN; j++) {
        slowest = fmin(slowest, cs.eta_w * (ip[j] + id[j]));
        fastest = fmax(fastest, cs.eta_w * (ip[j] + id[j]));
    }
    /* below 1, a lap cannot overshoot W* (the model bounds weights below only) */
    printf("every lap closes between %.1f%% and %.1f%% of each synapse's remaining distance\n", 100.0 * slowest,
           100.0 * fastest);
    ok &= fastest < 1.0;

    /* the fixed-point field and its ramp V = alpha sum_j W*_j r_j(x) along the track */
    int best = 0;
    for (int j = 1; j < N_IN; j++)
        best = wstar[j] > wstar[best] ? j : best;
    double vbest = -1.0, xbest = 0.0;
    for (int k = 0; k <= 374; k++) {
        double x = TRACK * k / 374.0, v = 0.0;
        for (int j = 0; j < N_IN; j++)
            v += ALPHA * wstar[j] * rate_at(j, x);
        if (v > vbest) {
            vbest = v;
            xbest = x;
        }
    }
    printf("fixed point W* along the track (D: time from the plateau to the input's field centre):\n");
    for (int j = 1; j < N_IN; j += 3) {
        double d = (centre(j) - mid) / speed;
        printf("  %5.2f m  D %+6.2f s  W* %.3f  ", centre(j), d, wstar[j]);
        for (int k = 0; k < (int)(wstar[j] * 60.0 + 0.5); k++)
            putchar('#');
        putchar('\n');
    }
    printf("W* peaks at the input at %.2f m (plateau at %.2f m); ramp peak %.2f mV at %.2f m; field width "
           "(FWHM of W*) %.1f cm\n",
           centre(best), mid, vbest, xbest, 100.0 * width);
    ok &= fabs(centre(best) - mid) < 0.25 && fabs(xbest - mid) < 0.25 && width < TRACK / 2.0;
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < N_IN; j++)
            ok &= fabs(w[s][j] - wstar[j]) < 0.05;

    /* running speed: the same plateau at the authors' speed, twice and four times it */
    printf("field width at the fixed point by running speed:\n");
    double widths[3];
    const double factor[3] = {1.0, 2.0, 4.0};
    for (int k = 0; k < 3; k++) {
        double ws[N_IN], a[N_IN], b[N_IN];
        /* the authors' speed is the field computed above */
        widths[k] = k == 0 ? width : fixed_point_field(speed * factor[k], mid, ws, a, b);
        printf("  %5.1f cm/s  FWHM %.1f cm\n", 100.0 * speed * factor[k], 100.0 * widths[k]);
    }
    ok &= widths[0] < widths[1] && widths[1] < widths[2];
    printf(ok ? "cone_shouval: convergence to the fixed point, a local field, and wider fields at higher speed "
                "reproduced\n"
              : "cone_shouval: a check FAILED\n");
    return ok ? 0 : 1;
}
