theory SumFormula
  imports Main
begin

lemma gauss_sum: "2 * (\<Sum>i\<le>n. i) = n * (Suc n)"
  by (induction n) auto

theorem sum_odd: "(\<Sum>i<n. 2 * i + 1) = n ^ 2"
  by (induction n) (auto simp: power2_eq_square)

end
