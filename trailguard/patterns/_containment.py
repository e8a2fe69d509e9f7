"""Pattern containment, decided exactly: does `broad` count every event `narrow` counts?

`contains(broad, narrow)` answers "contained", "not-contained" (with a CloudTrail-shaped event that
`narrow` matches and `broad` does not, confirmed by `compile_pattern(...).matches` before it is
returned) or "undecided" (with the construct that stopped it). The universe is the set of JSON
*objects* (every CloudTrail record is one); text patterns (terms, regex, space-delimited) are
undecided. The empty pattern matches every event and is treated as the formula `true`.

Method: a finite model search (DPLL-style, with memoised residual formulas) over *slots*.

1. Slots. Every selector of both patterns is laid out on a tree of slots: one slot per concrete path
   (`$.userIdentity.type`), so `$.a` and `$.a.b` share the slot `$.a` and cannot disagree (if `$.a.b`
   exists, `$.a` is an object and `$.a = "x"` is false). A wildcard `.*`/`[*]` at slot P with m
   distinct (suffix, test) requirements adds m anonymous children to P (fresh keys, or array
   positions after the highest named index); named children of P also receive the wildcard's
   suffixes, because the wildcard sees them too. Every array position up to the highest one needed
   is a slot when P has a `[*]`.
2. Formulas. Each condition becomes a formula over *local atoms* (slot, test): a comparison or IS is
   the OR over the slots its selector reaches (existential wildcards, rule A15), NOT EXISTS the AND of
   "slot missing" over them. `narrow AND NOT broad` is then searched slot by slot (parents first);
   choosing a slot's value substitutes its atoms and the structural consequences (a non-object parent
   makes its key children missing; a missing array position makes every later position missing).
   A branch stops when narrow is false or broad true; a residual pair already refuted is memoised,
   and identical residuals (N AND NOT N) are refuted at once.
3. Values. A slot's candidates are one value per class of the truth vector of its local tests:
   missing, null, true, false, an object/array (when it has children) or `{}`, and scalars:
   * strings: each exact literal (including number literals' text, which `= 400` compares against a
     string); for the prefix/suffix/contains tests, a breadth-first search over the product of their
     automata (KMP for contains/suffix) on the alphabet of their cores plus one fresh character. Every
     string maps to a string over that alphabet with the same vector (all other characters act
     alike), and the vector is a function of the product state, so the reachable states give every
     realisable vector with a shortest witness; a witness equal to an exact literal is replaced by a
     second search that also tracks "prefix of an exact literal", so every vector realisable by a
     non-literal string has a non-literal witness.
   * numbers: each number literal as int and float (the only numbers equal to it), one value inside
     every open interval between and beyond the literals, and every exact string literal that is the
     text of a number. A number's vector is its interval class plus which exact literal its text
     equals, so this covers every class - unless a prefix/suffix/contains core could occur in the
     text of a number, or a regex is tested; then the slot is marked incomplete.
   Completeness: map any separating event E to the model: keep named slots, for each wildcard keep one
   child witnessing each true comparison/IS and each false NOT EXISTS (at most m; dropping the others
   changes no atom: ORs keep their witnesses, and array positions after the named ones may be
   renumbered), and replace each slot value by the candidate of its class. Every local atom keeps its
   truth value, hence so do both patterns, so the search finds a separating model whenever one
   exists; "contained" is only returned when the search is exhausted and no slot whose values it
   tried was marked incomplete (a slot it never had to try, e.g. a regex in two identical patterns,
   does not matter). When the only gaps are *uncertain tests* (a regex; a wildcard that may match a
   number's text), the search runs once more over an over-approximation: every candidate with the
   uncertain tests free to be true or false. The candidates are complete for all other tests, so
   every real value agrees with some abstract candidate; finding nothing there proves containment,
   finding something leaves "undecided" with the reason. A found model is built into an event and
   confirmed by the engine, so "not-contained" never rests on this argument.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable

from .ast import (
    And, Comparison, Index, IsCheck, JsonPattern, Key, MatchAll, NotExists, NumberValue, Or, Regex,
    Selector, StringValue, Wildcard,
)
from .errors import PatternSyntaxError
from ._render import render, render_selector
from ._semantics import MISSING, number_text, scalar_view, view_test, wildcard_form
from .ast import NUMBER_RE as NUMBER_TEXT_RE

__all__ = ["Containment", "contains", "equivalent"]

VERDICTS = ("contained", "not-contained", "undecided")
SEARCH_BUDGET = 200_000
"""Search nodes one check may visit before it answers "undecided"."""
STRING_STATE_BUDGET = 20_000
"""Product-automaton states one slot's string tests may reach before the slot is marked incomplete."""

