"""A simulated device clock: right, wrong until a sync, or in another zone.

Three clock cases (docs/scenarios.md "Clock cases"), given to a few plain folder
bundles of a fleet of 20 devices or more:

* ``skewed_clock``: the clock runs `SKEWS` ahead of (or behind) the true time
  until the Autopilot downloader forces a time sync a few minutes before the
  ESP starts; event 753 records ServerTime and ClientTime, 751 the success
  (docs/formats.md §3.4, §8.4);
* ``zone_change``: the device runs in the image's zone (US Pacific, or US
  Eastern for a Pacific site) until msoobe sets the site's zone during OOBE
  (docs/formats.md §10.2);
* ``no_zone_source``: no DiagnosticsFrameworkData.json and no zone line in
  setupact.log, so only the CAB member times give the offset (§8.3); the site
  has no DST change in the fleet's days, so the offset at collection is the
  offset of the ESP too.

`DeviceClock.reads` is what the clock showed at a true instant, and every writer
stamps its records with it (or with the local time of it, in the zone then in
force). Writers note each record's true UTC in `DeviceClock.times`, which the
fleet writes to ``record_times.csv``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tzlocal.windows_tz import win_tz

CASES = ("skewed_clock", "zone_change", "no_zone_source")
# The first skewed bundle runs 3 h fast, the second 1 h 12 min 30 s slow.
SKEWS = (timedelta(hours=3), -timedelta(hours=1, minutes=12, seconds=30))
IMAGE_ZONE = "Pacific Standard Time"
NO_DST_SITES = ("IN-BLR", "JP-TYO")


def zone_of(windows_zone: str) -> ZoneInfo:
    """The IANA zone behind a Windows zone key name."""
    return ZoneInfo(win_tz[windows_zone])


@dataclass
class DeviceClock:
    """What the device's clock and zone were, and the true time of its records.

    Attributes:
        case: one of `CASES`, or "" for a clock that was always right.
        skew: clock reading minus the true time until `fixed_at`.
        fixed_at: true UTC of the time sync (half past a second, so that the
            753's ServerTime and ClientTime, written to the second, differ by
            exactly the skew).
        image_zone: the Windows zone before `zone_changed_at`.
        zone_changed_at: true UTC msoobe set the site's zone.
        times: (member inside the bundle, record key, true UTC) of records written.
    """

    case: str = ""
    skew: timedelta = timedelta(0)
    fixed_at: datetime | None = None
    image_zone: str = ""
    zone_changed_at: datetime | None = None
    times: list[tuple[str, int, datetime]] = field(default_factory=list)

    def reads(self, at: datetime) -> datetime:
        """The device clock's UTC at true instant `at`."""
        if self.fixed_at is not None and at < self.fixed_at:
            return at + self.skew
        return at

    def zone_name(self, at: datetime, site_zone: str) -> str:
        """The Windows zone in force at true instant `at`."""
        if self.zone_changed_at is not None and at < self.zone_changed_at:
            return self.image_zone
        return site_zone

    def local(self, at: datetime, site_zone: str) -> datetime:
        """The naive local wall-clock time the device showed at true instant `at`."""
        zone = zone_of(self.zone_name(at, site_zone))
        return self.reads(at).astimezone(zone).replace(tzinfo=None)

    def bias(self, at: datetime, site_zone: str) -> int:
        """The Windows bias (UTC = local + bias) the device used at `at`."""
        zone = zone_of(self.zone_name(at, site_zone))
        offset = self.reads(at).astimezone(zone).utcoffset()
        assert offset is not None
        return -int(offset.total_seconds() // 60)

    def note(self, member: str, key: int, at: datetime) -> None:
        """Record the true UTC of one record (kept only for a clock case)."""
        if self.case:
            self.times.append((member, key, at))


def realise(
    clock: DeviceClock, started_at: datetime, site_zone: str, rng: random.Random
) -> None:
    """Fix the instants of a clock case from the attempt's ESP start."""
    if clock.case == "skewed_clock":
        at = started_at - timedelta(seconds=rng.uniform(180, 480))
        clock.fixed_at = at.replace(microsecond=500_000)
    elif clock.case == "zone_change":
        clock.image_zone = (
            "Eastern Standard Time" if site_zone == IMAGE_ZONE else IMAGE_ZONE
        )
        at = started_at - timedelta(seconds=rng.uniform(1800, 2400))
        clock.zone_changed_at = at.replace(microsecond=0)


def truth(clock: DeviceClock) -> dict[str, str]:
    """The clock columns of a ground-truth row."""

    def iso(at: datetime | None) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""

    return {
        "clock_case": clock.case,
        "clock_skew_s": str(int(clock.skew.total_seconds())) if clock.fixed_at else "",
        "clock_fixed_at": iso(clock.fixed_at),
        "zone_before": clock.image_zone,
        "zone_changed_at": iso(clock.zone_changed_at),
    }
