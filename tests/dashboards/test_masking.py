"""--mask: no original device name, serial, user or tenant survives anywhere."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path

from click.testing import CliRunner

from espfleet.cli import main
from espfleet.dashboards import export_dashboard
from espfleet.masking import KEY_FILE, Masker, load_key
from espfleet.simulator.fleet import simulate
from tests.fixtures import ingest_without_prefect

from .conftest import PROFILE

# What the simulator writes for every device's tenant and user
# (simulator/cmlogs.py, simulator/registry_dump.py).
TENANT = ("contoso.onmicrosoft.com", "2f4a9838-26b7-47ee-be60-ccc1fdec5953", "contoso")
USER = "autopilot@contoso.onmicrosoft.com"


def originals(truth: list[dict]) -> set[str]:
    values = {USER, PROFILE, *TENANT}
    for row in truth:
        values |= {row["device_name"], row["serial_number"]}
    return {v for v in values if v}


def png_text_chunks(data: bytes) -> list[bytes]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG, decompressed."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind in (b"tEXt", b"iTXt"):
            chunks.append(body)
        elif kind == b"zTXt":
            chunks.append(zlib.decompress(body[body.index(b"\0") + 2 :]))
        pos += 12 + length
    return chunks


def leaks(folder: Path, values: set[str]) -> dict[str, list[str]]:
    found = {}
    for path in folder.iterdir():
        data = path.read_bytes()
        texts = [data.lower()]
        if path.suffix == ".png":
            texts += [c.lower() for c in png_text_chunks(data)]
        hits = sorted(v for v in values if any(v.lower().encode() in t for t in texts))
        if hits:
            found[path.name] = hits
    return found


def test_a_masked_dashboard_holds_no_original_identity(planted, tmp_path):
    values = originals(planted["truth"])
    plain = export_dashboard(planted["warehouse"], tmp_path / "plain")
    # The unmasked file does hold them (so the check below can fail): the
    # devices, the user's UPN and profile folder (a planted log message), the
    # tenant's name (in the Autopilot profile's).
    held = leaks(plain.index.parent, values)["index.html"]
    assert {USER, PROFILE, "contoso"} <= set(held)
    assert planted["victim_serial"] in held
    masked = export_dashboard(planted["warehouse"], tmp_path / "masked", mask=True)
    assert leaks(masked.index.parent, values) == {}
    html = masked.index.read_text(encoding="utf-8")
    assert "device-" in html and "serial-" in html and "masked" in html
    key = (planted["warehouse"] / KEY_FILE).read_text().strip()
    assert key not in html
    assert (planted["warehouse"] / KEY_FILE).stat().st_mode & 0o077 == 0


def pseudonyms(index: Path, kind: str) -> set[str]:
    return set(re.findall(rf"{kind}-[0-9a-f]{{10}}", index.read_text("utf-8")))


def test_pseudonyms_stay_the_same_night_after_night(planted, tmp_path):
    # Tonight's warehouse, and a copy that ingests a second night's bundles.
    warehouse = tmp_path / "warehouse"
    shutil.copytree(planted["warehouse"], warehouse)
    first = export_dashboard(warehouse, tmp_path / "n1", mask=True)
    simulate(devices=4, seed=99, out=tmp_path / "night2")
    assert ingest_without_prefect(tmp_path / "night2", warehouse)["ingested"] >= 4
    second = export_dashboard(warehouse, tmp_path / "n2", mask=True)

    # The planted device is chased both nights, under one pseudonym: the keyed
    # hash of its serial, whatever else the warehouse holds.
    serial = Masker(load_key(warehouse), []).pseudonym(
        "serial", planted["victim_serial"]
    )
    assert serial in pseudonyms(first.index, "serial")
    assert serial in pseudonyms(second.index, "serial")
    assert pseudonyms(first.index, "device") <= pseudonyms(second.index, "device")


def test_report_mask_hides_identities_too(planted):
    values = originals(planted["truth"])
    result = CliRunner().invoke(
        main,
        [
            "report",
            "fleet_status",
            "--warehouse",
            str(planted["warehouse"]),
            "--mask",
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "serial-" in result.output
    assert [v for v in values if v.lower() in result.output.lower()] == []
