"""`trailguard check`: validate a stack's config and run the Pulumi program offline under mocks.

Unlike the rest of `trailguard`, this package imports Pulumi (the program's SDK); it is only
imported when `trailguard check` runs or a test asks for the harness.
"""
