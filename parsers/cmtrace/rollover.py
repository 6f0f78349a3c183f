"""Rollover sets: a log and its older generations, read as one stream, oldest first.

docs/formats.md §1.7 and §9.1. A full log is copied to ``name.lo_`` (one
generation) or, for components that keep history, to
``name-YYYYMMDD-HHMMSS.log``; writing goes on in ``name.log``. Read oldest to
newest: dated history by its stamp, then ``.lo_``, then ``.log``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_DATED = re.compile(r"^(?P<base>.+)-(?P<stamp>\d{8}-\d{6})\.log$", re.IGNORECASE)
_LO = re.compile(r"^(?P<base>.+)\.lo_$", re.IGNORECASE)
_LOG = re.compile(r"^(?P<base>.+)\.log$", re.IGNORECASE)


def member_key(name: str) -> tuple[str, tuple[int, str]] | None:
    """(set name, order key) of a log member, or None if it is not a log.

    Args:
        name: member path; folders are kept in the set name so two folders'
            ``smsts.log`` never merge.

    Returns:
        ``('ccmsetup', (1, ''))`` for ``ccmsetup.lo_``; order keys sort dated
        history (0, stamp) before ``.lo_`` (1) before ``.log`` (2).
    """
    for pattern, rank in ((_DATED, 0), (_LO, 1), (_LOG, 2)):
        m = pattern.match(name)
        if m:
            stamp = m.groupdict().get("stamp") or ""
            return m.group("base"), (rank, stamp)
    return None


def rollover_groups(names: Iterable[str]) -> dict[str, list[str]]:
    """Group log member names into rollover sets, each ordered oldest first.

    Args:
        names: member names (``ccmsetup.lo_``, ``Logs/smsts-20240101-101010.log``).

    Returns:
        set name -> member names, e.g. ``{'ccmsetup': ['ccmsetup.lo_',
        'ccmsetup.log']}``. Names that are not ``.log``/``.lo_`` are left out.
    """
    groups: dict[str, list[tuple[tuple[int, str], str]]] = {}
    for name in names:
        key = member_key(name)
        if key is None:
            continue
        groups.setdefault(key[0], []).append((key[1], name))
    return {base: [n for _, n in sorted(items)] for base, items in groups.items()}


def order_members(names: Iterable[str]) -> list[str]:
    """Members sorted oldest to newest by rollover rank.

    Args:
        names: member names of one set.

    Returns:
        Dated history, then ``.lo_``, then ``.log``; names of no rank last.
    """

    def key(name: str) -> tuple[int, str, str]:
        k = member_key(name)
        return (k[1][0], k[1][1], name) if k else (3, "", name)

    return sorted(names, key=key)


def rollover_sets(names: Iterable[str]) -> list[list[str]]:
    """Every member in exactly one set: rollover sets, then any other name alone.

    Args:
        names: the members a CMTrace sniff accepted (a log need not be ``.log``).

    Returns:
        Sets ordered oldest to newest inside; the last member of a set is the
        one the set is recorded under.
    """
    names = sorted(names)
    sets = list(rollover_groups(names).values())
    grouped = {n for group in sets for n in group}
    return sets + [[n] for n in names if n not in grouped]
