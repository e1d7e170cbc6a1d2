"""The file to give ``spark-submit``, which runs a ``.py`` file (not a module, not a console script): the
``proofpile`` command.

    spark-submit --master spark://HEAD:7077 $(python -c "import proofpile_submit as m; print(m.__file__)") \\
        web --config pipelines/proof-pile-2/web.yaml --executor spark

It lives outside the ``proofpile`` package: Python puts a script's folder first on ``sys.path``, and the package's
folder holds subpackages named like standard modules (``proofpile/code`` would hide the standard ``code``).
"""

import sys

from proofpile.cli import main

if __name__ == "__main__":
    sys.exit(main())