ENVELOPE: dict[str, Any] = {
    "eventVersion": "1.09",
    "userIdentity": {
        "type": "IAMUser",
        "principalId": "AIDACKCEVSQ6C2EXAMPLE",
        "arn": "arn:aws:iam::111122223333:user/example-user",
        "accountId": "111122223333",
    },
    "eventTime": "2026-01-01T12:00:00Z",
    "eventSource": "ec2.amazonaws.com",
    "eventName": "DescribeInstances",
    "awsRegion": "us-east-1",
    "sourceIPAddress": "203.0.113.10",
    "userAgent": "aws-cli/2.15.30",
    "eventType": "AwsApiCall",
    "recipientAccountId": "111122223333",
}
"""The CloudTrail record fields a counterexample gets when the patterns leave them free."""


@dataclass(frozen=True)
class Containment:
    """The answer of `contains(broad, narrow)`."""

    verdict: str
    counterexample: dict | None = None
    """For "not-contained": an event `narrow` matches and `broad` does not (engine-confirmed)."""
    reason: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} must be one of {', '.join(VERDICTS)}")

    @property
    def holds(self) -> bool:
        """True only for a proven "contained"."""
        return self.verdict == "contained"

    def __bool__(self) -> bool:
        return self.holds


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class _Input:
    tree: Any
    matches: Any  # callable(event) -> bool: the engine's compiled matcher


def _as_input(pattern: Any, role: str) -> _Input:
    from . import CompiledPattern, compile_pattern  # the package imports this module lazily

    if isinstance(pattern, str):
        compiled = compile_pattern(pattern)
        return _Input(compiled.tree, compiled.matches)
    if isinstance(pattern, CompiledPattern):
        return _Input(pattern.tree, pattern.matches)
    if isinstance(pattern, (JsonPattern, MatchAll)):
        try:
            return _Input(pattern, compile_pattern(render(pattern)).matches)
        except PatternSyntaxError:  # a tree over a quota still has a meaning: compile it directly
            from ._compiler import compile_json_matcher

            if isinstance(pattern, MatchAll):
                return _Input(pattern, lambda event: True)
            json = compile_json_matcher(pattern)
            return _Input(pattern, lambda event: json(event))
    if hasattr(pattern, "terms") or hasattr(pattern, "regex") or hasattr(pattern, "fields"):
        return _Input(pattern, None)  # another family's tree: answered "undecided" below
    raise TypeError(f"{role} must be pattern text, a CompiledPattern or a JsonPattern tree, "
                    f"not {type(pattern).__name__}")


_FAMILY = {"TermPattern": "term", "RegexPattern": "regex", "DelimitedPattern": "space-delimited"}


# --------------------------------------------------------------------------- local tests


@dataclass(frozen=True)
class _Test:
    """One test on the value at a slot: ("missing",), ("is", NULL|TRUE|FALSE) or ("cmp", op, value)."""

    kind: str
    op: str = ""
    value: Any = None

    def holds(self, value: Any) -> bool:
        if self.kind == "missing":
            return value is MISSING
        if value is MISSING:
            return False
        if self.kind == "is":
            return value is _IS_VALUES[self.op]
        view = scalar_view(value)
        return view is not None and _view_test(self.op, self.value)(*view)


_IS_VALUES = {"NULL": None, "TRUE": True, "FALSE": False}
_MISSING_TEST = _Test("missing")
_VIEW_TESTS: dict[tuple[str, Any], Any] = {}


def clear_caches() -> None:
    """Forget the compiled leaf tests (for cold-start measurements)."""
    _VIEW_TESTS.clear()



def _view_test(op: str, value: Any):
    key = (op, value)
    test = _VIEW_TESTS.get(key)
    if test is None:
        test = _VIEW_TESTS[key] = view_test(op, value)
    return test


def _test_of(node: Any) -> _Test:
    if isinstance(node, NotExists):
        return _MISSING_TEST
    if isinstance(node, IsCheck):
        return _Test("is", node.what)
    value = node.value
    if isinstance(value, StringValue):
        value = StringValue(value.text)  # quoting does not change the meaning
    elif isinstance(value, NumberValue):
        value = NumberValue(value.text)
    elif isinstance(value, Regex):
        value = Regex(value.body)
    return _Test("cmp", node.op, value)


class _Container:
    """Stands for an object/array value while a model is searched; it fails every comparison."""

    __slots__ = ("kind",)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


_OBJECT, _ARRAY, _EMPTY = _Container("object"), _Container("array"), _Container("empty")
_ABSTRACT = _Container("abstract")  # a value of the over-approximation: never built into an event


# --------------------------------------------------------------------------- slots


