"""parsers/textdecode.py: bytes -> text as Windows tools wrote it."""

from __future__ import annotations

from espfleet.parsers import textdecode


def test_decode_orders_bom_utf16_utf8_cp1252():
    assert textdecode.decode(b"\xff\xfeA\x00B\x00").text == "AB"
    assert textdecode.decode("Zeit".encode("utf-16-le")).encoding == "utf-16-le"
    assert textdecode.decode("Grüße".encode()).text == "Grüße"
    cp1252 = textdecode.decode(b"Gr\xfc\xdfe \x84quoted\x93")
    assert (cp1252.text, cp1252.encoding) == ("Grüße „quoted“", "cp1252")
    assert textdecode.decode(b"\x81\x8d").encoding == "latin-1"


def test_decode_head_gives_each_head_its_own_text():
    """Sniffs ask for the same head in turn; another head is never served the
    last one's text, even when its bytes are equal."""
    first = b"Gr\xfc\xdfe \x84x\x93"
    again = textdecode.decode_head(first)
    assert textdecode.decode_head(first) is again
    assert again.text == "Grüße „x“"
    other = textdecode.decode_head("[ETW] x".encode("utf-16"))
    assert (other.text, other.encoding, other.had_bom) == ("[ETW] x", "utf-16-le", True)
    equal = bytes(bytearray(first))  # equal bytes, another object
    assert textdecode.decode_head(equal) == again
    assert textdecode.decode_head(first).text == "Grüße „x“"
