/-! Basic facts about addition on the naturals. -/

theorem add_zero' (n : Nat) : n + 0 = n := rfl

@[simp] protected theorem Nat.zero_add' (n : Nat) : 0 + n = n := by
  induction n with
  | zero => rfl
  | succ n ih => rw [Nat.add_succ, ih]

example : 2 + 2 = 4 := by decide
