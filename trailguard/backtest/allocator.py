"""Keep freed heap memory for reuse during a back-test instead of handing it back to the kernel.

A delivery file inflates to ~150 KB and decodes into thousands of small objects, all freed before
the next file. glibc returns the freed top of its heap to the kernel as soon as it passes a trim
threshold that follows the largest recent allocation (a few hundred KB here), so the next file
faults the same pages back in: 32,000 minor page faults for 2,000 files, about 7% of a run (and
more with two workers, whose faults contend in the kernel). Raising the thresholds for the scanning
process keeps at most TRIM_THRESHOLD of free memory mapped, which the next file reuses.

Only glibc has `mallopt`; elsewhere (musl, macOS, Windows) `keep_freed_memory` does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

TRIM_THRESHOLD = 64 * 1024 * 1024
"""Free memory at the top of the heap kept mapped (glibc's M_TRIM_THRESHOLD; its default is 128 KB
and moves with M_MMAP_THRESHOLD)."""

MMAP_THRESHOLD = 32 * 1024 * 1024
"""Allocations above this get their own mapping (glibc's M_MMAP_THRESHOLD; 32 MB is its maximum on
64-bit). Below it an inflated file lives on the heap and its pages are reused."""

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_THRESHOLD = -3


@lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Set the thresholds once per process; True when glibc took them. Forked workers inherit them."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
