"""Benchmark of pattern containment (`trailguard.patterns.contains`) on catalogue-sized patterns.

Checks, per detection of the catalogue:
1. `default` against `securityhub`, both ways (where the detection has both);
2. each pattern against itself reformatted: `render(parse(x))`, and its `||` operands reordered;
3. narrowed variants, both ways: `x && $.awsRegion = "us-east-1"`,
   `x && $.userIdentity.arn != "arn:aws:iam::111122223333:user/alice"`, and `x` with its last
   `$.eventName` term dropped.
Reports per-check time (median and max of the per-check best of --repeat runs, and each check's
first, cold run), the total, a pack-sized run (16 and 100 checks), and the baseline measured in the
same run: evaluating both patterns of each check on the detection's sample events (what the pack
does without proofs). `--z3` adds a prototype encoding of three checks in z3-solver (only if it is
importable; it is not a dependency of trailguard) for its proof time.

Usage: python bench/containment_bench.py [--repeat 5] [--z3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trailguard.catalog import load_catalog  # noqa: E402
from trailguard.patterns import ast, compile_pattern, contains, parse, render  # noqa: E402
import trailguard.patterns  # noqa: E402
from trailguard.patterns import clear_containment_caches  # noqa: E402

ARN = "arn:aws:iam::111122223333:user/alice"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.machine()}, nproc {os.cpu_count()}, {model}, CPython {platform.python_version()}"


def reorder(text: str, seed: int) -> str:
    """The pattern with the operands of every `||`/`&&` shuffled (an equivalent rewrite)."""
    rng = random.Random(seed)

    def walk(node):
        if isinstance(node, (ast.And, ast.Or)):
            operands = [walk(op) for op in node.operands]
            rng.shuffle(operands)
            return type(node)(tuple(operands))
        return node
    tree = parse(text)
    return render(ast.JsonPattern(walk(tree.expr)))


def drop_last_event_name(text: str) -> str | None:
    """The pattern without its last `$.eventName = X` operand of an `||`; None if it has none."""
    tree = parse(text)
    dropped = [False]

    def walk(node):
        if isinstance(node, ast.Or) and not dropped[0]:
            names = [i for i, op in enumerate(node.operands) if isinstance(op, ast.Comparison)
                     and op.selector.parts == (ast.Key("eventName"),)]
            if len(names) > 1:
                dropped[0] = True
                rest = node.operands[:names[-1]] + node.operands[names[-1] + 1:]
                return ast.Or(tuple(rest)) if len(rest) > 1 else rest[0]
        if isinstance(node, (ast.And, ast.Or)):
            return type(node)(tuple(walk(op) for op in node.operands))
        return node
    new = walk(tree.expr)
    return render(ast.JsonPattern(new)) if dropped[0] else None


def narrowed(text: str, clause: str) -> str:
    return "{ (" + render(parse(text))[2:-2] + ") && " + clause + " }"


def checks() -> list[tuple[str, str, str, tuple]]:
    """(label, broad, narrow, samples) for every check of the benchmark."""
    catalog = load_catalog()
    out = []
    for d in catalog.detections.values():
        samples = tuple(s.event for s in d.samples)
        patterns = dict(d.patterns)
        if "securityhub" in patterns:
            out.append((f"{d.id}: securityhub >= default", patterns["securityhub"], patterns["default"], samples))
            out.append((f"{d.id}: default >= securityhub", patterns["default"], patterns["securityhub"], samples))
        for profile, text in patterns.items():
            variants = [("rendered", render(parse(text))), ("reordered", reorder(text, 7)),
                        ("&& awsRegion", narrowed(text, '$.awsRegion = "us-east-1"')),
                        ("&& arn !=", narrowed(text, f'$.userIdentity.arn != "{ARN}"'))]
            dropped = drop_last_event_name(text)
            if dropped is not None:
                variants.append(("one eventName dropped", dropped))
            for name, variant in variants:
                out.append((f"{d.id}/{profile} >= {name}", text, variant, samples))
                out.append((f"{d.id}/{profile} <= {name}", variant, text, samples))
    return out


def timed(fn, repeat: int) -> tuple[float, float, object]:
    """(first run, best of `repeat`, result)."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    best = first
    for _ in range(repeat - 1):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return first, best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--z3", action="store_true", help="also time a z3-solver prototype on three checks")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    all_checks = checks()
    firsts, bests, baselines = [], [], []
    verdicts: dict[str, int] = {}
    slowest = []
    for label, broad, narrow, samples in all_checks:
        first, best, result = timed(lambda: contains(broad, narrow), args.repeat)
        verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
        firsts.append(first)
        bests.append(best)
        slowest.append((best, label, result.verdict))
        b, n = compile_pattern(broad), compile_pattern(narrow)
        _, base, _ = timed(lambda: [(b.matches(e), n.matches(e)) for e in samples], args.repeat)
        baselines.append(base)
    ms = 1000.0
    print(f"checks: {len(all_checks)}; verdicts: {verdicts}")
    print(f"per check, best of {args.repeat}: median {statistics.median(bests) * ms:.3f} ms, "
          f"max {max(bests) * ms:.3f} ms, total {sum(bests) * ms:.1f} ms")
    print(f"per check, first run: median {statistics.median(firsts) * ms:.3f} ms, max {max(firsts) * ms:.3f} ms, "
          f"total {sum(firsts) * ms:.1f} ms")
    print(f"baseline (both patterns on the detection's samples), best of {args.repeat}: "
          f"median {statistics.median(baselines) * ms:.3f} ms, total {sum(baselines) * ms:.1f} ms; "
          f"containment/baseline (totals) {sum(bests) / sum(baselines):.2f}")
    for best, label, verdict in sorted(slowest, reverse=True)[:5]:
        print(f"  slow: {best * ms:.3f} ms  {label}  -> {verdict}")
    pack(all_checks)
    print(f"source size of the procedure: {(Path(trailguard.patterns.__file__).parent / '_containment.py').stat().st_size} bytes")
    if args.z3:
        z3_prototype()


