"""Given staging rows, the views the dashboard and --mask read count what their
.yml says: duration bins, parse warnings, quarantined bundles, identities."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.sql.conftest import given
from tests.sql.test_device_outcomes import ccmsetup_run
from tests.sql.test_reports import fleet, rows


def test_durations_fall_in_tenths_of_each_devices_timeout(duck):
    # ESP timeout 60 min: ccmsetup done 20, 22 and 70 min after the ESP start,
    # and one that never finished (last record at 200 min: the last bin).
    plan = [(f"a{i}", f"S{i}", "US-NYC", 0, i >= 2) for i in range(4)]
    fleet(duck, plan)
    given(
        duck,
        "stg_ccmsetup__runs",
        [
            ccmsetup_run("a0", 0, 5, 20),
            ccmsetup_run("a1", 0, 5, 22),
            ccmsetup_run("a2", 0, 10, 70),
            ccmsetup_run("a3", 1603, 10, 200),
        ],
    )
    assert rows(
        duck,
        "select component, share_from, share_to, attempts, finished, over_timeout"
        " from duration_distribution order by share_from",
    ) == [
        ("ccmsetup", 0.3, 0.4, 2, 2, 0),
        ("ccmsetup", 1.1, 1.2, 1, 1, 1),
        ("ccmsetup", 1.5, 1.6, 1, 0, 1),
    ]


def member(
    bundle_id, name, parser=None, reason=None, warnings=0, skipped=0, first=None
):
    return {
        "bundle_id": bundle_id,
        "member": name,
        "parser": parser,
        "reason": reason,
        "warnings": warnings,
        "skipped": skipped,
        "first_warning": first,
        "size_bytes": 100,
    }


def test_parse_warnings_count_per_parser_and_leave_unread_members_out(duck):
    given(
        duck,
        "stg_ingest__members",
        [
            member("b1", "smsts.log", "cmtrace", warnings=1, first="line 9: cut"),
            member("b2", "smsts.log", "cmtrace", skipped=2, first="line 4: bad"),
            member("b2", "ccmsetup.log", "cmtrace"),
            member("b1", "x.evtx", "evtx"),
            member("b1", "client.msi.log", reason="no parser for this format"),
            member("b2", "smsts-1.log", reason="empty file"),
        ],
    )
    assert rows(
        duck,
        "select parser, members, bundles, warnings, skipped, first_warning"
        " from parse_warnings",
    ) == [("cmtrace", 2, 2, 1, 2, "line 4: bad")]
    assert rows(
        duck, "select reason, file_kind, members from unread_members order by 1"
    ) == [
        ("empty file", "smsts-#.log", 1),
        ("no parser for this format", "client.msi.log", 1),
    ]


def test_quarantined_bundles_are_the_latest_runs_refusals(duck):
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    given(
        duck,
        "stg_ingest__bundles",
        [
            {
                "bundle_id": "q1",
                "status": "quarantined",
                "site": "US-NYC",
                "source_uri": "/share/US-NYC/PC-1_20261120",
                "reason": "x.cab: unreadable archive: Truncated CAB header",
                "ingested_at": at,
            },
            {
                "bundle_id": "ok",
                "status": "ingested",
                "site": "US-NYC",
                "source_uri": "/share/US-NYC/PC-2_20261120",
                "ingested_at": at,
            },
        ],
    )
    assert rows(duck, "select bundle_id, site, reason from quarantined_bundles") == [
        ("q1", "US-NYC", "x.cab: unreadable archive: Truncated CAB header")
    ]


def test_identities_name_devices_serials_users_and_tenants_once(duck):
    given(
        duck,
        "stg_ingest__bundles",
        [
            {
                "bundle_id": "b1",
                "status": "ingested",
                "device_name": "PC-1",
                "serial_number": "SN1",
            },
            {
                "bundle_id": "b2",
                "status": "ingested",
                "device_name": "PC-1 ",
                "serial_number": "SN2",
            },
        ],
    )
    given(
        duck,
        "stg_registry__values",
        [
            {
                "bundle_id": "b1",
                "key_path": "HKLM\\X",
                "value_name": "UPN",
                "value_text": "ann@contoso.onmicrosoft.com",
            },
            {
                "bundle_id": "b1",
                "key_path": "HKLM\\X",
                "value_name": "CloudAssignedTenantDomain",
                "value_text": "contoso.onmicrosoft.com",
            },
            {
                "bundle_id": "b1",
                "key_path": "HKLM\\X",
                "value_name": "Model",
                "value_text": "Latitude 5540",
            },
            {
                "bundle_id": "b1",
                "key_path": "HKLM\\X",
                "value_name": "UserEmail",
                "value_text": " ",
            },
        ],
    )
    assert rows(duck, "select kind, value from identities order by all") == [
        ("device", "PC-1"),
        ("serial", "SN1"),
        ("serial", "SN2"),
        ("tenant", "contoso.onmicrosoft.com"),
        ("user", "ann@contoso.onmicrosoft.com"),
    ]
