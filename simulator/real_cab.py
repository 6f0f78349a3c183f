"""What a real ``-area Autopilot;DeviceEnrollment`` CAB holds, and the sizes to draw.

Derived facts (docs/formats.md §5.4): the member listings of the public samples
[S-MYRES] (``MDMDiagReport.cab``, 2024, 50 members, 44.9 MB unpacked),
[S-JAENG] (``MDMDiagReport.cab``, 2020, 29 members, 13.6 MB) and [S-GSAGAR]
(``MDMDiagReport.zip``, 2026, 51 members, 91.5 MB), and the record counts of the
.evtx channels they carry. Nothing of their content is copied: only names,
sizes and counts.

A simulated real-size CAB holds the member set of the 2024 collection
([S-MYRES], the one with the IME log set), each member's size drawn from the
sizes the samples show for its family (`FAMILIES`), each channel's record
count from the counts its files in the samples hold (`CHANNELS`: the CABs'
.evtx members read with the evtx reader, and [S-GSAGAR]'s published .evtx).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass

SAMPLES = ("S-MYRES", "S-JAENG", "S-GSAGAR")

EVTX_FILE_HEADER = 4096
EVTX_CHUNK = 65536


@dataclass(frozen=True)
class Family:
    """Members of one kind: the sizes each sample shows (one entry per file).

    Attributes:
        kind: ``etl``, ``cmtrace`` (IME logs), ``registry``, ``xml``, ``html``,
            ``text``.
        sizes: per sample of `SAMPLES`, the sizes of its files of this family
            (empty when the sample has none).
    """

    kind: str
    sizes: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


# Non-event members, by family name (`family()` of the member name).
FAMILIES: dict[str, Family] = {
    "cloudexperiencehostoobe.etl.#": Family(
        "etl",
        (
            (196608, 1048576),
            (327680, 851968),
            (327680, 5505024, 20316160, 7340032, 524288, 917504, 3932160, 6684672)
            + (7208960,),
        ),
    ),
    "diagnosticlogcsp_collector_autopilot_#_#_#_#_#_#.etl": Family(
        "etl",
        ((4194304, 4194304, 196608, 65536), (), (4259840, 524288, 4194304, 3211264)),
    ),
    "diagnosticlogcsp_collector_deviceenrollment_#_#_#_#_#_#.etl": Family(
        "etl", ((4194304, 4194304), (), (196608,))
    ),
    "diagnosticlogcsp_collector_deviceprovisioning_#_#_#_#_#_#.etl": Family(
        "etl",
        (
            (196608, 262144, 262144),
            (262144, 262144, 262144, 262144),
            (458752, 393216, 196608, 196608),
        ),
    ),
    "wifi.etl": Family("etl", ((81920,), (), (163840,))),
    "agentexecutor.log": Family("cmtrace", ((213725,), (), ())),
    "appactionprocessor.log": Family("cmtrace", ((1451,), (), ())),
    "clientcertcheck.log": Family("cmtrace", ((22935,), (), ())),
    "clienthealth.log": Family("cmtrace", ((6923,), (), ())),
    "devicehealthmonitoring.log": Family("cmtrace", ((204229,), (), ())),
    "healthscripts.log": Family("cmtrace", ((334747,), (), ())),
    "intunemanagementextension-#-#.log": Family("cmtrace", ((3145816,), (), ())),
    "intunemanagementextension.log": Family("cmtrace", ((1158940,), (), ())),
    "sensor.log": Family("cmtrace", ((2675267,), (), ())),
    "win#appinventory.log": Family("cmtrace", ((46041,), (), ())),
    "mdmdiagreport_registrydump.reg": Family(
        "registry", ((4486054,), (2015720,), (3918364,))
    ),
    "mdmdiagreport.xml": Family("xml", ((3399678,), (1544582,), (2803192,))),
    "mdmdiaghtmlreport.html": Family("html", ((446505,), (39667,), (231549,))),
    "devicehash_*.csv": Family("text", ((4067,), (4079,), (4066,))),
    "diagnosticsframeworkdata.json": Family("text", ((5801,), (), ())),
    "mdmdiaglogmetadata.json": Family("text", ((793,), (91,), (951,))),
    "mdmlogcollectorfootprint.txt": Family("text", ((9415,), (6782,), (9928,))),
    "setupact.log": Family("text", ((37759,), (39137,), (455631,))),
    "tpmhliinfo_output.txt": Family("text", ((332,), (239,), (334,))),
    "uefi_data_output.txt": Family("text", ((263,), (), (300,))),
}


@dataclass(frozen=True)
class Channel:
    """One event channel of the collection.

    Attributes:
        provider: the provider that writes most of its records.
        guid: its GUID as the samples' records carry it ("" for a channel
            whose files in the samples are all empty).
        records: record counts the samples' files of the channel hold.
        sizes: file sizes in the listings, per sample.
        events: (event id, level, Data names) among those the samples show
            most often, none that any deriver reads as evidence.
    """

    provider: str
    guid: str
    records: tuple[int, ...]
    sizes: tuple[int, ...]
    events: tuple[tuple[int, int, tuple[str, ...]], ...]


_MS = "Microsoft-Windows-"
_DMEDP = _MS + "DeviceManagement-Enterprise-Diagnostics-Provider"
_DMEDP_GUID = "{3DA494E4-0FE2-415C-B895-FB5265C5C83B}"
_MDDP = _MS + "ModernDeployment-Diagnostics-Provider"
_MDDP_GUID = "{BAB3AD92-FB96-5902-450B-B8421BDEC7BD}"
_PDP_GUID = "{ED8B9BD3-F66E-4FF2-B86B-75C7925F72A9}"
_UDR_GUID = "{23B8D46B-67DD-40A3-B636-D43E50552C6D}"
_M = ("Message1",)
_M2 = ("Message1", "Message2")
_SMALL = (69632,)

# channel file stem (after "microsoft-windows-") -> Channel, in listing order.
CHANNELS: dict[str, Channel] = {
    "aad-operational": Channel(
        _MS + "AAD",
        "{4DE9BC9C-B27A-43C9-8994-0915F1A5E24F}",
        (707, 1),
        (1118208, 69632, 69632),
        ((1104, 4, ("API", "Result")), (1084, 4, ("Result", "Target"))),
    ),
    "appxdeploymentserver-operational": Channel(
        _MS + "AppXDeployment-Server",
        "{3F471139-ACB7-4A01-B7A7-FF5DA4BA2D43}",
        (1858, 3304),
        (2166784, 4263936, 4263936),
        (
            (633, 4, ("PackageFullName", "IsInstalled")),
            (773, 4, ("PackageName",)),
            (635, 4, ("PackageFullName", "Flags", "HResult")),
        ),
    ),
    "assignedaccess-admin": Channel(_MS + "AssignedAccess", "", (0,), _SMALL, ()),
    "assignedaccess-operational": Channel(_MS + "AssignedAccess", "", (0,), _SMALL, ()),
    "assignedaccessbroker-admin": Channel(
        _MS + "AssignedAccessBroker", "", (0,), _SMALL, ()
    ),
    "assignedaccessbroker-operational": Channel(
        _MS + "AssignedAccessBroker", "", (0,), _SMALL, ()
    ),
    "crypto-ncrypt-operational": Channel(
        _MS + "Crypto-NCrypt",
        "{E8ED09DC-100C-45E2-9FC8-B53399EC1F70}",
        (1578, 129),
        (1118208, 1118208, 1118208),
        (
            (1, 2, ("OperationType", "ProviderName", "KeyName", "KeyType")),
            (3, 2, ("ProviderName", "KeyName", "Status", "ProcessName")),
        ),
    ),
    "devicemanagement-enterprise-diagnostics-provider-admin": Channel(
        _DMEDP,
        _DMEDP_GUID,
        (1228, 6, 554),
        (1118208, 69632, 1118208),
        ((200, 4, ()), (202, 4, ()), (813, 4, ("Message1", "Message2", "Message3"))),
    ),
    "devicemanagement-enterprise-diagnostics-provider-autopilot": Channel(
        _DMEDP, _DMEDP_GUID, (0,), _SMALL, ()
    ),
    "devicemanagement-enterprise-diagnostics-provider-debug": Channel(
        _DMEDP, _DMEDP_GUID, (0, 0), _SMALL, ()
    ),
    "devicemanagement-enterprise-diagnostics-provider-operational": Channel(
        _DMEDP,
        _DMEDP_GUID,
        (1677, 72, 325),
        (1118208, 69632, 1118208),
        ((4019, 4, ()), (800, 4, ("Message1",)), (361, 4, _M)),
    ),
    "laps-operational": Channel(
        _MS + "LAPS",
        "{4FCC72A9-D7CA-5DD2-8D34-6F41A0CDB7E0}",
        (125,),
        _SMALL,
        (
            (10003, 4, ()),
            (10010, 4, ()),
            (10022, 4, ("PolicySource", "BackupDirectory", "AdminAccountName")),
        ),
    ),
    "moderndeployment-diagnostics-provider-autopilot": Channel(
        _MDDP,
        _MDDP_GUID,
        (15, 0, 285),
        (69632, 69632, 1118208),
        ((286, 4, ()), (170, 4, ())),
    ),
    "moderndeployment-diagnostics-provider-diagnostics": Channel(
        _MDDP,
        _MDDP_GUID,
        (144, 1770),
        (1118208, 1118208),
        ((1518, 4, _M), (1519, 4, _M), (1523, 4, _M), (1524, 4, _M)),
    ),
    "moderndeployment-diagnostics-provider-managementservice": Channel(
        _MDDP,
        _MDDP_GUID,
        (7, 0, 1666),
        (69632, 69632, 1118208),
        ((1000, 4, ()), (1001, 4, ()), (1100, 4, _M)),
    ),
    "provisioning-diagnostics-provider-admin": Channel(
        _MS + "Provisioning-Diagnostics-Provider",
        _PDP_GUID,
        (27, 43, 194),
        (69632, 69632, 1118208),
        ((20, 4, _M2), (10, 4, _M2), (11, 4, _M2)),
    ),
    "shell-core-operational": Channel(
        _MS + "Shell-Core",
        "{30336ED4-E327-447C-9DE0-51B652C86108}",
        (545, 1105, 906),
        (1118208, 1118208, 1118208),
        (
            (62171, 4, ("LogonType", "TaskName")),
            (62170, 4, ("LogonType", "TaskName")),
            (62144, 4, ("PackageFamilyName", "InstallState", "ErrorCode")),
            (28115, 4, ("Name", "AppID", "Flags")),
        ),
    ),
    "user device registration-admin": Channel(
        _MS + "User Device Registration",
        _UDR_GUID,
        (11, 4, 65),
        (69632, 69632, 1118208),
        ((369, 4, ("Message",)), (259, 4, ("Folder", "TaskName"))),
    ),
}

_DIGITS = re.compile(r"\d+")


def family(name: str) -> str:
    """A member's family: its file name lower-cased, digit runs written ``#``.

    The same rule as the ``unread_members`` report's ``file_kind``, plus
    ``DeviceHash_<NAME>.csv`` written ``devicehash_*.csv`` (the name varies).
    """
    base = name.rsplit("/", 1)[-1].lower()
    if base.startswith("devicehash_") and base.endswith(".csv"):
        return "devicehash_*.csv"
    return _DIGITS.sub("#", base)


def evtx_allocation(used_chunks: int) -> int:
    """The size of an exported .evtx holding `used_chunks` chunks of records.

    The samples' files are one chunk (69,632 bytes) when their records fit in
    one, else 1, 2 or 4 MiB plus one chunk (1,118,208; 2,166,784; 4,263,936
    bytes: the smallest that holds them), the chunks past the used ones all
    zeros (docs/formats.md §5.4).
    """
    if used_chunks <= 1:
        return EVTX_FILE_HEADER + EVTX_CHUNK
    mib = 1
    while mib * 16 < used_chunks:
        mib *= 2
    return EVTX_FILE_HEADER + (mib * 16 + 1) * EVTX_CHUNK


def draw_records(channel: Channel, rng: random.Random) -> int:
    """A record count for `channel`: log-uniform over the samples' range."""
    low, high = min(channel.records), max(channel.records)
    if high <= 0:
        return 0
    low = max(low, 1)
    return round(math.exp(rng.uniform(math.log(low), math.log(high))))


def _drawn_from(fam: Family) -> list[tuple[int, ...]]:
    """The CAB samples' files of `fam` ([S-MYRES], [S-JAENG]), else the ZIP's."""
    cabs = [s for s in fam.sizes[:2] if s]
    return cabs or [s for s in fam.sizes if s]


def draw_size(fam: Family, rng: random.Random) -> int:
    """A size for one member of `fam`: a CAB sample's size of it, +-15%."""
    pool = [s for sizes in _drawn_from(fam) for s in sizes]
    return max(1, round(rng.choice(pool) * rng.uniform(0.85, 1.15)))


def draw_count(fam: Family, rng: random.Random) -> int:
    """How many files of `fam` a CAB holds: a count a CAB sample shows."""
    return len(rng.choice(_drawn_from(fam)))
