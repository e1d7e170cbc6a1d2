-- | Spectral radius of a symmetric matrix with hmatrix.
module Spectral (spectralRadius) where

import Numeric.LinearAlgebra (Matrix, eigSH, maxElement, sym, (><))

spectralRadius :: Matrix Double -> Double
spectralRadius m = maxElement (abs values)
  where (values, _) = eigSH (sym m)

example :: Double
example = spectralRadius ((2><2) [2, 1, 1, 2])   -- 3