class _Slot:
    __slots__ = ("parent", "step", "keys", "positions", "anon", "tests", "atoms", "index", "path",
                 "subtree_atoms", "key_side", "index_side", "later", "candidates", "incomplete",
                 "hard", "abstract")

    def __init__(self, parent: "_Slot | None", step: Any, path: tuple) -> None:
        self.parent = parent
        self.step = step  # ("key", name) or ("index", position)
        self.path = path  # the steps from the root
        self.keys: dict[str, _Slot] = {}
        self.positions: dict[int, _Slot] = {}
        self.anon: list[_Slot] = []  # anonymous object members (fresh keys)
        self.tests: list[_Test] = []
        self.atoms: dict[_Test, int] = {}
        self.index = -1
        self.subtree_atoms: dict[int, bool] = {}
        self.key_side: dict[int, bool] = {}
        self.index_side: dict[int, bool] = {}
        self.later: dict[int, bool] = {}
        self.candidates: list[tuple[Any, dict[int, bool]]] = []
        self.incomplete: str | None = None
        self.hard = False
        self.abstract: list[tuple[Any, dict[int, bool]]] = []

    def children(self) -> list["_Slot"]:
        return [*self.keys.values(), *self.anon, *self.positions.values()]

    def selector_text(self) -> str:
        parts = [Key(s[1], "." in s[1]) if s[0] == "key" else Index(s[1]) for s in self.path]
        return render_selector(Selector(tuple(parts)))


def _materialise(slot: _Slot, reqs: list[tuple[tuple, _Test]], is_root: bool) -> None:
    """Create the child slots every requirement (relative path, test) needs, recursively."""
    keys: dict[str, list] = {}
    positions: dict[int, list] = {}
    obj_wild: list = []
    arr_wild: list = []
    for parts, test in reqs:
        if not parts:
            continue
        head, item = parts[0], (parts[1:], test)
        if isinstance(head, Key):
            _add(keys.setdefault(head.name, []), item)
        elif isinstance(head, Index):
            _add(positions.setdefault(head.index, []), item)
        elif head.array:
            _add(arr_wild, item)
        else:
            _add(obj_wild, item)
    if is_root:  # the root is an object: positions and [*] reach nothing
        positions, arr_wild = {}, []
    for name, items in keys.items():
        child = _Slot(slot, ("key", name), slot.path + (("key", name),))
        slot.keys[name] = child
        _materialise(child, items + [i for i in obj_wild if i not in items], False)
    used = set(keys)
    for n in range(len(obj_wild)):
        name = _fresh_key(used, n)
        used.add(name)
        child = _Slot(slot, ("key", name), slot.path + (("key", name),))
        slot.anon.append(child)
        _materialise(child, list(obj_wild), False)
    if positions or arr_wild:
        top = max(positions, default=-1) + len(arr_wild)
        for pos in range(top + 1):
            items = positions.get(pos, [])
            if not items and not arr_wild:
                continue  # an unnamed position no test sees: filled with null when built
            child = _Slot(slot, ("index", pos), slot.path + (("index", pos),))
            slot.positions[pos] = child
            _materialise(child, items + [i for i in arr_wild if i not in items], False)


def _add(items: list, item: Any) -> None:
    if item not in items:
        items.append(item)


def _fresh_key(used: set[str], n: int) -> str:
    k = n
    while True:
        name = f"anyField{k + 1}"
        if name not in used:
            return name
        k += 1


def _reach(root: _Slot, parts: tuple) -> list[_Slot]:
    """The slots a selector reaches (all children of the slot for a wildcard)."""
    slots = [root]
    for part in parts:
        nxt: list[_Slot] = []
        for s in slots:
            if isinstance(part, Key):
                if part.name in s.keys:
                    nxt.append(s.keys[part.name])
            elif isinstance(part, Index):
                if part.index in s.positions:
                    nxt.append(s.positions[part.index])
            elif part.array:
                nxt.extend(s.positions.values())
            else:
                nxt.extend(s.keys.values())
                nxt.extend(s.anon)
        slots = nxt
    return slots


# --------------------------------------------------------------------------- formulas
# A formula is True, False, an atom id (an int >= 2, so never equal to a bool), or ("&" | "|", frozenset of formulas).


def _mk(op: str, kids: Iterable[Any]) -> Any:
    unit, zero = (True, False) if op == "&" else (False, True)
    flat: set = set()
    for k in kids:
        if k is zero:
            return zero
        if k is unit:
            continue
        if type(k) is tuple and k[0] == op:
            flat.update(k[1])
        else:
            flat.add(k)
    if not flat:
        return unit
    if len(flat) == 1:
        return next(iter(flat))
    return (op, frozenset(flat))


