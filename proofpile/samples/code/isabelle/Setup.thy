theory Setup
  imports Main
begin

(* Configuration only: syntax and an ML setup, no statements. *)
type_synonym name = string
definition greeting :: "name \<Rightarrow> string" where
  "greeting n = ''hello '' @ n"

ML \<open>val _ = writeln "setup loaded"\<close>

end