def _wildcard(text: str) -> tuple[str, str]:
    """(kind, core) of a string value: a leading and/or trailing `*` is a wildcard (rule A17)."""
    if text and set(text) == {"*"}:
        return "any", ""
    lead, trail = text.startswith("*"), len(text) > 1 and text.endswith("*")
    core = text[1 if lead else 0:len(text) - 1 if trail else len(text)]
    return ("contains" if lead and trail else "suffix" if lead else "prefix" if trail else "exact"), core


def pack(all_checks) -> None:
    """A pack's proofs: 16 and 100 checks (catalogue narrowed variants, cycled), cold compile caches."""
    variants = [c for c in all_checks if ">= &&" in c[0] or ">= one eventName" in c[0]]
    for size in (16, 100):
        chosen = [variants[i % len(variants)] for i in range(size)]
        compile_pattern.cache_clear()
        clear_containment_caches()
        start = time.perf_counter()
        results = [contains(broad, narrow).verdict for _, broad, narrow, _ in chosen]
        took = time.perf_counter() - start
        print(f"pack of {size} checks (cold caches): {took * 1000:.1f} ms; verdicts "
              f"{ {v: results.count(v) for v in set(results)} }")


def z3_prototype() -> None:
    """Encode three catalogue checks for z3 (strings only: one String and one 'present' Bool per
    selector; exact equality, prefix/suffix/contains, != and NOT EXISTS) and time the solver."""
    start = time.perf_counter()
    try:
        import z3
    except ImportError:
        print("z3: not importable here (install z3-solver into a scratch venv to run this part)")
        return
    print(f"z3: import {(time.perf_counter() - start) * 1000:.1f} ms; package "
          f"{sum(f.stat().st_size for f in Path(z3.__file__).parent.rglob('*') if f.is_file()) / 2**20:.1f} MiB")
    catalog = load_catalog()
    iam, unauth = catalog.get("iam-policy-changes"), catalog.get("unauthorized-api-calls")
    pairs = [("iam-policy-changes: securityhub >= default", iam.patterns["securityhub"], iam.patterns["default"]),
             ("iam-policy-changes: default >= default", iam.patterns["default"], iam.patterns["default"]),
             ("unauthorized-api-calls: securityhub >= default", unauth.patterns["securityhub"],
              unauth.patterns["default"])]

    def encode(node, env):
        if isinstance(node, ast.And):
            return z3.And([encode(op, env) for op in node.operands])
        if isinstance(node, ast.Or):
            return z3.Or([encode(op, env) for op in node.operands])
        name = render(ast.JsonPattern(ast.NotExists(node.selector)))
        if name not in env:
            env[name] = (z3.String(name + "#s"), z3.Bool(name + "#p"))
        value, present = env[name]
        if isinstance(node, ast.NotExists):
            return z3.Not(present)
        kind, core = _wildcard(node.value.text)
        test = {"any": z3.BoolVal(True), "exact": value == z3.StringVal(core),
                "prefix": z3.PrefixOf(z3.StringVal(core), value), "suffix": z3.SuffixOf(z3.StringVal(core), value),
                "contains": z3.Contains(value, z3.StringVal(core))}[kind]
        return z3.And(present, test if node.op == "=" else z3.Not(test))

    for label, broad, narrow in pairs + pairs:  # twice: the first round pays z3's warm-up
        start = time.perf_counter()
        env: dict = {}
        solver = z3.Solver()
        solver.add(encode(parse(narrow).expr, env), z3.Not(encode(parse(broad).expr, env)))
        answer = solver.check()
        took = time.perf_counter() - start
        _, own_time, own = timed(lambda: contains(broad, narrow), 5)
        print(f"z3 {z3.get_version_string()}: {label}: {answer} in {took * 1000:.1f} ms "
              f"(trailguard: {own.verdict} in {own_time * 1000:.3f} ms, best of 5)")


if __name__ == "__main__":
    main()
