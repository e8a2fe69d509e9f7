"""Benchmark of the policy pack, proofs included, as the engine runs it in update mode.

Two stacks, each judged by the pack (`Analyze` per resource, then `AnalyzeStack`) through
pulumi-policy's analyzer servicer with `policies/config/prod.json`:
1. prod: the program under mocks with `Pulumi.prod.yaml` (16 required detections);
2. a generated stack of 100 detections: prod plus 84 more filter + alarm pairs on the same log
   group and topic, with realistic patterns (an event source and a few event names each, some with
   an error-code or identity clause), as a big account's custom detections would add.
The program run is done once, outside the timing. Targets (the policy-proofs issue): prod under
1 s, 100 detections under 5 s. Baseline measured in the same run: the same pack with the
containment proofs switched off (samples only), so the cost of the proofs is a ratio.

Usage: python bench/pack_bench.py [--repeat 5] [--out bench/RESULTS-pack.md]
"""

from __future__ import annotations

import argparse
import os
import dataclasses
import platform
import random
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "policies"))

from trailguard.check.harness import ProgramRun, run_program  # noqa: E402
from trailguard.check.layout import ProjectLayout  # noqa: E402
from trailguard.check.policy_pack import (  # noqa: E402
    analyze_run,
    load_pack,
    make_analyzer,
    read_policy_config,
    resolve_policy_config,
)

SOURCES = {
    "ec2.amazonaws.com": ["RunInstances", "TerminateInstances", "CreateSnapshot", "ModifySnapshotAttribute",
                          "CreateImage", "ModifyImageAttribute", "DeleteFlowLogs", "CreateKeyPair"],
    "s3.amazonaws.com": ["PutBucketAcl", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock",
                         "PutBucketLogging", "DeleteBucketEncryption"],
    "guardduty.amazonaws.com": ["DeleteDetector", "UpdateDetector", "DisassociateFromMasterAccount"],
    "lambda.amazonaws.com": ["AddPermission20150331v2", "UpdateFunctionConfiguration20150331v2"],
    "secretsmanager.amazonaws.com": ["GetSecretValue", "DeleteSecret", "PutResourcePolicy"],
    "sts.amazonaws.com": ["GetFederationToken", "AssumeRoleWithSAML"],
    "rds.amazonaws.com": ["ModifyDBInstance", "DeleteDBCluster", "ModifyDBSnapshotAttribute"],
}


def generated_pattern(rng: random.Random) -> str:
    source = rng.choice(sorted(SOURCES))
    names = rng.sample(SOURCES[source], k=min(len(SOURCES[source]), rng.randint(1, 4)))
    clauses = [f"($.eventSource = {source})", "(" + " || ".join(f"($.eventName = {n})" for n in names) + ")"]
    extra = rng.random()
    if extra < 0.3:
        clauses.append("($.errorCode NOT EXISTS)")
    elif extra < 0.45:
        clauses.append('($.userIdentity.type != "AWSService")')
    return "{ " + " && ".join(clauses) + " }"


def with_generated(run: ProgramRun, total: int, seed: int = 7) -> ProgramRun:
    """`run` plus filter + alarm pairs copied from one of its detections, up to `total` detections."""
    rng = random.Random(seed)
    filters = [r for r in run.resources if r.type == "aws:cloudwatch/logMetricFilter:LogMetricFilter"]
    alarms = {r.inputs.get("metricName"): r for r in run.resources if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"}
    template_filter = filters[0]
    template_alarm = alarms[template_filter.inputs["metricTransformation"]["name"]]
    added = []
    for i in range(total - len(filters)):
        metric, name = f"Generated{i:03d}", f"generated-{i:03d}"
        pattern = generated_pattern(rng)
        transformation = {**template_filter.inputs["metricTransformation"], "name": metric}

        def clone(resource, logical, props):
            return dataclasses.replace(
                resource, urn=resource.urn.rsplit("::", 1)[0] + f"::{logical}", name=logical,
                inputs={**resource.inputs, **props}, outputs={**resource.outputs, **props})
        added.append(clone(template_filter, f"{name}-filter", {"name": name, "pattern": pattern,
                                                                "metricTransformation": transformation}))
        added.append(clone(template_alarm, f"{name}-alarm", {"name": name, "metricName": metric}))
    return dataclasses.replace(run, resources=[*run.resources, *added])


@contextmanager
def proofs_off():
    """The pack as it was before containment: a pattern passing the samples is taken as proven."""
    import trailguard_policies.detections as detections
    from trailguard_policies.samples import ContainmentVerdict

    real = detections.prove_pattern
    detections.prove_pattern = lambda pattern, detection_id: ContainmentVerdict("contained", "default")
    try:
        yield
    finally:
        detections.prove_pattern = real


def clear_caches() -> None:
    """Cold caches for each timed run: compiled patterns, sample verdicts and proofs."""
    from trailguard_policies.samples import judge_pattern, prove_pattern

    from trailguard.patterns import clear_containment_caches, compile_pattern
    compile_pattern.cache_clear()
    judge_pattern.cache_clear()
    prove_pattern.cache_clear()
    clear_containment_caches()


def timed(run: ProgramRun, analyzer, repeat: int) -> tuple[float, float, int]:
    times, violations = [], 0
    for _ in range(repeat):
        clear_caches()
        start = time.perf_counter()
        violations = len(analyze_run(run, analyzer))
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), violations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (default 5)")
    parser.add_argument("--out", type=Path, help="also write the results as Markdown to this file")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    layout = ProjectLayout.for_repository(ROOT)
    pack = load_pack(layout.pack_dir, layout.pack_package)
    config = resolve_policy_config(read_policy_config(ROOT / "policies" / "config" / "prod.json"), pack.ALL_POLICIES)
    analyzer = make_analyzer(pack, config)
    prod = run_program(layout, "prod")
    big = with_generated(prod, 100)
    detections = lambda run: sum(r.type == "aws:cloudwatch/logMetricFilter:LogMetricFilter" for r in run.resources)  # noqa: E731

    rows = []
    for label, run, target in (("prod", prod, 1.0), ("100 detections", big, 5.0)):
        best, median, violations = timed(run, analyzer, args.repeat)
        with proofs_off():
            base_best, base_median, base_violations = timed(run, analyzer, args.repeat)
        rows.append((label, detections(run), len(run.resources), best, median, base_best, base_median, target,
                     violations, base_violations))

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU") \
        if Path("/proc/cpuinfo").exists() else platform.processor()
    machine = f"{platform.machine()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    lines = [
        "# The policy pack's time, proofs included (update mode)",
        "",
        f"Command: `python bench/pack_bench.py --repeat {args.repeat}`; machine: {machine}; cold caches each run.",
        "",
        "| stack | filters | resources | pack, best | median | samples only (baseline), best | proofs cost | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, filters, resources, best, median, base_best, _base_median, target, violations, base_violations in rows:
        lines.append(f"| {label} | {filters} | {resources} | {best:.3f} s | {median:.3f} s | {base_best:.3f} s | "
                     f"{best / base_best:.2f}x | < {target:g} s | {'yes' if median < target else 'no'} |")
        assert violations == base_violations == 0, (label, violations, base_violations)
    lines += ["", "Both stacks pass the pack with and without proofs (0 violations), so the two runs do the same "
              "work but the proofs. The pack requires the catalogue's 16 detections (prod's pack config); the 84 "
              "generated filters are judged against each of them (samples first, then containment for any that "
              "pass), as a big account's custom detections would be. The catalogue itself is loaded once per "
              "pack process and is not in the timing."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
