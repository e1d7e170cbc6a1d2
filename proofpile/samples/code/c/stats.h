/* Sample statistics on GSL vectors. */
#ifndef STATS_H
#define STATS_H
#include <gsl/gsl_vector.h>
#include <gsl/gsl_statistics_double.h>

static inline double zscore(const gsl_vector *v, size_t i)
{
    double mean = gsl_stats_mean(v->data, v->stride, v->size);
    double sd = gsl_stats_sd_m(v->data, v->stride, v->size, mean);
    return (gsl_vector_get(v, i) - mean) / sd;
}
#endif
