"""Isabelle proof steps from PISA's ``*.thy_output.json`` extractions.

A file is ``{"translations": [[state, step], ...]}`` in the theory's order. An item whose state is empty starts a
new theorem and its step is the statement (``lemma foo: "..."``); the items after it are (proof state, proof step)
pairs until the next empty state. Proof-Pile-2's ``isabelle_proofsteps`` renders one theorem as
``[STATEMENT]\\n<stmt>`` followed by ``\\n[PROOF STATE]\\n<state>\\n[PROOF STEP]\\n<step>`` for each step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from proofpile.proofsteps.lean import ProofstepFormatError

STATEMENT, PROOF_STATE, PROOF_STEP = "[STATEMENT]", "[PROOF STATE]", "[PROOF STEP]"

_THEOREM = re.compile(
    r"^\s*(?P<kind>lemma|theorem|corollary|proposition|schematic_goal|interpretation|sublocale)\b"
    r"(?:\s*\((?:in\s+)?[^)]*\))?\s*(?P<name>[^\s:\[\"]+)?")


_STATEMENT_KEYWORDS = frozenset({"fixes", "assumes", "shows", "obtains", "and", "includes", "defines", "notes"})


@dataclass
class IsabelleTheorem:
    statement: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    index: int = 0  # position of the statement in the translations

    @property
    def name(self) -> str | None:
        """``lemma foo [simp]: ...`` -> ``foo``; an unnamed ``lemma "..."`` -> None."""
        m = _THEOREM.match(self.statement)
        if not m or m["name"] in _STATEMENT_KEYWORDS:
            return None  # `lemma shows "..."`: the statement starts right away
        return m["name"]

    @property
    def is_theorem(self) -> bool:
        return bool(_THEOREM.match(self.statement))

    def render(self) -> str:
        parts = [f"{STATEMENT}\n{self.statement}"]
        parts += [f"{PROOF_STATE}\n{state}\n{PROOF_STEP}\n{step}" for state, step in self.steps]
        return "\n".join(parts)


def parse_pisa(data) -> tuple[list[IsabelleTheorem], int]:
    """The theorems of a PISA extraction, and the number of leading steps that belong to no statement.
    Raises ``ProofstepFormatError("malformed")`` when the shape is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("translations"), list):
        raise ProofstepFormatError("malformed", "no `translations` list")
    theorems: list[IsabelleTheorem] = []
    orphans = 0
    for i, item in enumerate(data["translations"]):
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ProofstepFormatError("malformed", f"translation {i} is not a [state, step] pair of strings")
        state, step = item
        if not state.strip():
            theorems.append(IsabelleTheorem(step.strip(), index=i))
        elif theorems:
            theorems[-1].steps.append((state, step))
        else:
            orphans += 1
    return theorems, orphans
