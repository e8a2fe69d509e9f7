"""Hypothesis strategies for canonical syntax trees and for events to match them against."""

from __future__ import annotations

from hypothesis import strategies as st

from trailguard.patterns import ast
from trailguard.patterns.ast import NUMBER_RE

KEYS = ["a", "b", "eventName", "x-y", "k_1"]
WORDS = ["A", "B", "ConsoleLogin", "400", "x.y", "Ev*ent", "s3.amazonaws.com", ""]

bare_text = st.text(alphabet="abcAB09_.*:/@-", min_size=1, max_size=6).filter(lambda t: not NUMBER_RE.match(t))
quoted_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
number_text = st.builds(
    lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
    st.sampled_from(["", "+", "-"]), st.integers(0, 500).map(str),
    st.sampled_from(["", ".5", ".25"]), st.sampled_from(["", "e2", "e-1", "E+1"]))
regex_body = st.sampled_from(["^A", "B$", "[0-9]+", "Con.*", "a|b", "x{1,2}", "\\d", "\\x3A"])

string_value = st.one_of(
    st.builds(ast.StringValue, bare_text, st.just(False)),
    st.builds(ast.StringValue, quoted_text, st.just(True)),
)
number_value = st.builds(ast.NumberValue, number_text)
regex_value = st.builds(ast.Regex, regex_body)


def _path(first, rest):
    parts = [first] + rest
    seen_wildcard = False
    out = []
    for p in parts:
        if isinstance(p, ast.Wildcard):
            if seen_wildcard:
                continue
            seen_wildcard = True
        out.append(p)
    return ast.Selector(tuple(out))


part = st.one_of(
    st.builds(ast.Key, st.sampled_from(KEYS)),
    st.builds(ast.Key, st.just("dotted.key"), st.just(True)),
    st.builds(ast.Index, st.integers(0, 2)),
    st.builds(ast.Wildcard, st.booleans()),
)
selector = st.builds(_path, st.builds(ast.Key, st.sampled_from(KEYS)), st.lists(part, max_size=2))

comparison = st.one_of(
    st.builds(ast.Comparison, selector, st.sampled_from(["=", "!="]), st.one_of(string_value, number_value, regex_value)),
    st.builds(ast.Comparison, selector, st.sampled_from(["<", ">", "<=", ">="]), number_value),
)
condition = st.one_of(
    comparison,
    st.builds(ast.IsCheck, selector, st.sampled_from(["NULL", "TRUE", "FALSE"])),
    st.builds(ast.NotExists, selector),
)


def _combine(children):
    def build(kind, operands):
        # canonical: no operand of the same kind directly inside (the parser flattens those)
        flat = []
        for op in operands:
            flat.extend(op.operands if isinstance(op, kind) else (op,))
        return kind(tuple(flat))
    return st.builds(build, st.sampled_from([ast.And, ast.Or]), st.lists(children, min_size=2, max_size=3))


json_expr = st.recursive(condition, _combine, max_leaves=6)
json_pattern = st.builds(ast.JsonPattern, json_expr)

term = st.one_of(
    st.builds(ast.Term, st.text(alphabet="ERORWAN_01", min_size=1, max_size=5), st.just(False),
              st.sampled_from(["required", "exclude", "optional"])),
    st.builds(ast.Term, st.text(alphabet='ERO "\\:x', min_size=1, max_size=5), st.just(True),
              st.sampled_from(["required", "exclude", "optional"])),
)
term_pattern = st.builds(ast.TermPattern, st.lists(term, min_size=1, max_size=4).map(tuple))

FIELD_NAMES = ["f1", "f2", "f3"]


@st.composite
def delimited_pattern(draw):
    count = draw(st.integers(1, 3))
    names = FIELD_NAMES[:count]
    fields: list = []
    for name in names:
        if draw(st.booleans()):
            leaves = [ast.FieldCondition(name, draw(st.sampled_from(["=", "!="])), draw(st.one_of(string_value, number_value)))]
            for _ in range(draw(st.integers(0, 2))):
                leaves.append(ast.FieldCondition(draw(st.sampled_from(names)), draw(st.sampled_from(["=", ">"])),
                                                 draw(number_value)))
            if len(leaves) == 1:
                fields.append(ast.Field(name, leaves[0]))
            elif draw(st.booleans()):
                fields.append(ast.Field(name, ast.And(tuple(leaves))))
            else:
                fields.append(ast.Field(name, ast.Or(tuple(leaves))))
        else:
            fields.append(ast.Field(name))
    if draw(st.booleans()):
        fields.insert(draw(st.integers(0, len(fields))), ast.Ellipsis_())
    return ast.DelimitedPattern(tuple(fields))


