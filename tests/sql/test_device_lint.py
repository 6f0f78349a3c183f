"""Given staging rows, device_lint finds each supportability rule of Autopilot
into co-management (Microsoft Learn, How to enroll with Autopilot:
Requirements and Limitations; docs/scenarios.md "Lint")."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.sql.conftest import given
from tests.sql.test_device_attributes import bundle, fact
from tests.sql.test_device_outcomes import start, state

RELEASES = [
    {
        "build": 19045,
        "os": "Windows 10",
        "version": "22H2",
        "latest_ubr": 6456,
        "latest_kb": "KB5066791",
        "latest_released": date(2025, 10, 14),
        "servicing_ends": date(2025, 10, 14),
    },
    {
        "build": 26100,
        "os": "Windows 11",
        "version": "24H2",
        "latest_ubr": 6899,
        "latest_kb": "KB5066835",
        "latest_released": date(2025, 10, 14),
        "servicing_ends": date(2027, 10, 12),
    },
]


def device(duck, build: int, ubr: int, client: str | None = None) -> None:
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    rows = [
        fact("b1", "MDMDiagReport.xml", "os_version", f"10.0.{build}.{ubr}"),
        fact("b1", "MDMDiagReport.xml", "os_build", f"{build}.{ubr}"),
        fact("b1", "MDMDiagReport.xml", "build_number", str(build)),
        fact("b1", "MDMDiagReport.xml", "ubr", str(ubr)),
    ]
    if client:
        rows.append(fact("b1", "registry", "client_version", client))
    given(duck, "stg_device__facts", rows)
    given(duck, "stg_catalogue__windows_releases", RELEASES)


def findings(duck) -> list[tuple]:
    return duck.execute(
        "select rule, severity, finding from device_lint order by rule"
    ).fetchall()


def test_a_current_windows_11_with_its_provider_has_no_finding(duck):
    device(duck, 26100, 6899)
    given(duck, "stg_esp__tracking", [state("b1", "policy_provider", "ConfigMgr", 3)])
    assert findings(duck) == []


def test_windows_10_before_20h2_is_an_error(duck):
    device(duck, 19041, 1415)
    assert findings(duck) == [
        (
            "windows_10_before_20h2",
            "error",
            "Windows 10 build 19041 is older than 20H2 (19042)",
        )
    ]


def test_a_stale_cumulative_update_and_an_ended_release_are_warnings(duck):
    # collected 2026-11-20: 22H2 servicing ended 2025-10-14
    device(duck, 19045, 5737)
    assert findings(duck) == [
        (
            "no_recent_cumulative_update",
            "warning",
            "UBR 5737 is older than KB5066791 (19045.6456, 2025-10-14)",
        ),
        ("out_of_servicing", "warning", "Windows 22H2 servicing ended 2025-10-14"),
    ]


def test_an_update_released_less_than_30_days_before_is_not_required_yet(duck):
    device(duck, 26100, 6000)
    given(
        duck,
        "stg_esp__events",
        [start("b1") | {"ts_utc": datetime(2025, 10, 30, tzinfo=UTC)}],
    )
    assert findings(duck) == []


@pytest.mark.parametrize(
    ("kind", "rows", "rule"),
    [
        (
            "stg_esp__tracking",
            [
                {
                    "bundle_id": "b1",
                    "kind": "autopilot_profile",
                    "setting": "CloudAssignedDomainJoinMethod",
                    "value_int": 1,
                    "state": "hybrid_joined",
                }
            ],
            "hybrid_entra_join",
        ),
        (
            "stg_esp__events",
            [
                start("b1"),
                start("b1", 1)
                | {"name": "CommercialOOBE_WhiteGlove_TechnicianFlow_Started"},
            ],
            "pre_provisioning",
        ),
        (
            "stg_ccmsetup__runs",
            [
                {
                    "bundle_id": "b1",
                    "run_no": 1,
                    "used_cmg": True,
                    "properties": '{"/UsePKICert": true, "CCMHOSTNAME": "cmg"}',
                }
            ],
            "pki_client_auth_to_cmg",
        ),
    ],
)
def test_limitations_are_errors(duck, kind, rows, rule):
    device(duck, 26100, 6899)
    given(duck, "stg_esp__tracking", [state("b1", "policy_provider", "ConfigMgr", 3)])
    given(duck, kind, rows)
    assert [(r, s) for r, s, _ in findings(duck)] == [(rule, "error")]


def test_ime_provider_beside_configmgr_is_a_warning(duck):
    device(duck, 26100, 6899)
    given(
        duck,
        "stg_esp__tracking",
        [
            state("b1", "policy_provider", "ConfigMgr", 3),
            state("b1", "policy_provider", "Sidecar", 3),
        ],
    )
    assert [r[:2] for r in findings(duck)] == [
        ("ime_beside_configmgr_provider", "warning")
    ]


def test_windows_11_client_without_the_configmgr_provider(duck):
    device(duck, 26100, 6899, client="5.00.9132.1011")
    assert [r[:2] for r in findings(duck)] == [
        ("windows_11_without_comanagement_policy", "error")
    ]


def test_a_client_older_than_2111(duck):
    device(duck, 26100, 6899, client="5.00.9040.1015")
    given(duck, "stg_esp__tracking", [state("b1", "policy_provider", "ConfigMgr", 3)])
    assert findings(duck) == [
        (
            "configmgr_before_2111",
            "error",
            "ConfigMgr client 5.00.9040.1015 is older than 2111 (5.00.9068)",
        )
    ]
