/* Kernel throughput benchmark: prints GFLOP/s (2 flops per multiply-add) of the dense kernels at
 * the 5L network's sizes, and the BTSP update rate. Not a test: timing depends on the machine.
 *   build/release/bench/bench_kernels [repetitions]                                          */
#define _POSIX_C_SOURCE 200809L
#include <btsp/btsp_kernels.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *rand_array(size_t n, uint64_t stream, float zero_fraction)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; x && i < n; i++) {
        double u = btsp_k_rand_uniform(7, stream, 2 * i);
        x[i] = u < zero_fraction ? 0.0f : (float)btsp_k_rand_uniform(7, stream, 2 * i + 1);
    }
    return x;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 2000;
    if (reps < 1)
        reps = 1;
    const size_t shapes[][2] = {{500, 784}, {500, 500}, {50, 500}, {10, 500}};
    printf("%-28s %10s %10s\n", "kernel (rows x cols)", "us/call", "GFLOP/s");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t r = shapes[s][0], c = shapes[s][1];
        float *W = rand_array(r * c, 1, 0.0f), *x = rand_array(c, 2, 0.5f), *y = calloc(r, sizeof *y);
        if (!W || !x || !y)
            return 1;
        double t0 = now();
        for (int k = 0; k < reps; k++)
            btsp_k_matvec_acc(r, c, W, c, x, y);
        double dt = (now() - t0) / reps;
        printf("matvec %4zux%-4zu              %10.2f %10.2f\n", r, c, 1e6 * dt, 2.0 * (double)(r * c) / dt * 1e-9);
        free(W);
        free(x);
        free(y);
    }
    {
        size_t r = 500, c = 784, nb = 64;
        float *W = rand_array(r * c, 3, 0.0f), *X = rand_array(nb * c, 4, 0.5f), *Y = calloc(nb * r, sizeof *Y);
        if (!W || !X || !Y)
            return 1;
        int m = reps / 32 + 1;
        double t0 = now();
        for (int k = 0; k < m; k++)
            btsp_k_matmat_acc(r, c, nb, W, c, X, c, Y, r);
        double dt = (now() - t0) / m;
        printf("matmat 500x784, 64 vectors   %10.2f %10.2f\n", 1e6 * dt, 2.0 * (double)(r * c * nb) / dt * 1e-9);
        free(W);
        free(X);
        free(Y);
    }
    {
        size_t r = 500, c = 784;
        float *W = rand_array(r * c, 5, 0.0f), *pre = rand_array(c, 6, 0.5f), *past = rand_array(c, 7, 0.5f);
        float *P = rand_array(r, 8, 0.3f), *Pp = rand_array(r, 9, 0.7f), *work = malloc(6 * c * sizeof *work);
        if (!W || !pre || !past || !P || !Pp || !work)
            return 1;
        for (size_t i = 0; i < r; i++)
            P[i] = 2.0f * P[i] - 1.0f;
        btsp_k_btsp_params p; /* the FMNIST 5L H1 values */
        p.learning_rate = 0.004f;
        p.w_max = 0.226f;
        p.dep_ratio = 1.0f;
        p.discount = 0.0005f;
        p.lo = 0.0f;
        p.hi = 0.226f;
        btsp_k_q_default(&p.q);
        int m = reps / 4 + 1;
        double t0 = now();
        for (int k = 0; k < m; k++)
            btsp_k_btsp_update(r, c, W, c, P, Pp, pre, past, &p, work);
        double dt = (now() - t0) / m;
        printf("btsp_update 500x784          %10.2f   (%.0f Msynapses/s)\n", 1e6 * dt, (double)(r * c) / dt * 1e-6);
        free(W);
        free(pre);
        free(past);
        free(P);
        free(Pp);
        free(work);
    }
    {
        /* the bounds clamp every learned projection gets after every training step (Dale
         * bounds of H1E_InputE): 30 % of the weights sit at the lower bound, half the rest above the upper */
        size_t r = 500, c = 784;
        float *W = rand_array(r * c, 10, 0.3f);
        if (!W)
            return 1;
        double t0 = now();
        for (int k = 0; k < reps; k++)
            btsp_k_clip_matrix(r, c, W, c, 0.0f, 0.5f);
        double dt = (now() - t0) / reps;
        printf("clip_matrix 500x784          %10.2f   (%.3f ns/weight)\n", 1e6 * dt, dt / (double)(r * c) * 1e9);
        free(W);
    }
    {
        /* binary synapses (examples/binary_cam.c sizes): one read-out of every memory neuron
         * (popcount of W & mask & x), and one item stored with f_q / 2 = 1 % plateau rows */
        size_t r = 2000, c = 4000, words = btsp_k_bit_words(c);
        uint64_t *W = malloc(r * words * sizeof *W), *M = malloc(r * words * sizeof *M);
        uint64_t *x = malloc(words * sizeof *x), *pl = malloc(btsp_k_bit_words(r) * sizeof *pl);
        uint32_t *h = malloc(r * sizeof *h);
        if (!W || !M || !x || !pl || !h)
            return 1;
        for (size_t i = 0; i < r; i++) {
            btsp_k_bernoulli_bits(1, 1, i * c, c, 0.3, W + i * words);
            btsp_k_bernoulli_bits(1, 2, i * c, c, 0.6, M + i * words);
        }
        btsp_k_bernoulli_bits(1, 3, 0, c, 0.02, x);
        btsp_k_bernoulli_bits(1, 4, 0, r, 0.01, pl);
        int m = reps;
        double t0 = now();
        for (int k = 0; k < m; k++)
            btsp_k_binary_input(r, words, W, M, x, h);
        double dt = (now() - t0) / m;
        printf("binary_input 2000x4000       %10.2f   (%.0f Msynapses/s)\n", 1e6 * dt, (double)(r * c) / dt * 1e-6);
        t0 = now();
        for (int k = 0; k < m; k++)
            btsp_k_binary_store(BTSP_K_BINARY_FLIP, r, words, W, M, x, pl);
        dt = (now() - t0) / m;
        printf("binary_store 2000x4000, 1%%   %10.2f\n", 1e6 * dt);
        free(W);
        free(M);
        free(x);
        free(pl);
        free(h);
    }
    {
        /* Li & Roxin induction (examples/li_roxin.c: 400 inputs, 187 cm at 25 cm/s, one plateau):
         * with the skewed kernels evaluated in place, and applied from kernels computed once */
        enum { N = 400 };
        btsp_k_lr_params p;
        if (btsp_k_lr_default(&p, 25.0, 187.0) != 0)
            return 1;
        double tin[N], fp[N], fd[N];
        float w[N];
        const double tp = 90.0 / 25.0;
        for (int j = 0; j < N; j++) {
            tin[j] = (j + 0.5) * 187.0 / N / 25.0;
            w[j] = 0.2f;
            btsp_k_lr_kernels(&p, tin[j] - tp, &fp[j], &fd[j]);
        }
        int m = reps / 100 > 0 ? reps / 100 : 1;
        double t0 = now();
        for (int k = 0; k < m; k++)
            btsp_k_lr_induction(&p, N, tin, 1, &tp, w);
        double dt = (now() - t0) / m;
        printf("lr_induction 400 synapses    %10.2f\n", 1e6 * dt);
        t0 = now();
        for (int k = 0; k < 100 * reps; k++)
            btsp_k_lr_apply(&p, N, fp, fd, w);
        dt = (now() - t0) / (100.0 * reps);
        printf("lr_apply 400 synapses        %10.2f\n", 1e6 * dt);
    }
    return 0;
}
