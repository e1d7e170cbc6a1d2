/* Circular convolution of two real signals through the FFT (FFTW3). */
#include <stdlib.h>
#include <complex.h>
#include <fftw3.h>

void convolve(const double *a, const double *b, double *out, int n)
{
    int m = n / 2 + 1;
    fftw_complex *fa = fftw_malloc(sizeof(fftw_complex) * m);
    fftw_complex *fb = fftw_malloc(sizeof(fftw_complex) * m);
    fftw_plan pa = fftw_plan_dft_r2c_1d(n, (double *)a, fa, FFTW_ESTIMATE);
    fftw_plan pb = fftw_plan_dft_r2c_1d(n, (double *)b, fb, FFTW_ESTIMATE);
    fftw_execute(pa);
    fftw_execute(pb);
    for (int k = 0; k < m; k++)
        fa[k] *= fb[k] / n;            /* pointwise product = convolution */
    fftw_plan pc = fftw_plan_dft_c2r_1d(n, fa, out, FFTW_ESTIMATE);
    fftw_execute(pc);
    fftw_destroy_plan(pa); fftw_destroy_plan(pb); fftw_destroy_plan(pc);
    fftw_free(fa); fftw_free(fb);
}
