(* Only notations and imports: nothing stated, nothing proved. *)
Require Import Coq.Lists.List.
Import ListNotations.

Notation "x :: l" := (cons x l) (at level 60, right associativity).
Notation "[ ]" := nil.
Notation "[ x ; .. ; y ]" := (cons x .. (cons y nil) ..).
