"""The code stage's steps: source readers, language detection, per-language filters, Jupyter conversion, exact
dedup within a language and the per-language table (see proofpile/stages/code.py for how they chain)."""
