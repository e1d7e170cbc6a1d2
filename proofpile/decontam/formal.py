"""Benchmark hygiene for formal mathematics: miniF2F / ProofNet statements must not reach the corpus from source
files (code stage) or proof-step data (proofsteps stage).

Names differ between systems and releases (``aimeII_2001_p3``, ``aime_2001_ii_p3``) and proof-step text has none, so
a theorem is matched by its *statement*: the header without its keyword and name, cut where the proof starts,
with comments and whitespace removed (``proofpile/decontam/formal.py``'s ``statement_key``). Matching is per
theorem block: the block is removed, the rest of the file kept, and the removal counted per benchmark
(``removed_<benchmark>``); a file left with nothing is dropped (``dropped_only_benchmark_theorems``). A file whose text,
comments and whitespace removed, holds no statement key at all is passed after one scan (``may_hold_statement``).

In proof-step documents (``[GOAL] ... [PROOFSTEP] ...`` blocks, no names) a goal is matched by its target and
hypotheses against each statement's conclusion and binders (``goal_key``); the matching block and the blocks
right after it that share the statement's hypotheses (the rest of that theorem's proof) are removed.

The statements are data under ``filters/decontam/formal/<benchmark>.statements.jsonl`` (see its README).
"""

from __future__ import annotations

import bisect
import re
from functools import cache
from pathlib import Path

import orjson
from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

FORMAL_DIR = Path(__file__).resolve().parents[2] / "filters" / "decontam" / "formal"

_LEAN_COMMENT = re.compile(r"/-.*?-/|--[^\n]*", re.S)
_ISABELLE_COMMENT = re.compile(r"\(\*.*?\*\)", re.S)
_SPACE = re.compile(r"\s+")
_LEAN_ARM = re.compile(r"^\s*\|", re.M)  # an equation-compiler arm: the statement ends before it
_ASCRIPTION = re.compile(r"\((-?\d+(?:\.\d+)?)\s*:{1,2}\s*[^()]+\)")  # (120 : ℝ) / (120::real) -> 120
_LEAN_HEAD = re.compile(r"^\s*(?:@\[[^\]]*\]\s*)?(?:(?:private|protected|noncomputable|nonrec)\s+)*"
                        r"(?:theorem|lemma|example)\b\s*(?:[^\s:({\[⦃]+)?", re.S)
_ISABELLE_HEAD = re.compile(r"^\s*(?:theorem|lemma|corollary|proposition|schematic_goal)\b\s*"
                            r"(?:[^\s:\"\[]+)?\s*(?:\[[^\]]*\])?\s*:?", re.S)
# \b(?:proof|by|...)\b, with each word's first letter ahead of its \b (a lookbehind): re then scans for those
# letters at C speed instead of trying \b at every position
_ISABELLE_PROOF = re.compile("|".join(rf"{w[0]}(?<!\w.){w[1:]}\b" for w in (
    "proof", "by", "apply", "using", "unfolding", "sorry", "oops", "including", "supply", "nitpick", "sledgehammer")))
_QUOTED = re.compile(r'"[^"]*"|\\<open>.*?\\<close>', re.S)
# where a theorem block starts, per language; it ends where the next top-level command starts
LEAN_DECL = re.compile(r"^(?:@\[[^\n]*\]\s*)?(?:(?:private|protected|noncomputable|nonrec)\s+)*"
                       r"(?:theorem|lemma|example)\b", re.M)
LEAN_TOP = re.compile(r"^(?:@\[|/--|/-|(?:private |protected |noncomputable |nonrec )*(?:theorem|lemma|example|"
                      r"def|instance|structure|inductive|class|abbrev|axiom|namespace|section|open|end[ \t]+\S|"
                      r"variable|universe|import|set_option|attribute|mutual|#)\b)", re.M)
# \s*+ (possessive): every keyword starts with a letter, so whitespace given back never starts one (re would try)
ISABELLE_DECL = re.compile(r"^\s*+(?:theorem|lemma|corollary|proposition|schematic_goal)\b", re.M)
ISABELLE_TOP = re.compile(r"^\s*+(?:theorem|lemma|corollary|proposition|schematic_goal|definition|fun|function|"
                          r"primrec|datatype|end|section|subsection|text|declare|abbreviation|locale|context|"
                          r"instantiation|type_synonym|record|inductive|notepad|ML)\b", re.M)
SYSTEM_OF_LANG = {"Lean": "lean", "Lean 4": "lean", "Lean 3": "lean", "Isabelle": "isabelle"}


