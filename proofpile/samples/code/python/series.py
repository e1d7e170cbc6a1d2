import os, sys
from sympy import Symbol, series, sin, cos

x = Symbol("x")
print(series(sin(x) / cos(x), x, 0, 8))   # the Taylor series of tan
