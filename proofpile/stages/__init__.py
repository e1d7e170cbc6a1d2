"""One module per stage: UPSTREAM, OUTPUTS, Config (its typed config section) and run(cfg) (see proofpile.stage)."""
