"""Deduplication steps: exact (content hash) and MinHash near-duplicates with math-safe shingles."""
