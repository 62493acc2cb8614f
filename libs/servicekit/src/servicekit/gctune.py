"""Python's cyclic garbage collector, set for a long-running server process.

With Python's defaults a service spends a measurable share of its CPU collecting: a young collection every 700
net allocations (a FastAPI request with SQLAlchemy and pydantic makes thousands), and every tenth of those a
middle one, every tenth of those a full one that traverses every live object, including the ~100k that startup
made (modules, classes, pydantic schemas, SQLAlchemy metadata) and that never become garbage. Profiled at 50
requests/s, notification-svc spent ~8% of its CPU in ``gc_collect_main``.

``tune_gc`` (once per process, after startup):
- one full collection, then ``gc.freeze()``: what exists by then is never traversed again;
- a young collection every ``gen0_threshold`` net allocations. The price: garbage in reference cycles waits
  longer to be freed (at most ``gen0_threshold`` objects' worth), and one young collection takes longer.

``0`` leaves the collector as Python sets it, and so does any call after ``leave_alone()`` (the test runner
calls it: apps started inside pytest must not freeze the test process's objects).
"""

from __future__ import annotations

import gc
import logging

from pydantic import Field
from pydantic_settings import BaseSettings

log = logging.getLogger(__name__)

GC_GEN0_THRESHOLD = 50_000
"""The default young-generation threshold (Python's own: 700)."""

_tuned = False


class GcSettings(BaseSettings):
    """The field every service composes into its own Settings (env prefix comes from the subclass)."""

    gc_gen0_threshold: int = Field(
        GC_GEN0_THRESHOLD, ge=0,
        description="young-generation threshold of the garbage collector after freezing what startup allocated; "
                    "0 leaves the collector as Python sets it",
    )


def leave_alone() -> None:
    """Later ``tune_gc`` calls in this process do nothing (its collector is someone else's business)."""
    global _tuned
    _tuned = True


def tune_gc(gen0_threshold: int = GC_GEN0_THRESHOLD) -> bool:
    """Freeze what exists and raise the young-generation threshold; True if it did. Only the first call in a
    process acts: a second app in the same process (tests) must not freeze the first one's garbage."""
    global _tuned
    if gen0_threshold <= 0 or _tuned:
        return False
    _tuned = True
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
    log.debug("gc: %d objects frozen, gen0 threshold %d", gc.get_freeze_count(), gen0_threshold)
    return True
