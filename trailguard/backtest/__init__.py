"""Back-test detections over CloudTrail archives: would these alarms have fired, and how often?

Public API: `run(sources, targets, options)` -> `RunResult`; `build_report(result)` -> the report
(a frozen `BacktestReport`; `.as_json_dict()` is the `--json` document); targets from
`from_stack`, `from_detection_ids` or `from_pattern`. Modules: `sources` (files and S3), `scan`
(decode once, evaluate, tally), `dispatch` (candidate patterns per event name), `decode` (partial
decoding), `replay` (CloudWatch alarm evaluation), `report`, `terminal` and `html` (renderings).
"""

from .report import build_report
from .runner import BacktestError, RunOptions, RunResult, plan, run, run_units
from .selection import SelectionError, Target, from_detection_ids, from_pattern, from_stack
from .sources import S3Options, SourceError

__all__ = [
    "BacktestError", "RunOptions", "RunResult", "S3Options", "SelectionError", "SourceError", "Target",
    "build_report", "from_detection_ids", "from_pattern", "from_stack", "plan", "run", "run_units",
]
