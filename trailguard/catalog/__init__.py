"""The detection catalogue: every seed and CIS detection as data, loaded and validated.

`load_catalog()` returns the packaged catalogue (validated once, cached); each `Detection` holds
its patterns per profile and the sample CloudTrail events that prove them.
"""

from .build import CATALOG_RULES, CUSTOM_RULES, Layout, Rules, detection_from_mapping
from .errors import CatalogError
from .loader import Catalog, load_catalog
from .model import DETECTION_TAG, PROFILES, SEED_PRESET, Detection, Reference, Sample, Severity

__all__ = ["load_catalog", "detection_from_mapping", "Catalog", "CatalogError", "Detection", "Layout",
           "Reference", "Rules", "Sample", "Severity", "CATALOG_RULES", "CUSTOM_RULES", "DETECTION_TAG",
           "PROFILES", "SEED_PRESET"]
