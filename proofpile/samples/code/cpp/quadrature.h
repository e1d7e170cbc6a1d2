// Gauss-Legendre quadrature on [a, b] with Boost.Math.
#pragma once
#include <boost/math/quadrature/gauss.hpp>

namespace quad {
template <class F>
double integrate(F f, double a, double b)
{
    using boost::math::quadrature::gauss;
    return gauss<double, 15>::integrate(f, a, b);
}
}  // namespace quad