class _Formulas:
    def __init__(self) -> None:
        self._atoms: dict[Any, frozenset] = {}

    def atoms(self, f: Any) -> frozenset:
        if f is True or f is False:
            return frozenset()
        if type(f) is int:
            return frozenset((f,))
        got = self._atoms.get(f)
        if got is None:
            got = frozenset().union(*(self.atoms(k) for k in f[1]))
            self._atoms[f] = got
        return got

    def subst(self, f: Any, values: dict[int, bool]) -> Any:
        if f is True or f is False:
            return f
        if type(f) is int:
            return values.get(f, f)
        if self.atoms(f).isdisjoint(values):
            return f
        return _mk(f[0], [self.subst(k, values) for k in f[1]])


# --------------------------------------------------------------------------- the model


class _Model:
    """Slots, local atoms and the formulas of both patterns."""

    def __init__(self, narrow: Any, broad: Any) -> None:
        self.root = _Slot(None, None, ())
        self.atom_slot: list[tuple[_Slot, _Test]] = []
        conditions = [*_conditions(narrow), *_conditions(broad)]
        reqs: list = []
        for node in conditions:
            _add(reqs, (node.selector.parts, _test_of(node)))
        _materialise(self.root, reqs, True)
        self.slots: list[_Slot] = []
        self._order(self.root)
        self.narrow = self._formula(narrow)
        self.broad = self._formula(broad)
        for slot in reversed(self.slots):
            self._structure(slot)

    def _order(self, slot: _Slot) -> None:
        for child in slot.children():
            child.index = len(self.slots)
            self.slots.append(child)
            self._order(child)

    def _atom(self, slot: _Slot, test: _Test) -> int:
        atom = slot.atoms.get(test)
        if atom is None:
            atom = slot.atoms[test] = len(self.atom_slot) + 2  # never 0 or 1, which equal False and True
            slot.tests.append(test)
            self.atom_slot.append((slot, test))
        return atom

    def _formula(self, node: Any) -> Any:
        if node is True:
            return True
        if isinstance(node, And):
            return _mk("&", [self._formula(op) for op in node.operands])
        if isinstance(node, Or):
            return _mk("|", [self._formula(op) for op in node.operands])
        test = _test_of(node)
        atoms = [self._atom(s, test) for s in _reach(self.root, node.selector.parts)]
        return _mk("&" if isinstance(node, NotExists) else "|", atoms)

    def _structure(self, slot: _Slot) -> None:
        """What choosing a kind for `slot` decides below it (children computed first)."""
        def missing_below(children: Iterable[_Slot]) -> dict[int, bool]:
            out: dict[int, bool] = {}
            for c in children:
                for test, atom in c.atoms.items():
                    out[atom] = test.kind == "missing"
                out.update(c.subtree_atoms)
            return out
        slot.key_side = missing_below([*slot.keys.values(), *slot.anon])
        slot.index_side = missing_below(slot.positions.values())
        slot.subtree_atoms = {**slot.key_side, **slot.index_side}
        if slot.step and slot.step[0] == "index":
            siblings = [s for p, s in slot.parent.positions.items() if p > slot.step[1]]
            slot.later = missing_below(siblings)


def _conditions(node: Any) -> list:
    if node is True:
        return []
    if isinstance(node, (And, Or)):
        return [c for op in node.operands for c in _conditions(op)]
    return [node]


# --------------------------------------------------------------------------- candidate values


def _candidates(slot: _Slot) -> None:
    """One value per class of the slot's test vector, with what choosing it decides."""
    values: list[Any] = []
    reasons: list[str] = []  # gaps an over-approximation cannot close
    soft: list[str] = []  # gaps closed by letting the uncertain tests take any truth value
    values.extend(_string_values(slot, reasons, soft))
    values.extend(_number_values(slot, reasons, soft))
    values.append(MISSING)
    if slot.keys or slot.anon:
        values.append(_OBJECT)
    if slot.positions:
        values.append(_ARRAY)
    if not slot.children():
        values.append(_EMPTY)
    values.extend((None, True, False))
    seen: set = set()
    for value in values:
        decided = {atom: test.holds(value) for test, atom in slot.atoms.items()}
        if value is _OBJECT:
            decided.update(slot.index_side)
        elif value is _ARRAY:
            decided.update(slot.key_side)
        else:
            decided.update(slot.subtree_atoms)
        if value is MISSING:
            decided.update(slot.later)
        key = frozenset(decided.items())
        if key not in seen:
            seen.add(key)
            slot.candidates.append((value, decided))
    slot.incomplete = "; ".join(reasons + soft) or None
    slot.hard = bool(reasons)
    if soft and not reasons:
        slot.abstract = _abstract_candidates(slot)


