"""Sigma rules for AWS CloudTrail as CloudWatch Logs filter patterns (JSON family).

pySigma parses the rule: YAML, modifiers (`contains`, `startswith`, `re`, `cidr`, `all`, ...) and
the condition (`1 of selection_*`, `not filter`), resolved into its condition tree whose leaves are
(field, typed value). This module walks that tree, pushes every `not` down to the leaves (filter
patterns have no NOT: `not (a and b)` becomes `not a or not b`, a negated leaf its complement, with
`NOT EXISTS` where an absent field should count), builds the engine's syntax tree
(`trailguard.patterns.ast`), renders it and compiles the text with the engine, so every pattern
returned passes the same validation and AWS quotas as any other pattern in trailguard.

Each rule gets one verdict: "exact" (same events as the rule), "caveats" (named, per field, in
`conversion.CAVEAT_KINDS`), or "refused" with the reason. What "same events" means for a negation:
Sigma's `not` is the complement of what it negates, so an event without the field is not excluded
by `not field: x` (docs/sigma.md, "Semantics").
"""

from __future__ import annotations

import copy

from dataclasses import dataclass, field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from trailguard.patterns import PatternSyntaxError, compile_pattern, render
from trailguard.patterns.ast import (
    NUMBER_RE, And, Comparison, Expr, IsCheck, JsonPattern, Key, NotExists, NumberValue, Or, Selector, StringValue,
    Wildcard,
)

from . import fields as ct
from .conversion import Caveat, SigmaConversion
from .sigmahq import rule_link
from .values import Refusal, match_string, translate_regex

if TYPE_CHECKING:  # pragma: no cover
    from sigma.rule import SigmaRule

__all__ = ["Caveat", "SigmaConversion", "SigmaInputError", "convert_rule", "convert_paths", "fields_read",
           "load_rules", "RULE_SUFFIXES"]

RULE_SUFFIXES = (".yml", ".yaml")
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_ARRAY_KEY = "items"
"""CloudTrail writes EC2's lists as `{"items": [...]}`; a Sigma path through `items` reaches into
an array."""


class SigmaInputError(ValueError):
    """A file that cannot be read or is not a Sigma rule; the message names the file."""


# ---------------------------------------------------------------- reading rules

