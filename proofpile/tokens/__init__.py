"""Tokenizing contract documents into Arrow token shards.

``tokenizer``: naming, resolving and encoding with any tokenizer; ``steps``: the datatrove steps; ``shards``: the
shard layout, ``stats.json`` and finalizing (also what the manifest and the loader read). Kept free of eager imports:
the trainer-side loader reads shards without pulling in datatrove.
"""