def _abstract_candidates(slot: _Slot) -> list[tuple[Any, dict[int, bool]]]:
    """An over-approximation of the slot's classes: the candidates, with every uncertain test (a
    regex; a wildcard that may match a number's text, on numbers) free to be true or false. The
    candidates are complete for every other test, so each real value agrees with one of these; a
    search over them that finds nothing proves containment."""
    regex = [a for t, a in slot.atoms.items() if t.kind == "cmp" and isinstance(t.value, Regex)]
    number_wild = [a for t, a in slot.atoms.items() if t.kind == "cmp" and isinstance(t.value, StringValue)
                   and wildcard_form(t.value.text)[0] in ("prefix", "suffix", "contains")
                   and _may_match_number_text(*wildcard_form(t.value.text))]
    out: list[tuple[Any, dict[int, bool]]] = []
    seen: set = set()
    for value, decided in slot.candidates:
        free = []
        if isinstance(value, str):
            free = regex
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            free = regex + [a for a in number_wild if a not in regex]
        for bits in range(1 << len(free)):
            variant = dict(decided)
            for k, atom in enumerate(free):
                variant[atom] = bool(bits >> k & 1)
            key = frozenset(variant.items())
            if key not in seen:
                seen.add(key)
                out.append((value if not free else _ABSTRACT, variant))
    return out


_NUMBER_CHARS = frozenset("0123456789.-+e")


def _string_tests(slot: _Slot) -> tuple[list[str], list[tuple[str, str]], list[str], bool]:
    """(exact literals, prefix/suffix/contains tests, regex bodies, any number literal) of a slot."""
    exact: list[str] = []
    wild: list[tuple[str, str]] = []
    regexes: list[str] = []
    has_numbers = False
    for test in slot.tests:
        if test.kind != "cmp":
            continue
        value = test.value
        if isinstance(value, Regex):
            regexes.append(value.body)
        elif isinstance(value, NumberValue):
            has_numbers = True
            if test.op in ("=", "!="):
                _add(exact, value.text)
        else:
            kind, core = wildcard_form(value.text)
            if kind == "exact":
                _add(exact, core)
            elif kind != "any":
                _add(wild, (kind, core))
    return exact, wild, regexes, has_numbers


def _string_values(slot: _Slot, reasons: list[str], soft: list[str]) -> list[str]:
    exact, wild, regexes, _ = _string_tests(slot)
    out = list(_plausible(slot)) + exact
    if regexes:
        soft.append(f"regex %{regexes[0]}% on {slot.selector_text()}")
        out.extend(["", "x", "0", "A", "Con", "ab", "B"])
    if not wild:
        out.extend(_fresh_strings(exact, 2))
        return out
    try:
        out.extend(_wild_witnesses(wild, exact))
    except _TooBig:
        reasons.append(f"too many wildcard strings on {slot.selector_text()}")
        out.extend(core for _, core in wild)
    return out


def _plausible(slot: _Slot) -> list[str]:
    value: Any = ENVELOPE
    for kind, name in slot.path:
        if kind != "key" or not isinstance(value, dict) or name not in value:
            return []
        value = value[name]
    return [value] if isinstance(value, str) else []


def _fresh_strings(taken: Iterable[str], n: int) -> list[str]:
    taken = set(taken)
    out = []
    for word in ("example-value", "other-value", "zz", "q", "z9"):
        if word not in taken:
            out.append(word)
            if len(out) == n:
                break
    return out


class _TooBig(Exception):
    pass


class _Automaton:
    """prefix/suffix/contains of a core, as a DFA over the characters (KMP for suffix/contains)."""

    def __init__(self, kind: str, core: str) -> None:
        self.kind, self.core = kind, core
        fail = [0] * len(core)
        k = 0
        for i in range(1, len(core)):
            while k and core[i] != core[k]:
                k = fail[k - 1]
            if core[i] == core[k]:
                k += 1
            fail[i] = k
        self.fail = fail

    def step(self, state: int, ch: str) -> int:
        core, n = self.core, len(self.core)
        if self.kind == "prefix":
            if state < 0 or state == n:
                return state
            return state + 1 if core[state] == ch else -1
        if self.kind == "contains" and state == n:
            return n
        k = state
        while k and (k == n or core[k] != ch):
            k = self.fail[k - 1]
        return k + 1 if k < n and core[k] == ch else k

    def accepts(self, state: int) -> bool:
        return state == len(self.core)


def _wild_witnesses(wild: list[tuple[str, str]], exact: list[str]) -> list[str]:
    """A shortest non-literal string for every realisable vector of the wildcard tests."""
    autos = [_Automaton(kind, core) for kind, core in wild]
    cores = {ch for _, core in wild for ch in core}
    fresh = next(ch for ch in "-xz_q~#0123456789" + "".join(map(chr, range(0x100, 0x200))) if ch not in cores)
    exact_set = set(exact)
    by_vector = _bfs(autos, sorted(cores) + [fresh], None)
    out: list[str] = []
    unresolved = []
    for vector, words in by_vector.items():
        word = next((w for w in words if w not in exact_set), None)
        if word is None:
            unresolved.append(vector)
        else:
            out.append(word)
    if unresolved:  # every witness found is an exact literal: search again, tracking the literals
        alphabet = sorted(cores | {ch for e in exact for ch in e}) + [fresh]
        tracked = _bfs(autos, alphabet, exact_set)
        for vector in unresolved:
            word = next((w for w in tracked.get(vector, []) if w not in exact_set), None)
            if word is not None:
                out.append(word)
    return out


