"""trailguard: CloudTrail security alarms as code.

The library is plain Python with no Pulumi imports: the filter-pattern engine
(`trailguard.patterns`), the detection catalogue (`trailguard.catalog`), stack-config
validation (`trailguard.config`) and the offline tools behind the `trailguard` command.
"""

__version__ = "0.1.0"
