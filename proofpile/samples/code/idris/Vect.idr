module Vect

data Vect : Nat -> Type -> Type where
  Nil  : Vect Z a
  (::) : a -> Vect n a -> Vect (S n) a

append : Vect n a -> Vect m a -> Vect (n + m) a
append Nil       ys = ys
append (x :: xs) ys = x :: append xs ys

plusZeroRight : (n : Nat) -> n + Z = n
plusZeroRight Z     = Refl
plusZeroRight (S k) = cong S (plusZeroRight k)
