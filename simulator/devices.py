"""Simulated device identities: serial number, name, site and zone, build, model.

`new_device` draws one from its own seeded generator; `scenarios.realise` then
decides what happens to it.
"""

from __future__ import annotations

import random

from .catalog import BUILD_WEIGHTS, BUILDS, CLIENT_VERSIONS, MODELS, SITE_WEIGHTS, SITES
from .scenarios import Plan


def _guid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032X}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _serial(rng: random.Random, style: str) -> str:
    alnum = "0123456789BCDFGHJKLMNPQRSTVWXZ"
    if style == "dell":
        return "".join(rng.choice(alnum) for _ in range(7))
    if style == "hp":
        return (
            "5CG"
            + f"{rng.randint(2300, 2452)}"
            + "".join(rng.choice(alnum) for _ in range(3))
        )
    if style == "lenovo":
        return "PF" + "".join(rng.choice(alnum) for _ in range(6))
    return f"0F{rng.randint(0, 10**10 - 1):010d}"


def new_device(index: int, rng: random.Random) -> Plan:
    """A device with its identity, zone, build and model (scenario not set yet)."""
    site, tz_name, prefix = rng.choices(SITES, SITE_WEIGHTS)[0]
    if index < len(SITES):  # every region (and its DST rules) in even a small fleet
        site, tz_name, prefix = SITES[index]
    manufacturer, model, style = rng.choice(MODELS)
    serial = _serial(rng, style)
    build, dv, ubrs, branch, lab = rng.choices(BUILDS, BUILD_WEIGHTS)[0]
    # Newer builds run newer clients: pick among the upper part of the list.
    lo = 0 if build < "22000" else 1
    client = rng.choice(CLIENT_VERSIONS[lo:])
    return Plan(
        index=index,
        serial=serial,
        device_name=f"{prefix}-{serial}"[:15],
        site=site,
        tz_name=tz_name,
        manufacturer=manufacturer,
        model=model,
        build=build,
        ubr=rng.choice(ubrs),
        display_version=dv,
        build_branch=branch,
        build_lab_ex=lab,
        client_version=client,
        scenario="ok",
        enrollment_id=_guid(rng),
        ts_package=f"CTS00{rng.randint(100, 199)}",
    )
