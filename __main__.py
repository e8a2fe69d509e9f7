"""trailguard's Pulumi program: validate the stack config, build the monitoring, export what it made.

Validation runs before the first resource is registered, so a rejected config deploys nothing.
"""

import pulumi

from components import SecurityMonitoring, read_program_config
from trailguard.config import load_stack_config

config = load_stack_config(read_program_config())
monitoring = SecurityMonitoring(f"trailguard-{pulumi.get_stack()}", config)

for output_name, value in monitoring.outputs().items():
    pulumi.export(output_name, value)
