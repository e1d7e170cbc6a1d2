"""Lean 4 proof steps: parsing ``lake exe training_data --proofstep`` text and InfoTree JSON exports.

Both give ``(goals, tactic)`` steps; Proof-Pile-2's ``lean_proofsteps`` renders each as
``[GOAL]\\n<goals>\\n[PROOFSTEP]\\n<tactic>``.

InfoTree JSON (as written by kim-em/lean-training-data's exporters) is ``{"name": <module>, "trees": [...]}``, each
tree ``{"kind", "node", "children"}``; a command's tree has kind ``CommmandInfo`` (sic) and its ``node.stx.pp`` is
the declaration's source. Tactic nodes (kind ``TacticInfo``) carry ``name`` (the syntax kind), ``stx`` (``pp`` and
``range``), ``goalsBefore`` and ``goalsAfter``. Like lean-training-data's ``training_data``, we keep the
*substantive* tactics: structural wrappers (``by``, tactic sequences, ``·``, anonymous ``null`` nodes) are
skipped (their children are still visited), and so are synthetic nodes that macros made up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

GOAL, PROOFSTEP = "[GOAL]", "[PROOFSTEP]"

# syntax kinds that only structure a proof: lean-training-data's `TacticInfo.isSubstantive` leaves them out
STRUCTURAL_TACTICS = frozenset({
    "Lean.Parser.Term.byTactic",
    "Lean.Parser.Term.byTactic'",
    "Lean.Parser.Tactic.tacticSeq",
    "Lean.Parser.Tactic.tacticSeq1Indented",
    "Lean.Parser.Tactic.tacticSeqBracketed",
    "Lean.Parser.Tactic.paren",
    "Lean.cdot",
    "Lean.cdotTk",
    "cdot",
    "null",
})
UNPRINTABLE = "<failed to pretty print>"


@dataclass
class Step:
    goals: list[str]
    tactic: str

    def render(self) -> str:
        return f"{GOAL}\n{render_goals(self.goals)}\n{PROOFSTEP}\n{self.tactic}"


@dataclass
class Theorem:
    """The steps of one declaration (``name`` None for an ``example`` or when the export does not say)."""

    name: str | None
    steps: list[Step] = field(default_factory=list)
    statement: str | None = None
    line: int | None = None

    def render(self) -> str:
        return "\n".join(step.render() for step in self.steps)


def render_goals(goals: list[str]) -> str:
    # one goal per paragraph; `no goals` is what Lean prints for an empty list
    return "\n\n".join(g.strip("\n") for g in goals) if goals else "no goals"


class ProofstepFormatError(ValueError):
    """``reason`` names the drop: ``truncated`` or ``malformed``."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


# -- training_data --proofstep text ----------------------------------------------------------------------------

_MARKER_LINE = re.compile(r"^\[(GOAL|PROOFSTEP)\]$", re.M)


def parse_proofstep_text(text: str) -> tuple[list[Step], bool]:
    """Steps of a ``--proofstep`` export, and whether its last block was cut off (a ``[GOAL]`` without its
    ``[PROOFSTEP]`` or tactic: a truncated file). Raises ``ProofstepFormatError("malformed")`` if the text is not
    in that format at all (no blocks, text before the first block, two goals or two tactics in a row)."""
    markers = list(_MARKER_LINE.finditer(text))
    if not markers:
        raise ProofstepFormatError("malformed", "no [GOAL] block")
    if text[:markers[0].start()].strip():
        raise ProofstepFormatError("malformed", "text before the first [GOAL]")
    steps: list[Step] = []
    truncated = False
    i = 0
    while i < len(markers):
        m = markers[i]
        if m.group(1) != "GOAL":
            raise ProofstepFormatError("malformed", f"[PROOFSTEP] without [GOAL] at offset {m.start()}")
        if i + 1 >= len(markers):
            truncated = True
            break
        step_marker = markers[i + 1]
        if step_marker.group(1) != "PROOFSTEP":
            raise ProofstepFormatError("malformed", f"two [GOAL] in a row at offset {step_marker.start()}")
        end = markers[i + 2].start() if i + 2 < len(markers) else len(text)
        goals = text[m.end() + 1:step_marker.start()].strip("\n")
        tactic = text[step_marker.end() + 1:end].strip("\n")
        if not tactic.strip():
            truncated = i + 2 >= len(markers)
            if not truncated:
                raise ProofstepFormatError("malformed", f"empty tactic at offset {step_marker.start()}")
            break
        steps.append(Step([goals] if goals.strip() else [], tactic))  # the goals text is kept verbatim
        i += 2
    return steps, truncated


# -- InfoTree JSON ---------------------------------------------------------------------------------------------

