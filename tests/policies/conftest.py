"""Make the pack's `trailguard_policies` importable as the Pulumi CLI does (from the pack folder)."""

import sys
from pathlib import Path

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))