def _bfs(autos: list[_Automaton], alphabet: list[str], exact: set[str] | None) -> dict[tuple, list[str]]:
    """Every reachable product state's vector with its shortest word (one per state)."""
    prefixes = {e[:i] for e in exact for i in range(len(e) + 1)} if exact is not None else set()
    start = (tuple(0 for _ in autos), "" if exact is not None else None)
    seen = {start}
    queue = deque([(start, "")])
    out: dict[tuple, list[str]] = {}
    while queue:
        (states, lit), word = queue.popleft()
        out.setdefault(tuple(a.accepts(s) for a, s in zip(autos, states)), []).append(word)
        for ch in alphabet:
            nxt = (tuple(a.step(s, ch) for a, s in zip(autos, states)),
                   None if lit is None or lit + ch not in prefixes else lit + ch)
            if nxt not in seen:
                seen.add(nxt)
                if len(seen) > STRING_STATE_BUDGET:
                    raise _TooBig
                queue.append((nxt, word + ch))
    return out


def _number_values(slot: _Slot, reasons: list[str], soft: list[str]) -> list[Any]:
    exact, wild, regexes, has_numbers = _string_tests(slot)
    literals = sorted({float(t.value.text) for t in slot.tests
                       if t.kind == "cmp" and isinstance(t.value, NumberValue)})
    literals = [x for x in literals if math.isfinite(x)]
    out: list[Any] = []
    for x in literals:
        if x.is_integer():
            out.append(int(x))
        out.append(x)
    reps: list[list[float]] = []
    if literals:
        lo, hi = literals[0], literals[-1]
        reps.append([math.floor(lo) - 1, lo - 0.5, lo - 1.25])
        reps.append([math.floor(hi) + 1, hi + 0.5, hi + 1.25])
        for a, b in zip(literals, literals[1:]):
            reps.append([a + (b - a) * f for f in (0.5, 0.25, 0.75)])
    else:
        reps.append([7, 7.5, 1234])
    texts = set(exact)
    for group in reps:
        lo_ok = [r for r in group if number_text(r) not in texts and r not in literals]
        if lo_ok:
            out.append(lo_ok[0])
        elif group:
            reasons.append(f"no number between the literals on {slot.selector_text()} avoids the tested texts")
    for text in exact:
        out.extend(_numbers_with_text(text))
    if any(abs(x) >= 2.0 ** 52 for x in literals):
        reasons.append(f"a number literal beyond 2**52 on {slot.selector_text()}")
    relevant = [f"{'*' if k != 'prefix' else ''}{c}{'*' if k != 'suffix' else ''}"
                for k, c in wild if _may_match_number_text(k, c)]
    if relevant and has_numbers:
        soft.append(f"string wildcard {relevant[0]} on {slot.selector_text()} beside number comparisons")
    elif relevant:
        out.extend(_number_witnesses(wild, exact, soft, slot))
    return out


def _numbers_with_text(text: str) -> list[Any]:
    """The JSON numbers whose engine text (`number_text`) is exactly `text`."""
    if not NUMBER_TEXT_RE.match(text) or text.startswith("+"):
        return []
    out: list[Any] = []
    try:
        if "." not in text and "e" not in text.lower() and str(int(text)) == text:
            out.append(int(text))
    except ValueError:
        pass
    number = float(text)
    if math.isfinite(number) and repr(number) == text:
        out.append(number)
    return out


# The texts `number_text` produces, as a DFA (a superset: ints, fixed and exponent floats).
_NT_START, _NT_ACCEPT = "S", frozenset("IFX")
_NT = {
    "S": {"-": "M", **{d: "I" for d in "0123456789"}},
    "M": {d: "I" for d in "0123456789"},
    "I": {".": "D", "e": "E", **{d: "I" for d in "0123456789"}},
    "D": {d: "F" for d in "0123456789"},
    "F": {"e": "E", **{d: "F" for d in "0123456789"}},
    "E": {"+": "G", "-": "G"},
    "G": {d: "X" for d in "0123456789"},
    "X": {d: "X" for d in "0123456789"},
}


def _nt_run(state: str | None, text: str) -> str | None:
    for ch in text:
        if state is None:
            return None
        state = _NT[state].get(ch)
    return state


