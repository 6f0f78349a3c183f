"""The event channels of a simulated CAB: Shell-Core, the Autopilot channel and,
for an MSI app of the MDM that fails, DeviceManagement-Enterprise-Diagnostics-
Provider/Admin (its EnterpriseDesktopAppManagement events 1905-1924, §3.5).

Shell-Core carries the 62407 sequence of the attempt (`esp_timeline`); the
ModernDeployment Autopilot channel the profile download before the ESP
(docs/formats.md §3.4) and, for a device whose clock was wrong, the forced time
sync: event 753 with ``ServerTime`` and ``ClientTime`` a moment before the sync,
751 (time sync succeeded) just after (§8.4). Every record is stamped with what
the device clock read (`Plan.reads`), and its true UTC is noted on the plan.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from .esp_timeline import esp_events
from .evtx_writer import EventRecord, shellcore_62407, write_evtx
from .scenarios import Plan

SHELLCORE_EVTX = "microsoft-windows-shell-core-operational.evtx"
AUTOPILOT_EVTX = (
    "microsoft-windows-moderndeployment-diagnostics-provider-autopilot.evtx"
)
DMEDP_EVTX = (
    "microsoft-windows-devicemanagement-enterprise-diagnostics-provider-admin.evtx"
)
_DMEDP = "Microsoft-Windows-DeviceManagement-Enterprise-Diagnostics-Provider"
_DMEDP_GUID = "{3DA494E4-0FE2-415C-B895-FB5265C5C83B}"
# the device context's placeholder SID (docs/formats.md §4.3)
DEVICE_SID = "S-0-0-00-0000000000-0000000000-000000000-000"
_MDDP = "Microsoft-Windows-ModernDeployment-Diagnostics-Provider"
_MDDP_GUID = "{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}"
Item = tuple[datetime, int, int, tuple[tuple[str, str], ...]]


def shellcore_evtx(plan: Plan, rng: random.Random) -> bytes:
    """Shell-Core/Operational: every 62407 event of the attempt."""
    pid = rng.randint(2000, 12000)
    tid = rng.randint(2000, 12000)
    records = []
    for n, (at, name, value) in enumerate(esp_events(plan, rng), 1):
        records.append(
            shellcore_62407(
                plan.reads(at),
                name,
                value,
                computer=plan.device_name,
                process_id=pid,
                thread_id=tid,
            )
        )
        plan.clock.note(SHELLCORE_EVTX, n, at)
    return write_evtx(records)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_sync(plan: Plan) -> list[Item]:
    """753 (clock too far off the server's, sync forced), then 751 (sync done)."""
    fixed = plan.clock.fixed_at
    if fixed is None:
        return []
    written = fixed - timedelta(milliseconds=200)
    data = (  # both to the second, as Windows writes them
        ("ServerTime", _iso(fixed)),
        ("ClientTime", _iso(plan.reads(written))),
        ("AttemptNumber", "1"),
        ("MaxAttempts", "5"),
    )
    return [
        (written, 753, 4, data),
        (fixed + timedelta(milliseconds=300), 751, 4, ()),
    ]


def autopilot_evtx(plan: Plan, rng: random.Random) -> bytes:
    """ModernDeployment Autopilot channel: profile download, and any time sync."""
    at = plan.started_at - timedelta(minutes=rng.uniform(26, 40))
    ztd = "C:\\WINDOWS\\ServiceState\\wmansvc\\AutopilotDDSZTDFile.json"
    plain: list[tuple[int, int, tuple[tuple[str, str], ...]]] = [
        (160, 4, ()),
        (164, 4, ()),
        (702, 4, (("Message1", ztd),)),
        (161, 4, ()),
        (153, 4, (("InitialState", "0"), ("UpdateState", "1"))),
        (100, 3, (("Message1", "CloudAssignedLanguage"),)),
        (111, 4, ()),
    ]
    items: list[Item] = []
    for event_id, level, data in plain:
        at += timedelta(seconds=rng.uniform(0.05, 6))
        items.append((at, event_id, level, data))
    items = sorted(items + _time_sync(plan), key=lambda i: i[0])
    return _channel_evtx(
        plan,
        rng,
        items,
        AUTOPILOT_EVTX,
        (_MDDP, _MDDP_GUID, "Autopilot"),
        0x4000000000000000,
    )


def dmedp_evtx(plan: Plan, rng: random.Random) -> bytes:
    """DMEDP Admin: the MSI app's download (1905, 1906), install start (1920)
    and failure (1924) with the template's generic data names (formats.md §3.5)."""
    assert plan.msi_failure is not None and plan.msi_failed_at is not None
    product, result = plan.msi_failure
    log = f"C:\\Windows\\Temp\\MDMAppInstaller_{product}.log"
    job = "{" + str(uuid_of(rng)).upper() + "}"
    done = plan.msi_failed_at
    items: list[Item] = [
        (
            done - timedelta(seconds=rng.uniform(90, 200)),
            1905,
            4,
            (("Message1", product), ("Message2", DEVICE_SID), ("Message3", job)),
        ),
        (
            done - timedelta(seconds=rng.uniform(60, 85)),
            1906,
            4,
            (("Message1", product), ("Message2", DEVICE_SID), ("Message3", job)),
        ),
        (
            done - timedelta(seconds=rng.uniform(20, 55)),
            1920,
            4,
            (("Message1", product), ("Message2", DEVICE_SID)),
        ),
        (
            done,
            1924,
            2,
            (
                ("Message1", log),
                ("Message2", f"/quiet /norestart /l*v {log}"),
                ("Message3", product),
                ("Message4", DEVICE_SID),
                ("HexInt1", f"0x{result:08x}"),
            ),
        ),
    ]
    pid = rng.randint(2000, 9000)
    return _channel_evtx(
        plan,
        rng,
        items,
        DMEDP_EVTX,
        (_DMEDP, _DMEDP_GUID, "Admin"),
        0x8000000000000000,
        pid,
    )


def _channel_evtx(
    plan: Plan,
    rng: random.Random,
    items: list[Item],
    member: str,
    source: tuple[str, str, str],
    keywords: int,
    pid: int | None = None,
) -> bytes:
    """The .evtx of one channel's items, each noted on the plan's clock.

    Args:
        source: (provider, its GUID, the channel's name under the provider).
        pid: the writing process for every record; None draws one per record.
    """
    provider, guid, channel = source
    records = []
    for n, (when, event_id, level, data) in enumerate(items, 1):
        records.append(
            EventRecord(
                event_id,
                plan.reads(when),
                data,
                provider=provider,
                provider_guid=guid,
                channel=f"{provider}/{channel}",
                level=level,
                keywords=keywords,
                computer=plan.device_name,
                process_id=rng.randint(2000, 9000) if pid is None else pid,
                thread_id=rng.randint(2000, 9000),
            )
        )
        plan.clock.note(member, n, when)
    return write_evtx(records)


def uuid_of(rng: random.Random) -> uuid.UUID:
    """A UUID from the bundle's generator (deterministic)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)
