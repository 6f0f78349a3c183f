"""Bytes -> text the way Windows tools wrote it (docs/formats.md §1.6).

Order: BOM (UTF-8, UTF-16LE, UTF-16BE), then UTF-16 without BOM recognised by
NUL bytes in every other position, then strict UTF-8, then cp1252 (which maps
every byte, so bad bytes never crash a parser). `DecodedText.lossy` says when a
replacement had to happen, `replaced` how many code units were lost, and
`loss_warning` gives the one warning parsers record for it on the member.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class DecodedText:
    """Text decoded from bytes, and how.

    Attributes:
        text: the text (U+FFFD where a code unit could not be decoded).
        encoding: the codec used.
        had_bom: a byte order mark was found (and dropped).
        lossy: something was replaced or dropped.
        replaced: how many code units were replaced or dropped (an unpaired
            UTF-16 surrogate, a trailing odd byte).
    """

    text: str
    encoding: str
    had_bom: bool
    lossy: bool
    replaced: int = 0


def loss_warning(decoded: DecodedText) -> str | None:
    """The warning for a lossy decoding (None when nothing was lost)."""
    if not decoded.lossy:
        return None
    return (
        f"lossy decoding: {decoded.replaced} invalid {decoded.encoding} code"
        " units replaced with U+FFFD or dropped"
    )


def _utf16(body: bytes, encoding: str, had_bom: bool) -> DecodedText:
    odd = len(body) % 2
    if odd:
        body = body[:-1]
    try:
        text = body.decode(encoding)
        return DecodedText(text, encoding, had_bom, bool(odd), odd)
    except UnicodeDecodeError:
        # Unpaired surrogates are the only invalid UTF-16: let them through,
        # count them, then replace each with U+FFFD.
        text, n = _LONE_SURROGATE.subn("\ufffd", body.decode(encoding, "surrogatepass"))
        return DecodedText(text, encoding, had_bom, True, n + odd)


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """Encoding of a byte string and the length of its BOM (0 if none)."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    sample = head[:4096]
    if len(sample) >= 4:
        odd_nuls = sample[1::2].count(0)
        even_nuls = sample[0::2].count(0)
        half = len(sample) // 2
        if odd_nuls > 0.4 * half and even_nuls < 0.1 * half:
            return "utf-16-le", 0
        if even_nuls > 0.4 * half and odd_nuls < 0.1 * half:
            return "utf-16-be", 0
    return "utf-8", 0


HEAD_BYTES = 65536
# The last head `decode_head` decoded, kept with it (which also keeps its id
# from being reused): one tuple, so a thread reads a consistent pair.
_last_head: tuple[bytes, DecodedText] | None = None


def decode_head(head: bytes) -> DecodedText:
    """`decode` of a member's first 64 KiB, for sniffs.

    Ingestion hands every sniff the same head object in turn; the one asked for
    again is decoded once (several sniffs read text, and a binary head falls
    through UTF-8 to cp1252, the costly path).

    Args:
        head: at most the first 64 KiB of a member (more is decoded, not kept).

    Returns:
        The same as ``decode(head)``.
    """
    global _last_head
    last = _last_head
    if last is not None and last[0] is head:
        return last[1]
    decoded = decode(head)
    if len(head) <= HEAD_BYTES:
        _last_head = (head, decoded)
    return decoded


def decode(data: bytes) -> DecodedText:
    """Decode `data` without ever raising."""
    encoding, bom_len = sniff_encoding(data)
    body = data[bom_len:]
    if encoding.startswith("utf-16"):
        return _utf16(body, encoding, bom_len > 0)
    try:
        return DecodedText(body.decode("utf-8"), "utf-8", bom_len > 0, False)
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 covers those without loss.
        try:
            return DecodedText(body.decode("cp1252"), "cp1252", False, False)
        except UnicodeDecodeError:
            return DecodedText(body.decode("latin-1"), "latin-1", False, False)
