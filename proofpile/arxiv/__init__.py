"""arXiv LaTeX sources -> paper text: safe in-memory archive reading (``archive``), main file, ``\\input``
inlining, comments, macros and trimming (``latex``), readers (``readers``) and cleaning steps (``clean``)."""
