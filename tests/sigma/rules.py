"""Where the Sigma test rules live, and what every converted pattern must be."""

from __future__ import annotations

from pathlib import Path

from trailguard.patterns import compile_pattern, parse, render, walk
from trailguard.patterns.ast import Comparison, NotExists, Or
from trailguard.sigma import fields as ct
from trailguard.sigma.conversion import SigmaConversion

DATA = Path(__file__).resolve().parents[1] / "data" / "sigma"
SIGMAHQ = DATA / "sigmahq"
EDGE = DATA / "edge"


def check_pattern(conversion: SigmaConversion) -> None:
    """A converted pattern compiles (AWS quotas included), renders back to itself and lints clean,
    and every `!=` on a field CloudTrail may omit sits under an `||` with that field's `NOT EXISTS`."""
    assert conversion.pattern is not None
    compiled = compile_pattern(conversion.pattern)
    assert render(parse(conversion.pattern)) == conversion.pattern
    assert compiled.warnings == (), compiled.warnings
    guarded: set[int] = set()
    for node in walk(compiled.tree):
        if isinstance(node, Or):
            absent = {op.selector for op in node.operands if isinstance(op, NotExists)}
            guarded |= {id(n) for n in walk(node) if isinstance(n, Comparison) and n.selector in absent}
    for node in walk(compiled.tree):
        if isinstance(node, Comparison) and node.op == "!=":
            path = ".".join(part.name for part in node.selector.parts)
            assert ct.always_present(path) or id(node) in guarded, f"{conversion.pattern}: '!=' on {path} alone"