any_tree = st.one_of(json_pattern, term_pattern, delimited_pattern())

scalar = st.one_of(st.sampled_from(WORDS), st.integers(-5, 500), st.sampled_from([0.5, 400.0, 1e3]),
                   st.booleans(), st.none())
json_value = st.recursive(scalar, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.dictionaries(st.sampled_from(KEYS + ["dotted.key"]), kids, max_size=3)),
    max_leaves=8)
event = st.dictionaries(st.sampled_from(KEYS + ["dotted.key"]), json_value, max_size=5)
message = st.lists(st.sampled_from(["A", "B", "400", "1e3", "ERROR", "WARN", '"q x"', "[b r]", "-", "x.y"]),
                   max_size=5).map(" ".join)


# ---------------------------------------------------------------- containment: rewrites and nearby events


@st.composite
def shuffled(draw, tree):
    """An equivalent rewrite of a JSON pattern tree: the operands of every `&&`/`||` reordered."""
    def walk(node):
        if isinstance(node, (ast.And, ast.Or)):
            operands = [walk(op) for op in node.operands]
            return type(node)(tuple(draw(st.permutations(operands))))
        return node
    return ast.JsonPattern(walk(tree.expr))


def _conditions(node):
    if isinstance(node, (ast.And, ast.Or)):
        return [c for op in node.operands for c in _conditions(op)]
    return [node]


def _near_values(conditions):
    """Values likely to sit on a boundary of the conditions: their literals, wildcard cores with a
    character before or after, numbers beside number literals, and the non-scalars."""
    out: list = [None, True, False, {}, [], "", "zz", 0]
    for node in conditions:
        value = getattr(node, "value", None)
        if isinstance(value, ast.StringValue):
            core = value.text.strip("*") or value.text
            out += [value.text, core, core + "x", "x" + core, core + core]
        elif isinstance(value, ast.NumberValue):
            number = value.value
            out += [value.text, number, number + 1, number - 1, number + 0.5]
            if number.is_integer():
                out.append(int(number))
        elif isinstance(value, ast.Regex):
            out += ["A", "B", "Con", "x", "9", "ab"]
    return out


@st.composite
def events_near(draw, *trees):
    """An event whose fields follow the selectors of `trees` (wildcards and indexes included) and
    whose values sit near their literals: where two patterns can differ, these events look."""
    conditions = [c for tree in trees for c in _conditions(tree.expr)]
    values = _near_values(conditions)
    event: dict = {}
    chosen = draw(st.lists(st.sampled_from(conditions), min_size=1, max_size=len(conditions)))
    for node in chosen:
        parts = node.selector.parts
        node_at = event
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            wants_list = not last and isinstance(parts[i + 1], (ast.Index,)) or (
                not last and isinstance(parts[i + 1], ast.Wildcard) and parts[i + 1].array)
            fresh = draw(st.sampled_from(values)) if last else ([] if wants_list else {})
            if isinstance(part, ast.Key) or (isinstance(part, ast.Wildcard) and not part.array):
                if not isinstance(node_at, dict):
                    break
                key = part.name if isinstance(part, ast.Key) else draw(st.sampled_from(KEYS))
                if last or not isinstance(node_at.get(key), (dict, list)):
                    node_at[key] = fresh
                node_at = node_at[key]
            else:
                if not isinstance(node_at, list):
                    break
                index = part.index if isinstance(part, ast.Index) else draw(st.integers(0, 2))
                while len(node_at) <= index:
                    node_at.append(draw(st.sampled_from(values)))
                if last or not isinstance(node_at[index], (dict, list)):
                    node_at[index] = fresh
                node_at = node_at[index]
    return event
