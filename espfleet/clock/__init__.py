"""Clock eras: corrected UTC for bundles whose device clock or zone changed.

Ingestion calls `correct` once per bundle, after every member is parsed and
the device is resolved, and before any fact is derived, so derived tables
(esp_events, ccmsetup_runs, ts_steps, ts_runs) are computed from corrected
times and `inherit` their rows' clock columns. The steps:

1. anchors and corrections (`anchors`): events 753 and Kernel-General 1, and
   jumps back in record order of every stream;
2. clock eras (`eras.clock_eras`): one per span between corrections, the last
   one trusted (the clock at collection is the reference);
3. zone segments of setup logs (`zones.segments`), placed on the clock eras to
   know where each zone change falls; the eras are cut there;
4. every stream placed on the eras (`eras.place`) and rewritten (`apply`).

The result adds two tables: `clock_eras` (the eras, with their evidence in
words) and `clock_anchors` (every piece of evidence, used or not).
docs/architecture.md "Clock eras" explains the design, docs/formats.md §8.4 and
§10 the facts.
"""

from .apply import inherit
from .correct import Correction, correct

__all__ = ["Correction", "correct", "inherit"]
