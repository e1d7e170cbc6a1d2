(* Commutativity of addition on the naturals, by induction. *)
Require Import Arith.

Lemma plus_n_O' : forall n : nat, n = n + 0.
Proof.
  induction n as [| n IH]; simpl.
  - reflexivity.
  - rewrite <- IH. reflexivity.
Qed.

Theorem plus_comm' : forall n m : nat, n + m = m + n.
Proof.
  intros n m. induction n as [| n IH]; simpl.
  - apply plus_n_O'.
  - rewrite IH. apply plus_n_Sm.
Qed.