def _system(system: str) -> str:
    return "isabelle" if system.lower().startswith("isabelle") else "lean"


def statement_key(text: str, system: str) -> str | None:
    """The normalised statement of a theorem block or header (None if it is not one)."""
    if system != "lean" and _system(system) == "isabelle":
        if "(*" in text:
            text = without_comments(text, "isabelle")
        head = _ISABELLE_HEAD.match(text)
        if not head:
            return None
        body = text[head.end():]
        # the first proof keyword outside the quoted terms; both found one at a time (a search is cheaper than a
        # finditer's first step), the terms only as far as the keywords looked at
        term, m = _QUOTED.search(body), _ISABELLE_PROOF.search(body)
        while m is not None:
            while term is not None and term.end() <= m.start():
                term = _QUOTED.search(body, term.end())
            if term is None or m.start() < term.start():
                body = body[: m.start()]
                break
            m = _ISABELLE_PROOF.search(body, m.end())
    else:
        # The statement ends at the first ":=". When no comment opens before it, removing comments changes nothing
        # up to there (a comment opener is "--" or "/-", neither of which overlaps ":="): the head and the body
        # are read from the text as it is, unless the head ran past the ":=" (an attribute holding one).
        cut = text.find(":=")
        end = len(text) if cut == -1 else cut
        head = None if text.find("--", 0, end) != -1 or text.find("/-", 0, end) != -1 else _LEAN_HEAD.match(text)
        if head is not None and (cut == -1 or head.end() <= cut):
            body = text[head.end():] if cut == -1 else text[head.end():cut]
        else:
            text = without_comments(text, "lean")
            head = _LEAN_HEAD.match(text)
            if not head:
                return None
            body = text[head.end():].split(":=", 1)[0]
        body = body.split("\nbegin", 1)[0]
        if "|" in body:
            body = _LEAN_ARM.split(body, maxsplit=1)[0]  # equation-compiler arms
    key = "".join(body.split())  # what _SPACE.sub("", body) gives (both split at str.isspace), faster
    return key or None


def _split_binders(header: str) -> tuple[list[str], str] | None:
    """Lean ``(a b : T) {c : U} [inst : V] : target`` -> (binder types, target)."""
    types, depth, start, i = [], 0, None, 0
    while i < len(header):
        c = header[i]
        if c in "({[⦃":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c in ")}]⦄":
            depth -= 1
            if depth == 0 and start is not None:
                inner = header[start:i]
                if ":" in inner:
                    types.append(inner.split(":", 1)[1])
                elif c == "]":
                    types.append(inner)  # anonymous instance binder
        elif c == ":" and depth == 0:
            return types, header[i + 1:]
        i += 1
    return None


# a universe as a statement writes it (Type*, Type _, Type u) and as a goal prints it (Type u_1, Sort u_2)
_UNIVERSE = re.compile(r"\b(Type|Sort)(?:\s*\*|\s+_|\s+[uvw](?:_?\d+|[₀-₉]+)?\b|\s+\(max[^()]*\))?")
_COERCIONS = str.maketrans("", "", "↑↥⇑()")  # casts the printer adds; parentheses the printer adds or drops


def _norm_expr(text: str) -> str:
    """An expression as a statement writes it and a goal prints it, alike: numeric type ascriptions, universe
    levels, coercion arrows, parentheses and whitespace dropped (``∀ x y : T, P`` reads as ``∀ (x y : T), P``)."""
    text = _UNIVERSE.sub(r"\1", _ASCRIPTION.sub(r"\1", text.replace("↑", "")))
    return _SPACE.sub("", text.translate(_COERCIONS))


def goal_key_of_statement(statement: str) -> tuple[str, frozenset] | None:
    """(target, hypothesis types) of a Lean statement, as a goal would show them."""
    text = without_comments(statement, "lean")
    head = _LEAN_HEAD.match(text)
    if not head:
        return None
    parts = _split_binders(text[head.end():].split(":=", 1)[0])
    if parts is None:
        return None
    types, target = parts
    return _norm_expr(target), frozenset(_norm_expr(t) for t in types)


def goal_key(goal: str) -> tuple[str, frozenset] | None:
    """(target, hypothesis types) of a pretty-printed goal (``h : T`` lines, then ``⊢ target``)."""
    if "⊢" not in goal:
        return None
    hyps, target = goal.split("⊢", 1)
    types = []
    for line in re.split(r"\n(?=\S)", hyps.strip()):
        if ":" in line:
            types.append(line.split(":", 1)[1].rstrip().removesuffix(","))  # Lean 3 ends hypotheses with commas
    return _norm_expr(target.split("\n\n", 1)[0]), frozenset(_norm_expr(t) for t in types)


