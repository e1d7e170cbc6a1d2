"""Names fixed by the design, stated once: the stages in run order, and the subsets and splits of the corpus.

No imports: the loader and the CLI read these without loading datatrove. Which stage reads which is each stage
module's ``UPSTREAM`` (see ``proofpile.stage``); ``proofpile deps`` writes those edges for make.
"""

STAGES = ("web", "code", "arxiv", "proofsteps", "dedup", "decontam", "tokenize", "manifest", "report")
SUBSETS = ("arxiv", "open-web-math", "algebraic-stack")
SPLITS = ("train", "validation", "test")