def load_rules(path: Path) -> list[Any]:
    """The rules (SigmaRule, and SigmaCorrelationRule/SigmaFilter to refuse) of one YAML file."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SigmaInputError(f"{path}: cannot read the file: {error}") from None
    try:
        collection = SigmaCollection.from_yaml(text)
    except yaml.YAMLError as error:
        raise SigmaInputError(f"{path}: not valid YAML: {error}") from None
    except SigmaError as error:
        raise SigmaInputError(f"{path}: not a valid Sigma rule: {error}") from None
    except (AttributeError, TypeError, ValueError) as error:
        raise SigmaInputError(f"{path}: not a Sigma rule (expected a YAML mapping with title, logsource and "
                              f"detection): {error}") from None
    rules = list(collection.rules)
    if not rules:
        raise SigmaInputError(f"{path}: no Sigma rule in the file (expected a YAML mapping with title, "
                              "logsource and detection)")
    return rules


def rule_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and every *.yml/*.yaml below the directories named, in a stable order."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
            if not found:
                raise SigmaInputError(f"{path}: no *.yml or *.yaml Sigma rule files in the directory")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise SigmaInputError(f"{path}: no such file or directory")
    return files


def convert_paths(paths: Sequence[Path]) -> list[SigmaConversion]:
    """Convert every rule of the files (and directories, recursively) named. Raises SigmaInputError,
    naming the file, for an unreadable file or one that is not a Sigma rule."""
    from sigma.rule import SigmaRule

    out: list[SigmaConversion] = []
    for path in rule_files(paths):
        for rule in load_rules(path):
            if isinstance(rule, SigmaRule):
                out.append(convert_rule(rule, str(path)))
            else:
                kind = "correlation" if type(rule).__name__ == "SigmaCorrelationRule" else "filter"
                out.append(_refused(rule, str(path), Refusal(
                    kind, f"a Sigma {kind} rule is evaluated over other rules' matches; a filter pattern "
                    "looks at one event at a time")))
    return out


# ---------------------------------------------------------------- the fields a rule reads

def fields_read(rule: "SigmaRule") -> tuple[str, ...]:
    """The CloudTrail fields (dotted, as the rule writes them) the rule's detections read, including
    the targets of `|fieldref`, in order of first appearance."""
    from sigma.rule import SigmaDetection
    from sigma.types import SigmaFieldReference

    seen: dict[str, None] = {}

    def visit(items: Iterable[Any]) -> None:
        for item in items:
            if isinstance(item, SigmaDetection):
                visit(item.detection_items)
                continue
            if item.field:
                seen.setdefault(item.field, None)
            for value in item.value:
                if isinstance(value, SigmaFieldReference):
                    seen.setdefault(value.field, None)

    for detection in rule.detection.detections.values():
        visit(detection.detection_items)
    return tuple(seen)


# ---------------------------------------------------------------- one rule

def convert_rule(rule: "SigmaRule", source: str | None = None) -> SigmaConversion:
    """Convert one parsed Sigma rule. Never raises for a rule it cannot convert (the verdict is
    "refused" with the reason); raises SigmaInputError only for a condition pySigma cannot resolve."""
    from sigma.exceptions import SigmaError

    try:
        _check_logsource(rule)
        converter = _Converter()
        expr = converter.condition(rule)
        text = render(JsonPattern(expr))
        try:
            compiled = compile_pattern(text)
        except PatternSyntaxError as error:
            raise Refusal("limit", f"the pattern breaks a CloudWatch Logs rule: {error.message}") from None
        for warning in compiled.warnings:  # none so far: every `!=` on an optional field has `|| NOT EXISTS`
            converter.caveat("(pattern)", "lint", f"{warning.code}: {warning.message}")
    except Refusal as refusal:
        return _refused(rule, source, refusal)
    except SigmaError as error:
        where = f"{source}: " if source else ""
        raise SigmaInputError(f"{where}not a valid Sigma rule: {error}") from None
    caveats = tuple(converter.caveats.values())
    return _conversion(rule, source, "caveats" if caveats else "exact", text, caveats, None)


def _check_logsource(rule: "SigmaRule") -> None:
    logsource = rule.logsource
    product, service = (logsource.product or "").lower(), (logsource.service or "").lower()
    if product != "aws" or service != "cloudtrail":
        shown = ", ".join(f"{k}: {v}" for k, v in (("category", logsource.category), ("product", logsource.product),
                                                   ("service", logsource.service)) if v) or "none"
        raise Refusal("logsource", f"the rule's logsource is {shown}; only 'product: aws, service: cloudtrail' "
                      "rules read CloudTrail events")


def _metadata(rule: Any, source: str | None) -> dict[str, Any]:
    rule_id = str(rule.id) if rule.id else ""
    references = tuple(str(r) for r in (rule.references or ()))
    return {
        "rule_id": rule_id, "title": rule.title or "", "source": source,
        "level": str(rule.level) if getattr(rule, "level", None) else None,
        "status": str(rule.status) if rule.status else None,
        "description": rule.description or "", "author": rule.author or "", "references": references,
        "falsepositives": tuple(str(f) for f in (getattr(rule, "falsepositives", None) or ())),
        "link": rule_link(rule_id) or (references[0] if references else ""),
    }


def _conversion(rule: Any, source: str | None, verdict: str, pattern: str | None, caveats: tuple[Caveat, ...],
                refusal: str | None) -> SigmaConversion:
    return SigmaConversion(verdict=verdict, pattern=pattern, caveats=caveats, refusal=refusal,  # type: ignore[arg-type]
                           **_metadata(rule, source))


def _refused(rule: Any, source: str | None, refusal: Refusal) -> SigmaConversion:
    return _conversion(rule, source, "refused", None, (), str(refusal))


# ---------------------------------------------------------------- the condition tree

def _join(cls: type, operands: list[Expr]) -> Expr:
    flat: list[Expr] = []
    for operand in operands:
        flat.extend(operand.operands if isinstance(operand, cls) else (operand,))
    unique = list(dict.fromkeys(flat))
    return unique[0] if len(unique) == 1 else cls(tuple(unique))


def _any(*operands: Expr) -> Expr:
    return _join(Or, list(operands))


def _all(*operands: Expr) -> Expr:
    return _join(And, list(operands))


@dataclass
class _Converter:
    """Walks one rule's condition tree; collects caveats by (field, kind), the first message kept."""

    caveats: dict[tuple[str, str], Caveat] = dataclass_field(default_factory=dict)

    def caveat(self, field: str, kind: str, message: str) -> None:
        self.caveats.setdefault((field, kind), Caveat(field, kind, message))

    def condition(self, rule: "SigmaRule") -> Expr:
        trees = [condition.parsed for condition in rule.detection.parsed_condition]
        exprs = [self.node(tree, False) for tree in trees if tree is not None]
        if not exprs:
            raise Refusal("empty", "the rule's condition selects nothing")
        return _any(*exprs)

    def node(self, node: Any, negate: bool) -> Expr:
        from sigma.conditions import (
            ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT, ConditionOR, ConditionValueExpression,
        )

        if isinstance(node, ConditionNOT):
            return self.node(node.args[0], not negate)
        if isinstance(node, (ConditionAND, ConditionOR)):
            conjunction = isinstance(node, ConditionAND) != negate  # De Morgan under a negation
            operands = [self.node(arg, negate) for arg in node.args if arg is not None]
            if not operands:
                raise Refusal("empty", "the rule's condition selects nothing")
            return _all(*operands) if conjunction else _any(*operands)
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.leaf(node.field, node.value, negate)
        if isinstance(node, ConditionValueExpression):
            raise Refusal("keywords", f"the rule searches for the keyword {_shown(node.value)} anywhere in the "
                          "event; a JSON filter pattern compares fields, and a term pattern cannot be combined "
                          "with field conditions")
        raise Refusal("condition", f"unsupported condition element {type(node).__name__}")  # pragma: no cover

    # ------------------------------------------------------------ leaves

    def leaf(self, field: str, value: Any, negate: bool) -> Expr:
        from sigma.types import (
            SigmaBool, SigmaCasedString, SigmaCIDRExpression, SigmaCompareExpression, SigmaExists, SigmaExpansion,
            SigmaFieldReference, SigmaNull, SigmaNumber, SigmaQueryExpression, SigmaRegularExpression, SigmaString,
            SigmaTimestampPart,
        )

        if isinstance(value, SigmaExpansion):  # windash, base64offset: alternatives of one value
            parts = [self.leaf(field, v, negate) for v in value.values]
            return _all(*parts) if negate else _any(*parts)
        if isinstance(value, SigmaFieldReference):
            raise Refusal("field-reference", f"{field}|fieldref compares two fields of one event "
                          f"({field} with {value.field}); a filter pattern compares a field with a constant")
        if isinstance(value, SigmaQueryExpression):
            raise Refusal("query-expression", f"{field} holds a backend-specific query expression")
        if isinstance(value, SigmaTimestampPart):
            raise Refusal("modifier", f"{field} uses a timestamp-part modifier (minute, hour, day, ...); filter "
                          "patterns cannot take a date apart")
        sel = self.selector(field)
        if isinstance(value, (SigmaNull, SigmaExists)):
            # `null` is "absent or null"; `exists` tests the same presence (a null value is no value,
            # as in Sigma's database and search backends), so `exists: false` is `null`.
            wants_value = negate if isinstance(value, SigmaNull) else bool(value) != negate
            if wants_value:
                return self.present(field, sel)
            return _any(NotExists(sel), IsCheck(sel, "NULL"))
        if isinstance(value, SigmaBool):
            return self.boolean(field, sel, bool(value.boolean), negate)
        self.no_object(field, "a value")
        if isinstance(value, SigmaCompareExpression):
            return self.compare(field, sel, value, negate)
        if isinstance(value, SigmaNumber):
            number = NumberValue(str(value.number))
            self.caveat(field, "shape", f"the pattern's {number.text} also matches the string \"{number.text}\" at "
                        f"{field} (a filter-pattern number compares a string by its text); Sigma's backends tell "
                        "a number from a string")
            if negate:
                return self.otherwise(field, sel, Comparison(sel, "!=", number))
            return Comparison(sel, "=", number)
        if isinstance(value, SigmaRegularExpression):
            return self.regex(field, sel, value, negate)
        if isinstance(value, SigmaCIDRExpression):
            return self.cidr(field, sel, value, negate)
        if isinstance(value, SigmaString):
            return self.string(field, sel, value, isinstance(value, SigmaCasedString), negate)
        raise Refusal("value", f"{field} has a value of type {type(value).__name__}, which has no filter-pattern form")

    def selector(self, field: str) -> Selector:
        names = field.split(".")
        if any(not name for name in names):
            raise Refusal("field-name", f"the field name {field!r} has an empty part")
        arrays = sum(name == _ARRAY_KEY for name in names[:-1])
        if arrays > 1:
            raise Refusal("nested-arrays", f"{field} reaches a value inside nested arrays (each '{_ARRAY_KEY}' is a "
                          "list in CloudTrail); a filter-pattern selector may hold one wildcard only")
        parts: list[Any] = []
        for index, name in enumerate(names):
            if all(ch in _IDENT for ch in name):
                parts.append(Key(name))
            elif "'" not in name and '"' not in name:
                parts.append(Key(name, bracketed=True))
            else:
                raise Refusal("field-name", f"the field name {field!r} has a quote in it, which no selector can hold")
            if name == _ARRAY_KEY and index < len(names) - 1:
                parts.append(Wildcard(array=True))
                self.caveat(field, "array", f"{field} runs through the list '{_ARRAY_KEY}': the pattern "
                            f"({'.'.join(names[:index + 1])}[*]) matches when some element matches; Sigma "
                            "backends differ on lists (some flatten them, database backends see no value)")
        return Selector(tuple(parts))

    def no_object(self, field: str, what: str) -> None:
        if ct.is_object(field):
            raise Refusal("whole-object", f"the rule compares {what} with {field}, which CloudTrail writes as a "
                          f"{'list' if field == 'resources' else 'JSON object'}: Sigma's backends search its "
                          "text, a filter pattern compares only a string or number at a path")

    def otherwise(self, field: str, sel: Selector, negated: Expr | None) -> Expr:
        """A negated comparison: `negated` (the `!=` form, true for present strings and numbers that do
        not match) or anything else that fails the positive comparison: an absent field, and where the
        field's shape is not known, null and booleans."""
        branches = [] if negated is None else [negated]
        if not ct.always_present(field):
            branches.append(NotExists(sel))
        if field in ct.BOOLEANS:
            branches += [IsCheck(sel, "TRUE"), IsCheck(sel, "FALSE")]
        elif not ct.is_scalar(field):
            branches += [IsCheck(sel, "NULL"), IsCheck(sel, "TRUE"), IsCheck(sel, "FALSE")]
            self.caveat(field, "shape", f"the rule excludes events by {field}; where AWS writes an object or "
                        "array there, Sigma's backends compare its text (and may exclude the event) while the "
                        "pattern sees no value and does not exclude it")
        if not branches:  # pragma: no cover - only an always-present field with nothing negated
            raise Refusal("condition", f"the negation over {field} selects nothing")
        return _any(*branches)

    def present(self, field: str, sel: Selector) -> Expr:
        """The field holds a value, not null (`exists: true`, `not field: null`)."""
        if ct.is_object(field):
            raise Refusal("whole-object", f"the rule tests that {field} (an object) is present; filter patterns "
                          "have NOT EXISTS but no EXISTS, and '= *' sees strings and numbers only")
        if field in ct.BOOLEANS:
            branches: list[Expr] = [IsCheck(sel, "TRUE"), IsCheck(sel, "FALSE")]
        elif ct.is_scalar(field):
            branches = [Comparison(sel, "=", StringValue("*", quoted=True))]
        else:
            branches = [Comparison(sel, "=", StringValue("*", quoted=True)), IsCheck(sel, "TRUE"),
                        IsCheck(sel, "FALSE")]
            self.caveat(field, "shape", f"the rule needs {field} to hold a value; the pattern sees it when it "
                        "is a string, number or boolean, not when AWS writes an object or array there")
        return _any(*branches)

    def boolean(self, field: str, sel: Selector, value: bool, negate: bool) -> Expr:
        self.no_object(field, "a boolean")
        wanted = IsCheck(sel, "TRUE" if value else "FALSE")
        if not negate:
            return wanted
        other = IsCheck(sel, "FALSE" if value else "TRUE")
        if field in ct.BOOLEANS:
            return _any(other, NotExists(sel))
        if ct.is_scalar(field):
            return _any(Comparison(sel, "=", StringValue("*", quoted=True)), NotExists(sel))
        self.caveat(field, "shape", f"the rule excludes a boolean {field}; an object or array there is not "
                    "excluded by Sigma, and the pattern does not see it")
        return _any(other, NotExists(sel), IsCheck(sel, "NULL"), Comparison(sel, "=", StringValue("*", quoted=True)))

    def compare(self, field: str, sel: Selector, value: Any, negate: bool) -> Expr:
        from sigma.types import CompareOperators

        if negate:
            raise Refusal("negated-comparison", f"the rule excludes {field} by a numeric comparison; a filter "
                          "pattern cannot select 'not a number or not in range' (a string there would count)")
        op = {CompareOperators.LT: "<", CompareOperators.LTE: "<=", CompareOperators.GT: ">",
              CompareOperators.GTE: ">=", CompareOperators.NEQ: "!="}[value.op]
        if op != "!=":
            self.caveat(field, "shape", f"the pattern compares {field} {op} {value.number.number} only where AWS "
                        "writes a JSON number there; a number written as a string (\"150\") is not compared, "
                        "where some Sigma backends convert it")
        return Comparison(sel, op, NumberValue(str(value.number.number)))

    def regex(self, field: str, sel: Selector, value: Any, negate: bool) -> Expr:
        if value.flags:
            names = ", ".join(sorted(flag.name.lower() for flag in value.flags))
            raise Refusal("regex", f"{field}|re uses the flag(s) {names}; a filter-pattern regex has no flags "
                          "(case-insensitive, multi-line and dot-all matching)")
        body = translate_regex(value.regexp.original)
        if negate:
            return self.otherwise(field, sel, Comparison(sel, "!=", body))
        return Comparison(sel, "=", body)

    def cidr(self, field: str, sel: Selector, value: Any, negate: bool) -> Expr:
        if value.network.version != 4:
            raise Refusal("cidr", f"{field}|cidr: {value.cidr} is an IPv6 network; IPv6 addresses have several "
                          "text forms (zero compression), so no set of text prefixes matches exactly the addresses "
                          "in it")
        prefixes = value.expand(wildcard="*")
        compares = [StringValue(prefix, quoted=True) for prefix in prefixes]
        if negate:
            return self.otherwise(field, sel, _all(*(Comparison(sel, "!=", v) for v in compares)))
        return _any(*(Comparison(sel, "=", v) for v in compares))

    def string(self, field: str, sel: Selector, value: Any, cased: bool, negate: bool) -> Expr:
        if not cased:
            value = _aws_spelling(field, value)
        fold = not cased and not ct.fixed_case(field)
        match = match_string(list(value.s), fold)
        text = value.to_plain() if not value.contains_placeholder() else str(value)
        boolean_text = text.lower() in ("true", "false") and not ct.is_scalar(field)
        if not cased and not match.folded and not boolean_text and any(ch.isalpha() for ch in text):
            self.case_caveat(field, text, negate)
        if match.wildcard and not match.any and not ct.is_scalar(field) and not negate:
            self.caveat(field, "shape", f"{field} is matched with wildcards: where AWS writes an object or array "
                        "there, Sigma's backends search its JSON text, the pattern compares only a string or number")
        if match.any and not ct.is_scalar(field) and not negate:
            self.caveat(field, "shape", f"the rule matches any value of {field}; the pattern matches a string or "
                        "number there, not an object, array, boolean or null")
        if NUMBER_RE.match(text) and not ct.is_scalar(field):
            self.caveat(field, "shape", f"the pattern's \"{text}\" also matches the JSON number {text} at {field} "
                        "(a filter-pattern string compares a number by its text); Sigma's backends tell a number "
                        "from a string")
        if ct.looks_like_field_name(text.strip("*")):
            self.caveat(field, "literal-field-name", f"the value {text!r} names a CloudTrail field, but without "
                        "|fieldref Sigma compares with the literal text, and so does the pattern")
        if boolean_text:
            self.caveat(field, "boolean", f"the rule compares {field} with the string {text!r}; where AWS writes a "
                        f"JSON boolean there neither Sigma nor the pattern matches it ('{field}: {text.lower()}' "
                        "without quotes would, as IS TRUE/IS FALSE)")
        if negate:
            return self.otherwise(field, sel, None if match.any else Comparison(sel, "!=", match.value))
        return Comparison(sel, "=", match.value)

    def case_caveat(self, field: str, text: str, negate: bool) -> None:
        if field in ct.CAPITALIZED and text[:1].islower():
            self.caveat(field, "case", f"AWS writes {field} with a capital first (API names such as StopLogging); the "
                        f"rule's {text!r} matches them in Sigma, which ignores case, but the pattern compares "
                        f"exactly and {'never excludes' if negate else 'never matches'} what AWS writes; write "
                        "the name as AWS spells it")
            return
        if ct.fixed_case(field):
            spellings = ct.AWS_SPELLINGS.get(field, ())
            core = text.strip("*")
            if spellings and core not in spellings:
                same = [s for s in spellings if s.lower() == core.lower()]
                if same:
                    self.caveat(field, "case", f"the rule writes {core!r}, AWS writes {field} as {same[0]!r}: Sigma "
                                "matches it case-insensitively, the pattern compares exactly and "
                                f"{'never excludes' if negate else 'never matches'} what AWS writes; write "
                                f"{same[0]!r} in the rule")
            return
        if negate:
            message = (f"Sigma compares {field} case-insensitively, the pattern case-sensitively; {field} is chosen "
                       f"by the caller, so an event whose {field} differs from {text!r} only in case is excluded by "
                       "the rule but not by the pattern (the alarm counts it)")
        else:
            message = (f"Sigma compares {field} case-insensitively, the pattern case-sensitively; {field} is chosen "
                       f"by the caller, so a value written in another case than {text!r} matches the rule but not "
                       "the pattern")
        self.caveat(field, "case", message)


def _aws_spelling(field: str, value: Any) -> Any:
    """A plain value of a field AWS writes from a closed set of spellings (`MFAUsed: 'NO'`), as AWS
    spells it (`No`): Sigma matches it case-insensitively, so on every event AWS can write the two
    agree, and the alarm fires on what AWS actually records instead of never."""
    from sigma.types import SigmaString

    if field in ct.LOWER_CASE and not value.contains_placeholder():
        lowered = copy.copy(value)
        lowered.s = type(value.s)(part.lower() if isinstance(part, str) else part for part in value.s)
        return lowered
    spellings = ct.AWS_SPELLINGS.get(field, ())
    if not spellings or value.contains_special() or value.contains_placeholder():
        return value
    text = value.to_plain()
    same = [s for s in spellings if s.lower() == text.lower()]
    return SigmaString(same[0]) if same and text not in spellings else value


def _shown(value: Any) -> str:
    from sigma.exceptions import SigmaValueError

    try:
        return repr(value.to_plain())
    except SigmaValueError:  # a value type without a plain form (cidr, expansion, ...)
        return repr(str(value))