@cache
def load_statements(folder: str = str(FORMAL_DIR)) -> tuple[dict, dict]:
    """({(system, statement key): benchmark}, {goal target: [(benchmark, hypothesis types)]})."""
    keys, goals = {}, {}
    for path in sorted(Path(folder).glob("*.statements.jsonl")):
        bench = path.name.removesuffix(".statements.jsonl")
        for line in path.read_bytes().splitlines():
            if not line.strip():
                continue
            row = orjson.loads(line)
            system = _system(row["system"])
            key = statement_key(row["statement"], system)
            if key:
                keys.setdefault((system, key), bench)
            if system == "lean" and (g := goal_key_of_statement(row["statement"])):
                goals.setdefault(g[0], []).append((bench, g[1]))
    return keys, goals


_CATEGORY_CLASSES = {"CATEGORY_SPACE": r"\s", "CATEGORY_DIGIT": r"\d", "CATEGORY_WORD": r"\w"}


def first_chars(pattern: str, flags: int = 0) -> str | None:
    """A character class (its inside, for ``[...]``) that holds the first character of every match of ``pattern``,
    or None when the pattern may match an empty text or is not simple enough to tell (case-insensitive, a negated
    class, an assertion, a backreference ...). Read from re's own parse of the pattern."""
    if flags & re.I:
        return None
    try:
        from re import _constants as c
        from re import _parser  # re's own parser, the one re.compile uses

        parsed = _parser.parse(pattern, flags)
    except Exception:  # another Python's internals: no class, the pattern is searched as it is
        return None

    repeats = (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT)

    def item_class(op, arg) -> str | None:
        if op is c.LITERAL:
            return re.escape(chr(arg))
        if op is c.IN and arg and arg[0][0] is not c.NEGATE:
            parts = []
            for o, a in arg:
                if o is c.LITERAL:
                    parts.append(re.escape(chr(a)))
                elif o is c.RANGE:
                    parts.append(f"{re.escape(chr(a[0]))}-{re.escape(chr(a[1]))}")
                elif o is c.CATEGORY and str(a) in _CATEGORY_CLASSES:
                    parts.append(_CATEGORY_CLASSES[str(a)])
                else:
                    return None
            return "".join(parts)
        return None

    def seq_class(items) -> str | None:
        """The class of a sequence's first character, None when unknown or when the sequence may be empty."""
        parts = []
        for op, arg in items:
            if op is c.AT:  # ^, \b ...: zero width, the next item holds the first character
                continue
            if op is c.SUBPATTERN:
                if arg[1] & re.I:  # (?i:...): its literals match in any case
                    return None
                inner = seq_class(arg[-1])
                return None if inner is None else "".join(parts) + inner
            if op is c.BRANCH:
                alts = [seq_class(alt) for alt in arg[1]]
                return None if None in alts else "".join(parts) + "".join(alts)
            if op in repeats:
                inner = seq_class(arg[2])
                if inner is None:
                    return None
                parts.append(inner)
                if arg[0] == 0:  # may repeat nothing: the next item may start the match
                    continue
                return "".join(parts)
            single = item_class(op, arg)
            return None if single is None else "".join(parts) + single
        return None  # the sequence may match nothing

    return seq_class(parsed)


def anchored_at_line_starts(pattern: re.Pattern) -> bool:
    """Whether every match of ``pattern`` starts where a line does: ``^`` under ``re.M`` leads the whole pattern, not
    one alternative of it (``^a|b`` finds ``b`` anywhere)."""
    if not pattern.pattern.startswith("^") or not pattern.flags & re.M:
        return False
    try:
        from re import _constants as c
        from re import _parser  # re's own parser, the one re.compile uses

        items = _parser.parse(pattern.pattern, pattern.flags).data
    except Exception:  # another Python's internals: not known to be anchored
        return False
    return bool(items) and items[0] == (c.AT, c.AT_BEGINNING)


