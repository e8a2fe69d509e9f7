"""The core never imports `trailguard.sql` (nor duckdb or sqlglot) at import time: the policy pack
and the Pulumi program install neither, and the other commands do not pay for them."""

from __future__ import annotations

import subprocess
import sys

CORE = ["trailguard", "trailguard.patterns", "trailguard.catalog", "trailguard.config", "trailguard.alarms",
        "trailguard.cloudtrail", "trailguard.records", "trailguard.exclusions", "trailguard.eventbridge",
        "trailguard.matching", "trailguard.backtest"]


def test_the_core_imports_no_sql_package() -> None:
    script = ("import sys\n" + "".join(f"import {module}\n" for module in CORE) +
              "print(sorted(m for m in sys.modules if m.split('.')[0] in ('duckdb', 'sqlglot') "
              "or m.startswith('trailguard.sql')))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_sql_package_imports_with_its_extra() -> None:
    done = subprocess.run([sys.executable, "-c", "import trailguard.sql, sys; print('duckdb' in sys.modules)"],
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", "duckdb is imported by the caller that runs SQL, not by the compiler"