_DECL = re.compile(
    r"^\s*(?:/--.*?-/\s*)?(?:@\[[^\]]*\]\s*)?(?:(?:private|protected|noncomputable|unsafe|partial|nonrec)\s+)*"
    r"(?P<kind>theorem|lemma|def|example|instance|abbrev|opaque)\b\s*(?P<name>[^\s:({\[⦃]+)?", re.S)


def declaration_name(source: str) -> tuple[str | None, str | None]:
    """``theorem foo (x : ℕ) : ...`` -> (``theorem``, ``foo``); an ``example`` or an instance without a name has
    name None."""
    m = _DECL.match(source or "")
    if not m:
        return None, None
    name = m["name"] if m["kind"] not in ("example",) else None
    return m["kind"], name


def _obj(value) -> dict:
    """A JSON object, or an empty one in place of anything else (exports are input, not trusted)."""
    return value if isinstance(value, dict) else {}


def _is_synthetic(node: dict) -> bool:
    return bool(_obj(_obj(node.get("stx")).get("range")).get("synthetic"))


def tactic_steps(tree: dict, stats: dict | None = None) -> list[Step]:
    """The substantive tactic steps of one InfoTree, in pre-order (source order)."""
    stats = stats if stats is not None else {}
    steps: list[Step] = []
    stack = [tree]
    while stack:
        t = stack.pop()
        if not isinstance(t, dict):
            raise ProofstepFormatError("malformed", "an InfoTree node is not an object")
        node = t.get("node")
        if t.get("kind") == "TacticInfo" and isinstance(node, dict):
            name = node.get("name")
            goals = node.get("goalsBefore") or []
            pp = _obj(node.get("stx")).get("pp")
            pp = pp.strip() if isinstance(pp, str) else ""
            if not isinstance(goals, list) or not all(isinstance(g, str) for g in goals):
                raise ProofstepFormatError("malformed", "goalsBefore is not a list of strings")
            if isinstance(name, str) and name not in STRUCTURAL_TACTICS and not _is_synthetic(node) and goals:
                if not pp or pp == UNPRINTABLE:
                    stats["skipped_unprintable_tactic"] = stats.get("skipped_unprintable_tactic", 0) + 1
                else:
                    steps.append(Step(list(goals), pp))
        children = t.get("children") or []
        if not isinstance(children, list):
            raise ProofstepFormatError("malformed", "children is not a list")
        stack.extend(reversed(children))
    return steps


_SCOPE = re.compile(r"^\s*(namespace|section|noncomputable\s+section|end)\b\s*([^\s]*)")


class _Scopes:
    """``namespace``/``section``/``end`` commands, followed so a declaration gets its full name (``Nat.foo`` for
    ``theorem foo`` inside ``namespace Nat``), as held-out lists of full names need."""

    def __init__(self):
        self.stack: list[tuple[str, list[str]]] = []

    def command(self, source: str) -> None:
        m = _SCOPE.match(source)
        if not m:
            return
        kind, name = m.group(1).split()[-1], m.group(2)
        parts = name.split(".") if name else []
        if kind == "end":
            # `end A.B` closes `namespace A.B`; an unmatched `end` leaves the stack alone
            if self.stack and self.stack[-1][1] == parts:
                self.stack.pop()
        else:
            self.stack.append((kind, parts))

    def full_name(self, name: str | None) -> str | None:
        if name is None:
            return None
        if name.startswith("_root_."):
            return name.removeprefix("_root_.")
        prefix = [p for kind, parts in self.stack if kind == "namespace" for p in parts]
        return ".".join(prefix + [name])


def parse_infotree(data) -> tuple[str | None, list[Theorem], dict]:
    """(module name, the declarations that have tactic steps, stats) of an InfoTree JSON export. Theorem names are
    full names (namespaces followed)."""
    if not isinstance(data, dict) or not isinstance(data.get("trees"), list):
        raise ProofstepFormatError("malformed", "no `trees` list")
    stats: dict = {}
    theorems = []
    scopes = _Scopes()
    for tree in data["trees"]:
        if not isinstance(tree, dict):
            raise ProofstepFormatError("malformed", "a tree is not an object")
        stx = _obj(_obj(tree.get("node")).get("stx"))
        source = stx.get("pp") if isinstance(stx.get("pp"), str) else ""
        scopes.command(source)
        steps = tactic_steps(tree, stats)
        if not steps:
            continue
        _, name = declaration_name(source)
        line = _obj(_obj(stx.get("range")).get("start")).get("line")
        line = line if isinstance(line, int) else None
        statement = source.split(":= by", 1)[0].strip() if source else None
        theorems.append(Theorem(scopes.full_name(name), steps, statement, line))
    module = data.get("name") if isinstance(data.get("name"), str) else None
    return module, theorems, stats
