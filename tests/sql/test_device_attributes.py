"""Given staging rows, device_attributes takes each attribute from its most
trusted source, falls back to the others, and records disagreements."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.sql.conftest import given

COLLECTED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def bundle(bundle_id: str) -> dict:
    return {
        "bundle_id": bundle_id,
        "status": "ingested",
        "serial_number": f"SN-{bundle_id}",
        "device_name": f"PC-{bundle_id}",
        "collected_at": COLLECTED,
    }


def fact(bundle_id: str, source: str, attribute: str, value: str) -> dict:
    return {
        "bundle_id": bundle_id,
        "source": source,
        "attribute": attribute,
        "value": value,
    }


def tracking(bundle_id: str, kind: str, setting: str, text=None, state=None, key="k"):
    return {
        "bundle_id": bundle_id,
        "kind": kind,
        "key_path": key,
        "setting": setting,
        "value_text": text,
        "state": state,
    }


def attributes(duck, bundle_id: str) -> dict:
    cur = duck.execute(
        "select * from device_attributes where bundle_id = ?", [bundle_id]
    )
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


def test_report_xml_and_registry_agree_on_the_build(duck):
    given(duck, "stg_ingest__bundles", [bundle("b1")])
    given(
        duck,
        "stg_device__facts",
        [
            fact("b1", "MDMDiagReport.xml", "os_version", "10.0.22631.3296"),
            fact("b1", "MDMDiagReport.xml", "os_build", "22631.3296"),
            fact("b1", "MDMDiagReport.xml", "build_number", "22631"),
            fact("b1", "MDMDiagReport.xml", "ubr", "3296"),
            fact("b1", "DiagnosticsFrameworkData.json", "model", "HP ProDesk 600 G6"),
            fact("b1", "DiagnosticsFrameworkData.json", "manufacturer", "HP"),
        ],
    )
    given(
        duck,
        "stg_esp__tracking",
        [
            tracking("b1", "os_build", "FullBuild", "22631.3296"),
            tracking("b1", "os_build", "UBR", "3296"),
            tracking("b1", "os_build", "EditionID", "Enterprise"),
            tracking("b1", "autopilot_profile", "DeploymentProfileName", "Sales"),
            tracking(
                "b1",
                "autopilot_profile",
                "CloudAssignedDomainJoinMethod",
                state="entra_joined",
            ),
            tracking("b1", "autopilot_profile", "CloudAssignedTenantId", ""),
            tracking("b1", "configmgr_client", "ProductVersion", "5.00.9132.1011"),
        ],
    )
    got = attributes(duck, "b1")
    assert {k: got[k] for k in ("os_version", "os_build", "build_number", "ubr")} == {
        "os_version": "10.0.22631.3296",
        "os_build": "22631.3296",
        "build_number": 22631,
        "ubr": 3296,
    }
    assert (got["edition"], got["model"], got["manufacturer"]) == (
        "Enterprise",
        "HP ProDesk 600 G6",
        "HP",
    )
    assert (got["autopilot_profile"], got["join_type"], got["client_version"]) == (
        "Sales",
        "entra_joined",
        "5.00.9132.1011",
    )
    # an empty registry value is no evidence
    assert got["tenant_id"] is None
    assert (got["n_disagreements"], got["disagreements"]) == (0, None)
    assert (got["serial_number"], got["collected_at"]) == ("SN-b1", COLLECTED)


def test_a_disagreement_is_recorded_with_every_source(duck):
    given(duck, "stg_ingest__bundles", [bundle("b2")])
    given(
        duck,
        "stg_device__facts",
        [
            fact("b2", "MDMDiagReport.xml", "os_build", "22631.3296"),
            fact("b2", "DeviceHash", "device_name", "LP-630015B60"),
        ],
    )
    given(
        duck,
        "stg_esp__tracking",
        [tracking("b2", "os_build", "FullBuild", "22631.3447")],
    )
    given(
        duck,
        "stg_events__events",
        [{"bundle_id": "b2", "computer": "DESKTOP-D6RV82P"}],
    )
    got = attributes(duck, "b2")
    assert got["os_build"] == "22631.3296"  # the report is trusted over the registry
    assert got["n_disagreements"] == 2
    assert json.loads(got["disagreements"]) == {
        "device_name": [
            {"source": "DeviceHash", "value": "LP-630015B60"},
            {"source": "events Computer", "value": "DESKTOP-D6RV82P"},
        ],
        "os_build": [
            {"source": "MDMDiagReport.xml", "value": "22631.3296"},
            {"source": "registry", "value": "22631.3447"},
        ],
    }


def test_a_lone_evtx_still_gives_a_name_and_ccmsetup_a_client_version(duck):
    given(duck, "stg_ingest__bundles", [bundle("b3") | {"device_name": None}])
    given(duck, "stg_events__events", [{"bundle_id": "b3", "computer": "LAPTOP-X"}])
    given(
        duck,
        "stg_ccmsetup__runs",
        [
            {"bundle_id": "b3", "run_no": 1, "client_version": "5.00.9128.1012"},
            {"bundle_id": "b3", "run_no": 2, "client_version": "5.00.9132.1011"},
        ],
    )
    cur = duck.execute(
        "select attribute, source, value, chosen from fct_device_attribute_values "
        "where bundle_id = 'b3' order by all"
    )
    assert cur.fetchall() == [
        ("client_version", "ccmsetup.log", "5.00.9132.1011", True),
        ("device_name", "events Computer", "LAPTOP-X", True),
    ]
    assert attributes(duck, "b3")["client_version"] == "5.00.9132.1011"
