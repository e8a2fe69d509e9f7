"""CloudWatch alarm settings for a detection, as plain data.

Shared by the Pulumi program (which turns them into `aws.cloudwatch.MetricAlarm` args), the
back-test (which replays CloudWatch's evaluation with them) and the policy pack. Defaults are the
CIS walkthrough's: Sum over 300 s, >= 1, one period, missing data not breaching (a metric-filter
metric has no datapoints in quiet minutes, so `missing` would sit in INSUFFICIENT_DATA).
The values below are PutMetricAlarm's enumerations (Statistic, ComparisonOperator for static
thresholds, TreatMissingData); its numeric limits are in `trailguard.aws_limits`.
"""

from __future__ import annotations

from dataclasses import dataclass

STATISTICS: tuple[str, ...] = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
COMPARISONS: tuple[str, ...] = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
MISSING_DATA: tuple[str, ...] = ("missing", "notBreaching", "breaching", "ignore")


@dataclass(frozen=True, slots=True)
class AlarmSettings:
    """How one detection's metric is turned into an ALARM state."""

    statistic: str = "Sum"
    period: int = 300
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    threshold: float = 1.0
    comparison: str = "GreaterThanOrEqualToThreshold"
    treat_missing_data: str = "notBreaching"
    actions_enabled: bool = True

    def breaches(self, value: float) -> bool:
        """Whether one aggregated datapoint is on the alarming side of the threshold."""
        if self.comparison == "GreaterThanOrEqualToThreshold":
            return value >= self.threshold
        if self.comparison == "GreaterThanThreshold":
            return value > self.threshold
        if self.comparison == "LessThanThreshold":
            return value < self.threshold
        if self.comparison == "LessThanOrEqualToThreshold":
            return value <= self.threshold
        raise ValueError(f"unknown comparison {self.comparison!r}; allowed: {', '.join(COMPARISONS)}")
