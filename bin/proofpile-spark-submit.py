"""``spark-submit`` entry point for proofpile (spark-submit runs a .py file; one inside the package would put the
package folder first on sys.path, where ``proofpile/tokenize`` shadows the standard library's ``tokenize``).

    spark-submit --master spark://HOST:7077 bin/proofpile-spark-submit.py \
        web --config pipelines/web.yaml --executor spark

Arguments are those of the ``proofpile`` command; stages then run on the session spark-submit created.
"""

import sys

from proofpile.cli import main

if __name__ == "__main__":
    sys.exit(main())
