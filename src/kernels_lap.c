/* Place-field forms of BTSP (btsp_kernels.h): the pairwise kernel of Bittner et al. 2017 and its
 * linear ET x IS form, the two-trace model of Cone & Shouval 2021 and the skewed-kernel rules of
 * Li & Roxin 2023. Host loops call these once per time step or once per lap; none allocates,
 * prints or keeps state. Everything is computed in double and rounded once to float where a
 * float array is written.
 *
 * The Student-t distribution function needs the regularised incomplete beta function, which
 * libm does not have and the core library may not take from elsewhere (it depends on libm
 * only), so it is evaluated here by its continued fraction (Abramowitz & Stegun 26.5.8) with
 * the modified Lentz algorithm. log Gamma comes from tgamma() below 20 and Stirling's series
 * above, not from lgamma(): glibc's lgamma() writes the global `signgam`, a data race when
 * several threads evaluate kernels. */
#include "btsp/btsp_kernels.h"

#include <math.h>

/* ------------------------------------------------------------------------------------------ */
/* Bittner et al. 2017: the asymmetric pairwise kernel */

void btsp_k_bittner_default(btsp_k_bittner_params *p)
{
    p->tau_before = 1.31;
    p->tau_after = 0.69;
    p->amp_before = 1.0;
    p->amp_after = 1.15;
}

double btsp_k_bittner_kernel(const btsp_k_bittner_params *p, double d)
{
    return d < 0.0 ? p->amp_before * exp(d / p->tau_before) : p->amp_after * exp(-d / p->tau_after);
}