def _may_match_number_text(kind: str, core: str) -> bool:
    """Could a prefix/suffix/contains test with this core be true on the text of some number?"""
    if not set(core) <= _NUMBER_CHARS:
        return False
    if kind == "prefix":
        return _nt_run(_NT_START, core) is not None
    ends = [_nt_run(q, core) for q in _NT]
    if kind == "suffix":
        return any(e in _NT_ACCEPT for e in ends if e is not None)
    return any(e is not None for e in ends)


def _number_witnesses(wild: list[tuple[str, str]], exact: list[str], reasons: list[str], slot: _Slot) -> list[Any]:
    """Numbers for every vector the wildcard tests can take on number texts (no numeric tests here).

    A breadth-first search over (wildcard automata x number-text DFA): every accepting state's vector
    needs a number whose text is exactly the witness and is no exact literal; when one is missing,
    the slot is marked incomplete."""
    autos = [_Automaton(kind, core) for kind, core in wild]
    start = (tuple(0 for _ in autos), _NT_START)
    seen = {start}
    queue = deque([(start, "")])
    found: dict[tuple, Any] = {}
    pending: set = set()
    alphabet = sorted(_NUMBER_CHARS)
    while queue:
        (states, nt), word = queue.popleft()
        if nt in _NT_ACCEPT:
            vector = tuple(a.accepts(s) for a, s in zip(autos, states))
            if vector not in found:
                numbers = [n for n in _numbers_with_text(word) if word not in exact]
                if numbers:
                    found[vector] = numbers[0]
                    pending.discard(vector)
                else:
                    pending.add(vector)
        for ch in alphabet:
            nt2 = _NT[nt].get(ch)
            if nt2 is None:
                continue
            nxt = (tuple(a.step(s, ch) for a, s in zip(autos, states)), nt2)
            if nxt not in seen:
                seen.add(nxt)
                if len(seen) > STRING_STATE_BUDGET:
                    reasons.append(f"too many number texts to check on {slot.selector_text()}")
                    return list(found.values())
                queue.append((nxt, word + ch))
    if pending:
        reasons.append(f"string wildcards on {slot.selector_text()} may match number texts no small number has")
    return list(found.values())


# --------------------------------------------------------------------------- search


class _Search:
    def __init__(self, model: _Model, abstract: bool = False) -> None:
        self.model = model
        self.abstract = abstract
        self.formulas = _Formulas()
        self.refuted: set = set()
        self.nodes = 0

    def run(self) -> list[tuple[_Slot, Any]] | None:
        return self._dfs(0, self.model.narrow, self.model.broad)

    def _dfs(self, i: int, n: Any, b: Any) -> list | None:
        if n is False or b is True or n == b:
            return None
        if n is True and b is False:
            return []
        self.nodes += 1
        if self.nodes > SEARCH_BUDGET:
            raise _TooBig
        live = self.formulas.atoms(n) | self.formulas.atoms(b)
        slots = self.model.slots
        while i < len(slots) and not _touches(slots[i], live):
            i += 1
        if i == len(slots):
            return None
        key = (i, n, b)
        if key in self.refuted:
            return None
        slot = slots[i]
        if not slot.candidates:
            _candidates(slot)  # built on first visit: most slots of a refuted pair are never visited
        if self.abstract and slot.hard:
            raise _TooBig  # not reached: the abstract search runs only without hard gaps
        tried: set = set()
        for value, decided in (slot.abstract or slot.candidates) if self.abstract else slot.candidates:
            n2 = self.formulas.subst(n, decided)
            b2 = self.formulas.subst(b, decided)
            if (n2, b2) in tried:
                continue
            tried.add((n2, b2))
            found = self._dfs(i + 1, n2, b2)
            if found is not None:
                return [(slot, value), *found]
        self.refuted.add(key)
        return None


def _touches(slot: _Slot, live: frozenset) -> bool:
    if not live.isdisjoint(slot.atoms.values()):
        return True
    return not live.isdisjoint(slot.subtree_atoms) or not live.isdisjoint(slot.later)


def _build_event(model: _Model, chosen: list[tuple[_Slot, Any]]) -> dict:
    values = {slot.index: value for slot, value in chosen}

    def build(slot: _Slot, value: Any) -> Any:
        if value is _OBJECT or slot is model.root:
            out: dict = {}
            for child in [*slot.keys.values(), *slot.anon]:
                v = values.get(child.index, MISSING)
                if v is not MISSING:
                    out[child.step[1]] = build(child, v)
            return out
        if value is _ARRAY:
            present = {p: build(c, values[c.index]) for p, c in slot.positions.items()
                       if values.get(c.index, MISSING) is not MISSING}
            return [present.get(p) for p in range(max(present) + 1)] if present else []
        if value is _EMPTY:
            return {}
        return value

    return build(model.root, _OBJECT)


