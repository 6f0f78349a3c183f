"""The nightly data-quality checks: when a run names its bundles, every view
with a bundle_id column is checked on those bundles' rows and every other
view whole; each view is computed once."""

from __future__ import annotations

from datetime import date

from espfleet.quality import check_views, view_docs
from tests.sql.conftest import given

NIGHT = date(2026, 11, 30)


def failing(con, bundles=None) -> dict[tuple[str, str], int]:
    return {
        (r.view, r.check): r.failing_rows for r in check_views(con, bundles) if not r.ok
    }


def registry(bundle_id: str, dialect: str) -> dict:
    return {
        "bundle_id": bundle_id,
        "dialect": dialect,
        "key_path": r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Provisioning",
        "value_name": "x",
        "ingest_date": NIGHT,
    }


def test_a_raw_row_breaking_its_contract_is_found_in_its_own_run_only(duck):
    # "regedit3" is no dialect a registry parser writes (accepted: regedit5,
    # regedit4, mdmdiag); it sits in an earlier night's bundle "old".
    given(
        duck,
        "stg_registry__values",
        [registry("old", "regedit3"), registry("new", "regedit5")],
    )
    bad = ("stg_registry__values", "dialect accepted_values")
    assert failing(duck) == {bad: 1}
    assert failing(duck, ["new"]) == {}
    assert failing(duck, ["old", "new"]) == {bad: 1}


def models(con, relation: str) -> list[tuple]:
    return con.execute(
        f"select bundle_id, value from {relation}"
        " where attribute = 'model' order by bundle_id"
    ).fetchall()


def two_bundles(duck) -> None:
    """Bundles "old" and "new", each stating its model and serial number."""
    given(
        duck,
        "stg_device__facts",
        [
            {
                "bundle_id": b,
                "source": "DiagnosticsFrameworkData.json",
                "attribute": "model",
                "value": model,
                "ingest_date": NIGHT,
            }
            for b, model in (("old", "HP ProDesk 600 G6"), ("new", "Surface Pro 9"))
        ],
    )
    given(
        duck,
        "stg_ingest__bundles",
        [
            {
                "bundle_id": b,
                "status": "ingested",
                "serial_number": f"SN-{b}",
                "ingest_date": NIGHT,
            }
            for b in ("old", "new")
        ],
    )


def test_unscoped_each_fact_is_computed_once_for_its_tests_and_later_views(duck):
    two_bundles(duck)
    whole = [("new", "Surface Pro 9"), ("old", "HP ProDesk 600 G6")]
    assert models(duck, "fct_device_attribute_values") == whole
    assert failing(duck) == {}
    # fct_device_attribute_values is now a temporary table of the same rows,
    # which device_attributes, device_lint and identities read.
    assert duck.execute(
        "select count(*) from duckdb_tables() where temporary"
        " and table_name = 'fct_device_attribute_values'"
    ).fetchone() == (1,)
    assert models(duck, "fct_device_attribute_values") == whole


def test_scoped_per_bundle_views_check_the_runs_rows_and_fleet_views_all(duck):
    two_bundles(duck)
    assert failing(duck, ["new"]) == {}
    # A fact that later views read is computed whole, once, for them.
    assert models(duck, "temp.fct_device_attribute_values") == [
        ("new", "Surface Pro 9"),
        ("old", "HP ProDesk 600 G6"),
    ]
    # identities (no bundle_id: one row per name in the fleet) is checked whole.
    assert duck.execute(
        "select value from temp.identities where kind = 'serial' order by value"
    ).fetchall() == [("SN-new",), ("SN-old",)]


def test_every_test_a_yml_declares_is_run(duck):
    # A test of a kind the checker does not know would pass silently (a
    # column-level `unique` did, in quarantined_bundles).
    known = {"not_null", "unique"}
    for doc in view_docs():
        for column in doc.get("columns", []):
            for test in column.get("tests", []):
                kind = test if isinstance(test, str) else next(iter(test))
                assert kind in known | {"accepted_values", "relationships"}, (
                    doc["name"],
                    column["name"],
                    kind,
                )
        for test in doc.get("tests", []):
            assert next(iter(test)) in {"unique", "expression"}, (doc["name"], test)
    results = check_views(duck)
    assert ("quarantined_bundles", "unique(bundle_id)") in {
        (r.view, r.check) for r in results
    }
    declared = sum(
        len(c.get("tests", [])) for d in view_docs() for c in d.get("columns", [])
    ) + sum(len(d.get("tests", [])) for d in view_docs())
    assert len(results) == declared


def test_a_unique_key_counts_each_key_held_by_more_than_one_row(duck):
    # Two keys repeated (one of them three times, one with a null member
    # column part), one key alone: 2 keys break unique(bundle_id, member, record_no).
    line = {"ingest_date": NIGHT, "ts_confidence": "exact", "clock_offset_s": 0.0}
    given(
        duck,
        "stg_cmtrace__entries",
        [
            line | {"bundle_id": "b1", "member": "ccmsetup.log", "record_no": 1},
            line | {"bundle_id": "b1", "member": "ccmsetup.log", "record_no": 1},
            line | {"bundle_id": "b1", "member": "ccmsetup.log", "record_no": 1},
            line | {"bundle_id": "b1", "member": "ccmsetup.log", "record_no": 2},
            line | {"bundle_id": "b2", "member": "smsts.log", "record_no": None},
            line | {"bundle_id": "b2", "member": "smsts.log", "record_no": None},
        ],
    )
    key = ("stg_cmtrace__entries", "unique(bundle_id, member, record_no)")
    assert failing(duck)[key] == 2
    assert failing(duck, ["b1"])[key] == 1
    assert key not in failing(duck, ["b3"])


def test_each_views_seconds_are_given_when_asked(duck):
    seconds: dict[str, float] = {}
    results = check_views(duck, None, seconds)
    assert set(seconds) == {d["name"] for d in view_docs()}
    assert all(s >= 0 for s in seconds.values())
    assert {r.view for r in results} <= set(seconds)
