/* Using the kernels from a host simulator's own loop: one synapse receiving repeated BTSP
 * events with presynaptic signal s converges to the fixed point W* = w_max s / (s + rho q(s)). */
#include <btsp/btsp_kernels.h>

#include <math.h>
#include <stdio.h>

int main(void)
{
    btsp_k_btsp_params p;
    p.learning_rate = 0.05f;
    p.w_max = 1.0f;
    p.dep_ratio = 1.0f;
    p.discount = 0.0f;
    p.lo = 0.0f;
    p.hi = 1.0f;
    btsp_k_q_default(&p.q);

    const float signals[] = {1.0f, 0.3f, 0.02f};
    float w[3] = {0.9f, 0.9f, 0.9f}; /* one post unit, three inputs */
    float plateau = 1.0f, past_plateau = 0.0f, past_pre[3] = {0, 0, 0};
    float work[6 * 3];
    for (int event = 0; event < 400; event++)
        btsp_k_btsp_update(1, 3, w, 3, &plateau, &past_plateau, signals, past_pre, &p, work);
    int ok = 1;
    for (int j = 0; j < 3; j++) {
        double fp = btsp_k_btsp_fixed_point(&p.q, p.w_max, p.dep_ratio, signals[j]);
        printf("s = %.2f: W = %.4f, fixed point %.4f\n", signals[j], w[j], fp);
        ok &= fabs(w[j] - fp) < 1e-3;
    }
    return ok ? 0 : 1;
}
