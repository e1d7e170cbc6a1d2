/-! Custom syntax for our tactic framework. Every lemma in the library
    uses these macros, but this file states no theorem itself. -/

syntax "trivial'" : tactic
macro_rules
  | `(tactic| trivial') => `(tactic| first | rfl | decide | assumption)

def version : String := "0.1.0"