void btsp_k_bittner_step(const btsp_k_bittner_params *p, size_t n, double dt, const float *x, int plateau,
                         double *pre, double *post, float *w)
{
    /* the decay factors are the exact solution over dt; computed once per call. The plateau
     * joins the postsynaptic trace before this step's spikes pair with it. */
    const double fb = exp(-dt / p->tau_before);
    *post *= exp(-dt / p->tau_after);
    if (plateau)
        *post += 1.0;
    const double pa = p->amp_after * *post;
    /* one pass per input, in the order decay, plateau pairing, spike pairing (inputs are
     * independent, so this is the order of separate passes) */
    for (size_t j = 0; j < n; j++) {
        pre[j] *= fb;
        if (plateau)
            w[j] = (float)(w[j] + p->amp_before * pre[j]);
        if (x && x[j] != 0.0f) { /* silent inputs: most of them at any moment on a track */
            w[j] = (float)(w[j] + pa * x[j]);
            pre[j] += x[j];
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Bittner et al. 2017, linear ET x IS form (CA1Sim) */

void btsp_k_etis_default(btsp_k_etis_params *p)
{
    p->local_rise = 0.0053;
    p->local_decay = 0.584;
    p->global_rise = 0.130;
    p->global_decay = 0.268;
    p->plateau_dur = 0.3;
    p->gain = 1.0;
}

/* G(y) - G(y - D) for D > 0, with G(y) = (y < 0 ? a e^(y/a) : a + b (1 - e^(-y/b))) the
 * antiderivative of (y >= 0 ? e^(-y/b) : e^(y/a)), continuous at 0. Each case is formed in
 * closed form: far from the plateau, or inside a short one, G(y) and G(y - D) agree in nearly
 * every digit, and their plain difference would be rounding noise, even negative. */
static double etis_gdiff(double y, double D, double a, double b)
{
    if (y - D >= 0.0)
        return -b * exp(-(y - D) / b) * expm1(-D / b);
    if (y < 0.0)
        return -a * exp(y / a) * expm1(-D / a);
    /* inside the plateau: a - a e^((y - D)/a) + b (1 - e^(-y/b)), without cancellation for small D */
    return -a * expm1((y - D) / a) - b * expm1(-y / b);
}

double btsp_k_etis_kernel(const btsp_k_etis_params *p, double d)
{
    const double al[2] = {p->local_decay, p->local_rise}, bg[2] = {p->global_decay, p->global_rise};
    const double cl = 1.0 / (p->local_decay - p->local_rise), cg = 1.0 / (p->global_decay - p->global_rise);
    double k = 0.0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            const double a = al[i], b = bg[j], c = (i == j ? 1.0 : -1.0) * cl * cg / (1.0 / a + 1.0 / b);
            if (p->plateau_dur > 0.0)
                k += c * etis_gdiff(d, p->plateau_dur, a, b);
            else
                k += c * (d >= 0.0 ? exp(-d / b) : exp(d / a));
        }
    return p->gain * k;
}

/* (1 - exp(-k dt)) / k: integral over [0, dt] of exp(-k t), k > 0. */
static double exp_integral(double k, double dt)
{
    return -expm1(-k * dt) / k;
}

void btsp_k_etis_step(const btsp_k_etis_params *p, size_t n, double dt, const float *x, int plateau, double *et,
                      double *is, float *w)
{
    /* Over the step: ET_j(t) = A_j e^(-t/ld) - B_j e^(-t/lr) (A, B = et[2j], et[2j+1] after the
     * spikes), IS(t) = G1(t) - G2(t) with G(t) = g_inf + (G0 - g_inf) e^(-t/tau) (g_inf = P tau
     * cg: the trace of a constant plateau). The integral of ET_j IS is then
     * A_j I(ld) - B_j I(lr) with I(a) the integral of e^(-t/a) IS(t), the same for every input. */
    const double ld = p->local_decay, lr = p->local_rise, gd = p->global_decay, gr = p->global_rise;
    const double cl = 1.0 / (ld - lr), cg = 1.0 / (gd - gr), P = plateau ? 1.0 : 0.0;
    const double g1i = P * gd * cg, g2i = P * gr * cg, d1 = is[0] - g1i, d2 = is[1] - g2i;
    const double i_ld = (g1i - g2i) * exp_integral(1.0 / ld, dt) + d1 * exp_integral(1.0 / ld + 1.0 / gd, dt) -
                        d2 * exp_integral(1.0 / ld + 1.0 / gr, dt);
    const double i_lr = (g1i - g2i) * exp_integral(1.0 / lr, dt) + d1 * exp_integral(1.0 / lr + 1.0 / gd, dt) -
                        d2 * exp_integral(1.0 / lr + 1.0 / gr, dt);
    const double fd = exp(-dt / ld), fr = exp(-dt / lr);
    const double ga = p->gain * i_ld, gb = p->gain * i_lr;
    for (size_t j = 0; j < n; j++) {
        double a = et[2 * j], b = et[2 * j + 1];
        if (x && x[j] != 0.0f) {
            a += cl * x[j];
            b += cl * x[j];
        }
        if (a == 0.0 && b == 0.0) /* no spike for a while (the traces underflowed) or never */
            continue;
        w[j] = (float)(w[j] + (ga * a - gb * b));
        et[2 * j] = a * fd;
        et[2 * j + 1] = b * fr;
    }
    is[0] = g1i + d1 * exp(-dt / gd);
    is[1] = g2i + d2 * exp(-dt / gr);
}

/* ------------------------------------------------------------------------------------------ */
/* Cone & Shouval 2021: two saturating traces, one update per lap */

void btsp_k_cs_default(btsp_k_cs_params *p)
{
    p->tau_p = 0.2;
    p->tau_d = 1.5;
    p->eta_p = 0.2;
    p->eta_d = 200.0;
    p->tmax_p = 2.2;
    p->tmax_d = 2.0;
    p->tau_is = 0.4;
    p->is_peak = 1.0;
    p->eta_w = 0.6; /* 6e-4 per 1 ms step of the ModelDB script */
}

/* One trace, exact for a rate constant over the step: tau dT/dt = -a T + eta r tmax. */
static float saturating_step(float T, double r, double eta, double tmax, double tau, double dt, double silent_decay)
{
    if (r == 0.0)
        return (float)(T * silent_decay); /* silent input: plain decay, exp() shared by all */
    double a = 1.0 + eta * r, inf = eta * r * tmax / a;
    return (float)(inf + (T - inf) * exp(-a * dt / tau));
}

void btsp_k_cs_traces(const btsp_k_cs_params *p, size_t n, const float *rate, double dt, float *tp, float *td)
{
    const double dp = exp(-dt / p->tau_p), dd = exp(-dt / p->tau_d);
    for (size_t j = 0; j < n; j++) {
        const double r = rate[j];
        tp[j] = saturating_step(tp[j], r, p->eta_p, p->tmax_p, p->tau_p, dt, dp);
        td[j] = saturating_step(td[j], r, p->eta_d, p->tmax_d, p->tau_d, dt, dd);
    }
}

void btsp_k_cs_integrals_acc(size_t n, double is, const float *tp, const float *td, double dt, double *ip,
                             double *id)
{
    if (is == 0.0)
        return; /* before the plateau (and long after it) the lap integrals do not change */
    const double s = dt * is;
    for (size_t j = 0; j < n; j++) {
        ip[j] += s * tp[j];
        id[j] += s * td[j];
    }
}

void btsp_k_cs_apply(const btsp_k_cs_params *p, size_t n, const double *ip, const double *id, float *w)
{
    for (size_t j = 0; j < n; j++) {
        double v = w[j] + p->eta_w * (ip[j] * (1.0 - w[j]) - id[j] * w[j]);
        w[j] = (float)(v < 0.0 ? 0.0 : v);
    }
}

double btsp_k_cs_fixed_point(double ip, double id)
{
    return ip + id > 0.0 ? ip / (ip + id) : NAN;
}

/* ------------------------------------------------------------------------------------------ */
/* Student t and its skewed form */

/* log Gamma(x) for x > 0 without touching signgam. Stirling's series to x^-9 is accurate to
 * about 1e-15 relative for x >= 20; below, tgamma() is exact to rounding and cannot overflow. */
static double stirling_series(double x)
{
    const double r = 1.0 / x, r2 = r * r;
    return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 / 1188))));
}

