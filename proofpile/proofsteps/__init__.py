"""Proof-step documents: Lean ``training_data`` text and InfoTree JSON (``lean``), Isabelle PISA (``isabelle``),
readers (``readers``), benchmark hygiene (``hygiene``) and the per-file Lean document (``assemble``)."""
