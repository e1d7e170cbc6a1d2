"""proofpile: reproducible Proof-Pile-2-class math pretraining corpora."""

__version__ = "0.1.0"