static double log_gamma_pos(double x)
{
    if (x < 1e-8) /* Gamma(x) = 1/x - gamma_E + O(x); tgamma() overflows near 1e-308 */
        return -log(x) - 0.57721566490153286061 * x;
    if (x < 20.0)
        return log(tgamma(x));
    return (x - 0.5) * log(x) - x + 0.91893853320467274178 /* log(2 pi) / 2 */ + stirling_series(x);
}

/* Continued fraction of I_x(a, b) (A&S 26.5.8), without the front factor; converges fast for
 * x < (a + 1) / (a + b + 2). Modified Lentz. */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-16;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny)
        d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 1000000; m++) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a - 1.0 + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < tiny ? 1.0 / tiny : 1.0 / d;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2));
        d = 1.0 + aa * d;
        d = fabs(d) < tiny ? 1.0 / tiny : 1.0 / d;
        c = 1.0 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        const double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < eps)
            break;
    }
    return h;
}

/* log Gamma(a + b) - log Gamma(a) for a >= 20, b > 0, without the cancellation of two values
 * of size a log a (for the t distribution a = nu / 2 reaches millions). */
static double log_gamma_ratio(double a, double b)
{
    if (a < 20.0)
        return log_gamma_pos(a + b) - log_gamma_pos(a);
    const double c = a + b;
    /* Stirling: (c - 1/2) log c - c - [(a - 1/2) log a - a] = (a - 1/2) log1p(b / a) + b log c - b */
    return (a - 0.5) * log1p(b / a) + b * log(c) - b + (stirling_series(c) - stirling_series(a));
}

/* log(1 / B(a, b)) = log Gamma(a + b) - log Gamma(a) - log Gamma(b). */
static double log_inv_beta(double a, double b)
{
    return a >= b ? log_gamma_ratio(a, b) - log_gamma_pos(b) : log_gamma_ratio(b, a) - log_gamma_pos(a);
}

/* Regularised incomplete beta I_x(a, b) given x, y = 1 - x and their logarithms separately, so
 * that the caller can pass each without cancellation or underflow (x may be 0 with lx finite),
 * and linvb = log_inv_beta(a, b), which callers evaluating many x for one (a, b) compute once. */
static double beta_inc(double a, double b, double x, double y, double lx, double ly, double linvb)
{
    const double front = exp(linvb + a * lx + b * ly);
    if (x < (a + 1.0) / (a + b + 2.0))
        return front * beta_cf(a, b, x) / a;
    return 1.0 - front * beta_cf(b, a, y) / b;
}

/* Above this nu the continued fraction loses about nu * 1e-16 to cancellation (its argument
 * nu / (nu + t^2) is within t^2 / nu of 1), and the normal distribution with the 1/nu
 * corrections of Abramowitz & Stegun 26.7.8, z = t (1 - 1/(4 nu)) / sqrt(1 + t^2 / (2 nu)), whose
 * error falls as 1/nu^2, is the more accurate of the two (tests/test_kernels_lap.c). */
#define T_CDF_NORMAL_NU 2e8

/* log(1 / B(nu / 2, 1 / 2)) where t_cdf() uses it, else 0: the constant of t_cdf(.., nu, ..). */
static double t_cdf_const(double nu)
{
    return nu <= T_CDF_NORMAL_NU && 0.5 * nu != 0.0 ? log_inv_beta(0.5 * nu, 0.5) : 0.0;
}

