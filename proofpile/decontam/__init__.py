"""Decontamination against benchmark test sets (n-gram overlap) and deterministic train/validation/test splits."""