class LineStarts:
    """``[m.start() for m in pattern.finditer(text)]`` for a ``^``-led multiline pattern whose matches never end
    right after a newline (each of the four above ends with a keyword or a delimiter), faster: re tries such a
    pattern at every position, but the same pattern led by a newline is found by a scan for that one character,
    and is given up at once on a line whose first character no match starts with (``first_chars``: most lines of
    a proof start with a space). The match at the very start is tried apart."""

    def __init__(self, pattern: re.Pattern):
        if not anchored_at_line_starts(pattern):
            raise ValueError(f"not a pattern anchored at line starts: {pattern.pattern}")
        self.pattern = pattern
        first = first_chars(pattern.pattern[1:], pattern.flags)
        ahead = f"(?=[{first}])" if first else ""
        self.after_newline = re.compile("\n" + ahead + "(?:" + pattern.pattern[1:] + ")", pattern.flags)

    def __call__(self, text: str) -> list[int]:
        first = self.pattern.match(text)
        starts = [0] if first else []
        starts += [m.start() + 1 for m in self.after_newline.finditer(text, first.end() if first else 0)]
        return starts


_BLOCK_PATTERNS = {"lean": (LineStarts(LEAN_DECL), LineStarts(LEAN_TOP)),
                   "isabelle": (LineStarts(ISABELLE_DECL), LineStarts(ISABELLE_TOP))}