/* P(T <= t) for nu > 0 and t not NaN, with linvb = t_cdf_const(nu). */
static double t_cdf(double t, double nu, double linvb)
{
    if (t == 0.0 || 0.5 * nu == 0.0) /* nu below 2 * DBL_TRUE_MIN: all mass at +-infinity */
        return 0.5;
    if (isinf(t))
        return t > 0.0 ? 1.0 : 0.0;
    if (nu > T_CDF_NORMAL_NU) {
        const double z = t * (1.0 - 0.25 / nu) / hypot(1.0, t / sqrt(2.0 * nu)); /* t^2 may overflow */
        return 0.5 * erfc(-z / sqrt(2.0));
    }
    /* P(|T| > |t|) = I_x(nu / 2, 1 / 2) with x = nu / (nu + t^2) = r / (1 + r), 1 - x = 1 / (1 + r),
     * r = nu / t^2 formed without overflowing t^2 */
    const double at = fabs(t), r = at > 1.0 ? nu / at / at : nu / (at * at);
    /* log x = -log1p(1 / r) (no cancellation for large r), or log r - log1p(r) with log r taken
     * from nu and t where r underflows */
    const double lx = r > 1.0 ? -log1p(1.0 / r) : log(nu) - 2.0 * log(at) - log1p(r);
    const double tail = beta_inc(0.5 * nu, 0.5, r / (1.0 + r), 1.0 / (1.0 + r), lx, -log1p(r), linvb);
    return t > 0.0 ? 1.0 - 0.5 * tail : 0.5 * tail;
}

double btsp_k_student_t_cdf(double t, double nu)
{
    if (!(nu > 0.0) || isnan(t))
        return NAN;
    return t_cdf(t, nu, t_cdf_const(nu));
}

/* The constants of one skew-t shape: the Student-t density's log normalisation for nu and the
 * distribution function's constant for nu + 1. A lap sum evaluates 21 densities of one shape:
 * these log-Gamma values were most of their cost. */
typedef struct skew_consts {
    double pdf_lnorm, cdf_linvb;
} skew_consts;

static skew_consts skew_t_consts(const btsp_k_skew_t *d)
{
    skew_consts c = {log_gamma_ratio(0.5 * d->nu, 0.5) - 0.5 * log(d->nu * 3.14159265358979323846),
                     t_cdf_const(d->nu + 1.0)};
    return c;
}

static double skew_t_pdf(const btsp_k_skew_t *d, const skew_consts *c, double x)
{
    const double nu = d->nu, z = (x - d->mu) / d->sigma, az = fabs(z);
    /* log(1 + z^2 / nu), also where z^2 overflows */
    const double l = az < 1e100 ? log1p(z * z / nu) : 2.0 * log(az) - log(nu) + log1p(nu / az / az);
    const double t_pdf = exp(c->pdf_lnorm - 0.5 * (nu + 1.0) * l);
    /* z sqrt((nu + 1) / (nu + z^2)), written so that z^2 cannot overflow */
    const double ratio = az > 1.0 ? copysign(1.0, z) / sqrt(nu / az / az + 1.0) : z / sqrt(nu + z * z);
    const double arg = d->skew * sqrt(nu + 1.0) * ratio;
    return 2.0 / d->sigma * t_pdf * (isnan(arg) ? NAN : t_cdf(arg, nu + 1.0, c->cdf_linvb));
}

double btsp_k_skew_t_pdf(const btsp_k_skew_t *d, double x)
{
    if (!(d->sigma > 0.0) || !(d->nu > 0.0))
        return NAN;
    const skew_consts c = skew_t_consts(d);
    return skew_t_pdf(d, &c, x);
}

/* ------------------------------------------------------------------------------------------ */
/* Li & Roxin 2023 */

int btsp_k_lr_default(btsp_k_lr_params *p, double speed_cm_s, double track_cm)
{
    /* speed (cm/s): F_P {nu, mu, sigma, skew}, F_D {...}, P, D, as fitted by the authors */
    static const struct {
        double speed;
        btsp_k_skew_t pot, dep;
        double amp_pot, amp_dep;
    } fits[] = {
        {15.0, {5.0, 0.75, 1.97, -1.375}, {3.0, 2.15, 3.15, -3.5}, 3.05, 3.0},
        {20.0, {5.0, 0.75, 1.825, -1.55}, {5.0, 1.875, 3.45, -4.55}, 2.625, 2.8},
        {25.0, {3.5, 0.685, 1.65, -1.61}, {5.0, 1.75, 3.65, -5.35}, 2.365, 2.57},
        {35.0, {2.0, 0.6, 1.42, -1.625}, {3.0, 1.54, 3.85, -5.75}, 2.0, 2.15},
    };
    if (!(track_cm > 0.0) || isinf(track_cm))
        return -1;
    for (size_t k = 0; k < sizeof fits / sizeof fits[0]; k++) {
        if (fits[k].speed == speed_cm_s) {
            p->pot = fits[k].pot;
            p->dep = fits[k].dep;
            p->amp_pot = fits[k].amp_pot;
            p->amp_dep = fits[k].amp_dep;
            p->period = track_cm / speed_cm_s;
            return 0;
        }
    }
    return -1;
}

