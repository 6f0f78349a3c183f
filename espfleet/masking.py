"""Stable pseudonyms for device names, serial numbers, users and tenants (--mask).

A masked report or dashboard can leave the team: every device name, serial
number, user name and tenant name in it is replaced by ``<kind>-<10 hex>``, an
HMAC-SHA256 of the value under a key kept in the warehouse
(``<warehouse>/mask.key``, created once with mode 0600, never printed, outside
the folders ``espfleet sql`` may read). The same device keeps the same
pseudonym night after night, and nobody without the key can test a guess.

What is masked: the values the warehouse itself names (``reports.identities``:
bundles' and identity files' device names and serials, the registry values
that hold a UPN or a tenant), found anywhere in a text, case-insensitively and
as whole tokens (a tenant's name, contoso of contoso.onmicrosoft.com, also
at the start of a token: CONTOSOCMG); then, whatever the data names or not,
e-mail addresses,
``*.onmicrosoft.com`` tenants and the profile folder in ``\\Users\\<name>``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

KEY_FILE = "mask.key"
KINDS = ("device", "serial", "user", "tenant", "bundle")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TENANT = re.compile(r"\b[\w-]+\.onmicrosoft\.com\b", re.IGNORECASE)
_PROFILE = re.compile(
    r"(?<=\\users\\)(?!(?:public|default|defaultuser0|all users)\\)[^\\/:*?\"<>|\r\n]+",
    re.IGNORECASE,
)


def load_key(warehouse: Path) -> bytes:
    """The warehouse's masking key, created on first use (32 random bytes).

    The file is created exclusively (two first uses cannot both write one)
    with mode 0600; the key is never printed or logged.
    """
    path = warehouse / KEY_FILE
    warehouse.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex matching any of `words` (longest first), built as a trie.

    An alternation of thousands of literals is tried one by one at every
    position; a trie is walked once.
    """
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def render(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(ch) + render(child) for ch, child in node.items() if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?"
        return body

    return render(trie)


class Masker:
    """Replaces identities in texts and tables by their pseudonyms.

    Args:
        key: the warehouse's key (`load_key`).
        identities: (kind, value) pairs the data holds (`reports.identities`);
            kinds are those of KINDS.
    """

    def __init__(self, key: bytes, identities: Iterable[tuple[str, str]]) -> None:
        self._key = key
        self._kind: dict[str, str] = {}
        prefixes: set[str] = set()
        for kind, value in identities:
            value = (value or "").strip()
            if len(value) >= 3:  # shorter would erase common tokens
                self._kind.setdefault(value.casefold(), kind)
            # The tenant's name: contoso of contoso.onmicrosoft.com (it names
            # the organisation in profile names, domains, paths).
            if kind == "tenant" and value.casefold().endswith(".onmicrosoft.com"):
                name = value.split(".", 1)[0]
                if len(name) >= 3:
                    self._kind.setdefault(name.casefold(), "tenant")
                    prefixes.add(name.casefold())
        self._known = None
        if self._kind:
            words = sorted(self._kind, key=len, reverse=True)
            self._known = re.compile(
                rf"(?<![0-9A-Za-z])(?:{_trie_pattern(words)})(?![0-9A-Za-z])",
                re.IGNORECASE,
            )

        # A tenant's name also starts host and site names (CONTOSOCMG...).
        self._prefixes = None
        if prefixes:
            pattern = _trie_pattern(sorted(prefixes, key=len, reverse=True))
            self._prefixes = re.compile(
                rf"(?<![0-9A-Za-z])(?:{pattern})", re.IGNORECASE
            )

    def pseudonym(self, kind: str, value: str) -> str:
        """``kind-<10 hex>``: the same for the same key, kind and value (any case)."""
        digest = hmac.new(
            self._key, f"{kind}\x00{value.casefold()}".encode(), hashlib.sha256
        ).hexdigest()
        return f"{kind}-{digest[:10]}"

    def _known_match(self, match: re.Match) -> str:
        text = match.group(0)
        return self.pseudonym(self._kind.get(text.casefold(), "device"), text)

    def text(self, value: str | None) -> str | None:
        """`value` with every identity in it replaced by its pseudonym."""
        if not value:
            return value
        if self._known is not None:
            value = self._known.sub(self._known_match, value)
        if self._prefixes is not None:
            value = self._prefixes.sub(
                lambda m: self.pseudonym("tenant", m.group(0)), value
            )
        value = _EMAIL.sub(lambda m: self.pseudonym("user", m.group(0)), value)
        value = _TENANT.sub(lambda m: self.pseudonym("tenant", m.group(0)), value)
        return _PROFILE.sub(lambda m: self.pseudonym("user", m.group(0)), value)

    def table(self, table: pa.Table) -> pa.Table:
        """`table` with every string column masked (other columns as they are)."""
        for i, field in enumerate(table.schema):
            if not pa.types.is_string(field.type) and not pa.types.is_large_string(
                field.type
            ):
                continue
            column = table.column(i)
            # Distinct values once: the same device name fills many rows.
            unique = pc.unique(column).to_pylist()
            masked = pa.array([self.text(v) for v in unique], field.type)
            index = pc.index_in(column, value_set=pa.array(unique, field.type))
            table = table.set_column(i, field, pc.take(masked, index))
        return table

    def rows(self, rows: list[dict]) -> list[dict]:
        """`rows` (from ``to_pylist``) with every string value masked."""
        return [
            {k: self.text(v) if isinstance(v, str) else v for k, v in r.items()}
            for r in rows
        ]


def bundle_names(source_uri: str | None, site: str | None) -> list[str]:
    """Names a quarantined bundle's path may hold that no table states.

    A refused bundle has no device facts, but its folder or file on the share
    is usually named for the device (``<name>_<time>``): every path part below
    its site, and each part's text before the first ``_``.
    """
    if not source_uri:
        return []
    parts = [p for p in re.split(r"[/\\]", source_uri) if p]
    if site and site in parts:
        parts = parts[parts.index(site) + 1 :]
    else:
        parts = parts[-1:]
    names = []
    for part in parts:
        names.append(part)
        head = part.split("_", 1)[0]
        if head != part and len(head) >= 4:
            names.append(head)
    return names
