"""Sigma rules for AWS CloudTrail as CloudWatch Logs filter patterns (docs/sigma.md).

`convert.convert_rule` / `convert.convert_paths` turn rules parsed by pySigma (the `sigma` extra)
into JSON filter patterns built with the engine's syntax tree, each with a verdict: exact, caveats
(named per field) or refused (with the reason). `conversion` holds the result type and needs no
pySigma; nothing here imports pySigma at import time.
"""