/* The lap sum of the authors' code: k = -10..10 laps either side. */
#define LR_LAPS 10

/* Sum of the density over the laps (period 0: one density); c from skew_t_consts(d), NULL for an
 * invalid shape (sigma or nu not > 0), which gives NaN. */
static double lap_sum(const btsp_k_skew_t *d, const skew_consts *c, double tau, double period)
{
    if (!c)
        return NAN;
    if (period == 0.0)
        return skew_t_pdf(d, c, tau);
    double f = 0.0;
    for (int k = -LR_LAPS; k <= LR_LAPS; k++)
        f += skew_t_pdf(d, c, tau + k * period);
    return f;
}

/* The shape constants of both kernels, computed once per call of the public functions (they
 * cost several tgamma/log calls; an induction would otherwise repeat them per synapse and
 * plateau). */
typedef struct lr_consts {
    skew_consts pot, dep;
    int pot_ok, dep_ok;
} lr_consts;

static lr_consts lr_prepare(const btsp_k_lr_params *p)
{
    lr_consts k = {{0.0, 0.0}, {0.0, 0.0}, 0, 0};
    k.pot_ok = p->pot.sigma > 0.0 && p->pot.nu > 0.0;
    k.dep_ok = p->dep.sigma > 0.0 && p->dep.nu > 0.0;
    if (k.pot_ok)
        k.pot = skew_t_consts(&p->pot);
    if (k.dep_ok)
        k.dep = skew_t_consts(&p->dep);
    return k;
}

static void lr_kernels(const btsp_k_lr_params *p, const lr_consts *k, double tau, double *f_pot, double *f_dep)
{
    *f_pot = lap_sum(&p->pot, k->pot_ok ? &k->pot : NULL, tau, p->period);
    *f_dep = lap_sum(&p->dep, k->dep_ok ? &k->dep : NULL, tau, p->period);
}

void btsp_k_lr_kernels(const btsp_k_lr_params *p, double tau, double *f_pot, double *f_dep)
{
    const lr_consts k = lr_prepare(p);
    lr_kernels(p, &k, tau, f_pot, f_dep);
}

static float lr_update(const btsp_k_lr_params *p, double fp, double fd, float w)
{
    const double wj = w;
    const double v = wj + p->amp_pot * fp * (1.0 - wj) - p->amp_dep * fd * wj;
    return (float)(v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v);
}

void btsp_k_lr_induction(const btsp_k_lr_params *p, size_t n, const double *t_input, size_t m,
                         const double *t_plateau, float *w)
{
    const lr_consts c = lr_prepare(p);
    for (size_t j = 0; j < n; j++) {
        double fp = 0.0, fd = 0.0;
        for (size_t k = 0; k < m; k++) {
            double a, b;
            lr_kernels(p, &c, t_input[j] - t_plateau[k], &a, &b);
            fp += a;
            fd += b;
        }
        w[j] = lr_update(p, fp, fd, w[j]);
    }
}

void btsp_k_lr_apply(const btsp_k_lr_params *p, size_t n, const double *f_pot, const double *f_dep, float *w)
{
    for (size_t j = 0; j < n; j++)
        w[j] = lr_update(p, f_pot[j], f_dep[j], w[j]);
}

void btsp_k_lr_ring_store(size_t n_active, const uint32_t *idx, const float *phase, double amp_pot,
                          double amp_dep, float *W, size_t ldw)
{
    for (size_t a = 0; a < n_active; a++) {
        float *row = W + (size_t)idx[a] * ldw;
        for (size_t b = 0; b < n_active; b++) {
            const double c = cos((double)phase[a] - (double)phase[b]);
            const double w = row[idx[b]];
            const double v = w + amp_pot * (1.0 - w) * (1.0 + c) - amp_dep * w * (1.0 - c);
            row[idx[b]] = (float)(v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v);
        }
    }
}

void btsp_k_lr_ring_moments(double amp_pot, double amp_dep, double *mean, double *var)
{
    const double P = amp_pot, D = amp_dep;
    const double m = P / (P + D);
    const double w2 = (1.5 * P * P * P - 0.5 * P * P * D - 2.0 * P * P) /
                      ((P + D) * (1.5 * P * P + 1.5 * D * D + P * D - 2.0 * P - 2.0 * D));
    *mean = m;
    *var = w2 - m * m;
}
