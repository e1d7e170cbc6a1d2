/* MEX gateway saved with a .m extension by mistake: C, not MATLAB. */
#include "mex.h"
#include <math.h>

void mexFunction(int nlhs, mxArray *plhs[], int nrhs, const mxArray *prhs[])
{
    double *x = mxGetPr(prhs[0]);
    size_t n = mxGetNumberOfElements(prhs[0]);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i] * x[i];
    plhs[0] = mxCreateDoubleScalar(sqrt(s));
}
