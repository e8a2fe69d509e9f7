"""trailguard's Pulumi program: validate the stack config, build the monitoring, export what it made.

Validation runs before the first resource is registered, so a rejected config deploys nothing;
Pulumi reports it as the bare message naming the key.
"""

import pulumi

from components import SecurityMonitoring, load_program_config
from trailguard.config.names import monitoring_name

config = load_program_config()
monitoring = SecurityMonitoring(monitoring_name(pulumi.get_stack()), config)

for output_name, value in monitoring.outputs().items():
    pulumi.export(output_name, value)
