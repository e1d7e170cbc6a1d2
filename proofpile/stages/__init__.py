"""One module per stage: UPSTREAM, OUTPUTS, inputs(cfg) and run(cfg) (see proofpile.stage)."""
