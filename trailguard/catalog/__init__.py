"""The detection catalogue: every seed and CIS detection as data, loaded and validated.

`load_catalog()` returns the packaged catalogue (validated once, cached); each `Detection` holds
its patterns per profile and the sample CloudTrail events that prove them.
"""

from .loader import Catalog, CatalogError, load_catalog
from .model import PROFILES, Detection, Reference, Sample, Severity

__all__ = ["load_catalog", "Catalog", "CatalogError", "Detection", "Reference", "Sample", "Severity", "PROFILES"]