def _describe(chosen: list[tuple[_Slot, Any]]) -> str:
    parts = []
    for slot, value in chosen:
        if not slot.atoms:
            continue
        where = slot.selector_text()
        if value is MISSING:
            parts.append(f"{where} missing")
        elif isinstance(value, _Container):
            parts.append(f"{where} an {'array' if value is _ARRAY else 'object'}")
        elif value is None or isinstance(value, bool):
            parts.append(f"{where} {'null' if value is None else str(value).lower()}")
        elif isinstance(value, str):
            parts.append(f'{where} = "{value}"')
        else:
            parts.append(f"{where} = {number_text(value)}")
    return ", ".join(parts) if parts else "none of the fields the patterns test is present"


def _fill_envelope(event: dict, narrow: Any, broad: Any) -> dict:
    """Add CloudTrail's usual fields one at a time, keeping each only if the event still separates."""
    def separates(candidate: dict) -> bool:
        return narrow(candidate) and not broad(candidate)

    out = copy.deepcopy(event)
    for name, value in ENVELOPE.items():
        if name not in out:
            out[name] = copy.deepcopy(value)
            if not separates(out):
                del out[name]
        if isinstance(value, dict) and isinstance(out.get(name), dict):
            for sub, sub_value in value.items():
                if sub not in out[name]:
                    out[name][sub] = sub_value
                    if not separates(out):
                        del out[name][sub]
    return out if separates(out) else event


# --------------------------------------------------------------------------- API


def contains(broad: Any, narrow: Any) -> Containment:
    """Does `broad` match every event `narrow` matches? Pattern texts, `CompiledPattern`s or trees.

    "not-contained" comes with an engine-confirmed counterexample; "undecided" names the construct
    the procedure cannot decide exactly (then the samples are the only evidence)."""
    b, n = _as_input(broad, "broad"), _as_input(narrow, "narrow")
    for role, item in (("broad", b), ("narrow", n)):
        if not isinstance(item.tree, (JsonPattern, MatchAll)):
            family = _FAMILY.get(type(item.tree).__name__, type(item.tree).__name__)
            return Containment("undecided", None, f"the {role} pattern is a {family} pattern; containment is "
                                                  "decided for JSON patterns only, so only the samples can tell")
    if isinstance(b.tree, MatchAll):
        return Containment("contained", None, "the broad pattern matches every event")
    model = _Model(_expr(n.tree), _expr(b.tree))
    try:
        chosen = _Search(model).run()
    except _TooBig:
        return Containment("undecided", None, f"search budget of {SEARCH_BUDGET} steps exceeded; "
                                              "only the samples can tell")
    if chosen is not None:
        minimal = _build_event(model, chosen)
        if not (n.matches(minimal) and not b.matches(minimal)):
            return Containment("undecided", None, "internal: the counterexample found did not separate the "
                                                  f"patterns in the engine ({minimal}); please report this")
        event = _fill_envelope(minimal, n.matches, b.matches)
        return Containment("not-contained", event,
                           f"narrow matches and broad does not when {_describe(chosen)}")
    gaps = [s for s in model.slots if s.incomplete]  # slots never visited did not matter
    if any(s.hard for s in gaps):
        reason = next(s.incomplete for s in gaps if s.hard)
        return Containment("undecided", None, f"no counterexample found, but not decided exactly: {reason}")
    if gaps:  # only uncertain tests: search again with them free; finding nothing is a proof
        try:
            spurious = _Search(model, abstract=True).run()
        except _TooBig:
            spurious = True
        if spurious is not None:
            return Containment("undecided", None, "no counterexample found, but not decided exactly: "
                                                  f"{gaps[0].incomplete}")
        return Containment("contained", None, "every event the narrow pattern matches, the broad one matches "
                                              f"too, whatever {gaps[0].incomplete} matches")
    return Containment("contained", None, "every event the narrow pattern matches, the broad one matches too")


def equivalent(a: Any, b: Any) -> Containment:
    """Whether `a` and `b` match exactly the same events: containment both ways.

    "not-contained" carries an event exactly one of them matches."""
    forward = contains(a, b)
    if forward.verdict == "not-contained":
        return Containment("not-contained", forward.counterexample,
                           f"the second pattern matches more: {forward.reason}")
    backward = contains(b, a)
    if backward.verdict == "not-contained":
        return Containment("not-contained", backward.counterexample,
                           f"the first pattern matches more: {backward.reason}")
    if "undecided" in (forward.verdict, backward.verdict):
        undecided = forward if forward.verdict == "undecided" else backward
        return Containment("undecided", None, undecided.reason)
    return Containment("contained", None, "both patterns match exactly the same events")


def _expr(tree: Any) -> Any:
    return True if isinstance(tree, MatchAll) else tree.expr