def theorem_blocks(text: str, system: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the theorem blocks of a source file."""
    decl, top = _BLOCK_PATTERNS[_system(system)]
    starts, tops = decl(text), top(text)
    # a block ends where the next top-level command starts (both lists are in text order)
    return [(s, tops[i] if (i := bisect.bisect_right(tops, s)) < len(tops) else len(text)) for s in starts]


_COMMENT_OPENERS = {"lean": ("--", "/-"), "isabelle": ("(*",)}


def comment_spans(text: str, system: str) -> list[tuple[int, int]]:
    """Where the comments of a source file are: the matches of ``_LEAN_COMMENT`` / ``_ISABELLE_COMMENT``, found in
    time linear in the text. re gives an opener without a closer after it a scan to the end of the text, once per
    such opener (a file of ``-- see /-`` lines, or Isabelle text quoting ``(*``, cost minutes); no opener after the
    last closer has one, so none is tried there."""
    if system != "lean":
        last = text.rfind("*)")
        return [m.span() for m in _ISABELLE_COMMENT.finditer(text, 0, last + 2)] if last != -1 else []
    # the leftmost comment from ``pos`` on, as the alternation finds it: a block comment (to the first ``-/`` after
    # its ``/-``) or a line comment (to the end of its line); the next opener of each kind is looked for again only
    # once the scan has passed it, so the text is read a bounded number of times
    spans, pos, block, line = [], 0, text.find("/-"), text.find("--")
    while block != -1 or line != -1:
        if block != -1 and (line == -1 or block < line):
            end = text.find("-/", block + 2)
            if end == -1:  # no closer after this opener: none after it has one either
                block = -1
                continue
            pos = end + 2
            spans.append((block, pos))
        else:
            end = text.find("\n", line)
            pos = len(text) if end == -1 else end
            spans.append((line, pos))
        if block != -1 and block < pos:
            block = text.find("/-", pos)
        if line != -1 and line < pos:
            line = text.find("--", pos)
    return spans


def without_comments(text: str, system: str, spans: list[tuple[int, int]] | None = None) -> str:
    """``_LEAN_COMMENT.sub(" ", text)`` / ``_ISABELLE_COMMENT.sub(" ", text)``, in linear time (``comment_spans``,
    or ``spans`` when found already)."""
    pieces, pos = [], 0
    for start, end in comment_spans(text, system) if spans is None else spans:
        pieces.append(text[pos:start])
        pos = end
    pieces.append(text[pos:])
    return " ".join(pieces)


@cache
def key_scan(folder: str, system: str):
    """A Hyperscan database of the statement keys of ``system`` (its UTF-8 literals), None when there are none."""
    import hyperscan

    from proofpile.hyperscan_db import Database, literal

    keys, _ = load_statements(folder)
    texts = sorted(key for s, key in keys if s == system)
    return Database([literal(key) for key in texts], hyperscan.HS_FLAG_SINGLEMATCH) if texts else None


def may_hold_statement(text: str, system: str, folder: str = str(FORMAL_DIR)) -> bool:
    """False when no theorem block of the source file ``text`` can have a benchmark statement's key, from one scan of
    the whole file instead of a ``statement_key`` per block (most files hold no benchmark theorem).

    A block's key is the non-whitespace text of one stretch of the block, comments replaced by a space first when
    the block holds some: so it is a stretch of the file's non-whitespace text once the file's comments are replaced,
    as long as each block loses the comments it loses on its own. That holds unless a comment of the file spans a
    block's start or end (a block loses only whole comments of its own): a comment on one line cannot (blocks start
    and end at line starts), one over several lines is checked against the blocks. Then no benchmark key found in
    that text means no block matches."""
    system = _system(system)
    scan = key_scan(folder, system)
    if scan is None:
        return False
    if any(opener in text for opener in _COMMENT_OPENERS[system]):
        spans = comment_spans(text, system)
        spanning = [(start, end) for start, end in spans if text.find("\n", start, end) != -1]
        if spanning:
            bounds = sorted({q for block in theorem_blocks(text, system) for q in block})
            for start, end in spanning:
                i = bisect.bisect_right(bounds, start)
                if i < len(bounds) and bounds[i] < end:  # a block starts or ends inside the comment
                    return True
        text = without_comments(text, system, spans)
    return bool(scan.ids(utf8_without_whitespace(text)))


_ASCII_SPACE = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"  # the ASCII characters str.isspace holds
_OTHER_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")  # and the others


def utf8_without_whitespace(text: str) -> bytes:
    """``"".join(text.split())`` in UTF-8: the ASCII whitespace removed from the bytes in one C pass (the split made a
    string per word), unless the text holds other whitespace."""
    if not text.isascii() and _OTHER_SPACE.search(text):
        return "".join(text.split()).encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass").translate(None, _ASCII_SPACE)


class FormalBenchmarkHygiene(BaseFilter):
    """Removes benchmark theorems from Lean/Isabelle source files and proof-step documents (see the module doc).
    Other documents pass untouched."""

    name = "🧹 formal benchmark hygiene"

    def __init__(self, statements_folder: str = str(FORMAL_DIR)):
        super().__init__()
        self.statements_folder = str(statements_folder)

    def clean_source(self, text: str, system: str) -> tuple[str, list[str]]:
        """The file without its benchmark theorem blocks, and the benchmark of each removed block."""
        keys, _ = load_statements(self.statements_folder)
        system = _system(system)
        if not may_hold_statement(text, system, self.statements_folder):
            return text, []
        removed, out, last = [], [], 0
        for start, end in theorem_blocks(text, system):
            bench = keys.get((system, statement_key(text[start:end], system)))
            if bench:
                out.append(text[last:start])
                last = end
                removed.append(bench)
        out.append(text[last:])
        return "".join(out), removed

    def clean_proofsteps(self, text: str) -> tuple[str, list[str]]:
        """Proof-step text without the blocks whose goal states a benchmark theorem (and that theorem's next
        blocks, which keep its hypotheses)."""
        _, goals = load_statements(self.statements_folder)
        blocks = re.split(r"(?=^\[GOAL\]$)", text, flags=re.M)
        kept, removed, context = [], [], None
        for block in blocks:
            goal = block.split("[PROOFSTEP]", 1)[0].removeprefix("[GOAL]")
            key = goal_key(goal) if block.startswith("[GOAL]") else None
            hit, hyps = next(((b, h) for b, h in goals.get(key[0], ()) if h <= key[1]), (None, None)) if key \
                else (None, None)
            if hit:
                if hyps != context:  # not a later step of the theorem just removed
                    removed.append(hit)
                context = hyps
                continue
            if context and key and context <= key[1]:  # no hypotheses: no way to tell
                continue  # a later step of the same benchmark theorem
            context = None
            kept.append(block)
        return "".join(kept), removed

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        lang = doc.metadata.get("lang")
        system = SYSTEM_OF_LANG.get(lang)
        if system is None:
            return True
        if doc.text.startswith("[STATEMENT]"):  # an Isabelle PISA theorem: one document
            statement = doc.metadata.get("statement") or doc.text.split("\n[PROOF STATE]", 1)[0][11:]
            keys, _ = load_statements(self.statements_folder)
            bench = keys.get(("isabelle", statement_key(statement, "isabelle") or ""))
            if bench is None and not statement.lstrip().startswith(("theorem", "lemma")):
                bench = keys.get(("isabelle", statement_key("lemma " + statement, "isabelle") or ""))
            if bench:
                self.stat_update(f"removed_{bench}")
                return False, f"benchmark_{bench}"
            return True
        if "[GOAL]" in doc.text:
            text, removed = self.clean_proofsteps(doc.text)
        else:
            text, removed = self.clean_source(doc.text, system)
        if not removed:
            return True
        for bench in removed:
            self.stat_update(f"removed_{bench}")
        if not text.strip() or (system == "lean" and not LEAN_DECL.search(text) and "[GOAL]" not in text
                                and len(text.strip()) < 200) or \
                (system == "isabelle" and not ISABELLE_DECL.search(text) and len(text.strip()) < 200):
            return False, "only_benchmark_theorems"
        doc.text = text
        return True
