"""Batches bounded by count and by text size: a step that works through a batch at once (numpy over its texts,
a filter whose code and data stay in cache) holds a bounded amount, whatever the documents' sizes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def sized_batches(items: Iterable[T], max_items: int, max_chars: int | None = None,
                  text_of: Callable[[T], str] | None = None) -> Iterator[list[T]]:
    """Consecutive lists of up to ``max_items`` items; with ``max_chars``, a list also ends at the item that brings
    its text (``text_of(item)``, by default ``item.text``) to ``max_chars`` characters."""
    batch, chars = [], 0
    for item in items:
        batch.append(item)
        if max_chars:  # (item.text read here: a call per item of every step that batches cost more)
            chars += len(item.text if text_of is None else text_of(item))
        if len(batch) >= max_items or (max_chars and chars >= max_chars):
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch
