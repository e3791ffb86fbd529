"""Review text cleaning: HTML entities and line-break tags, mojibake, whitespace.

Pure string functions. The fast paths (``'&' in text``, ``isascii()``) matter: cleaning
runs on every row and most reviews need none of the repairs.
"""

from __future__ import annotations

import contextlib
import html
import re

_LINE_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)  # Amazon review bodies use <br />

# Mojibake is UTF-8 bytes decoded as Latin-1 or Windows-1252. Map every character such a
# decode can produce back to its byte: cp1252 where it defines one (``€`` -> 0x80), else
# Latin-1 (which covers the bytes cp1252 leaves undefined).
_BYTE_OF: dict[str, int] = {}
for _byte in range(0x80, 0x100):
    _BYTE_OF[bytes([_byte]).decode("latin-1")] = _byte
    with contextlib.suppress(UnicodeDecodeError):  # the bytes cp1252 leaves undefined
        _BYTE_OF[bytes([_byte]).decode("cp1252")] = _byte
_CONTINUATION = "".join(re.escape(c) for c, b in _BYTE_OF.items() if 0x80 <= b <= 0xBF)
_MOJIBAKE = re.compile(
    f"[\xc2-\xdf][{_CONTINUATION}]"  # 2-byte sequence
    f"|[\xe0-\xef][{_CONTINUATION}]{{2}}"  # 3-byte
    f"|[\xf0-\xf4][{_CONTINUATION}]{{3}}"  # 4-byte
    # The clothing data set was lowercased after the damage: Ã (0xC3) became ã and
    # Â (0xC2) became â. Only these two leads, followed by a Latin-1 continuation, are
    # undone: they cover U+0080-U+00FF, and a real ã or â followed by one of U+0080-U+00BF
    # does not occur in prose (unlike ã followed by a curly quote, as in "maçã”").
    "|[\xe2\xe3][\x80-\xbf]"
)


def _to_bytes(text: str) -> bytes:
    return bytes(_BYTE_OF[c] for c in text)


def _repair_match(match: re.Match[str]) -> str:
    found = match.group()
    raw = _to_bytes(found)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if found[0] in "\xe2\xe3":  # lowercased lead: restore the capital, keep what follows
        try:
            return bytes([raw[0] - 0x20, raw[1]]).decode("utf-8") + found[2:]
        except UnicodeDecodeError:
            pass
    return found


def repair_mojibake(text: str) -> str:
    """``fiancã©`` -> ``fiancé``, ``â€™`` -> ``’``; text that is not mojibake is unchanged."""
    if text.isascii():
        return text
    return _MOJIBAKE.sub(_repair_match, text)


def unescape_html(text: str) -> str:
    """``&#39;`` -> ``'``, including entities escaped again and again, as the clothing data set
    has them up to five times (``&amp;amp;amp;amp;#39;``). Every pass that changes the text
    shortens it, so the loop ends."""
    while "&" in text:
        unescaped = html.unescape(text)
        if unescaped == text:
            break
        text = unescaped
    return text


def is_plain(text: str) -> bool:
    """True when ``clean_text`` would return ``text`` unchanged (most reviews): printable ASCII
    without entities, tags, doubled or outer spaces. C-speed checks, no word split."""
    return (
        text.isascii()
        and text.isprintable()
        and "&" not in text
        and "<" not in text
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
    )


def clean_text(text: str) -> str:
    """The cleaned review text; empty when nothing but whitespace (or markup) remains."""
    text = unescape_html(text)
    if "<" in text:
        text = _LINE_BREAK_TAG.sub(" ", text)
    text = repair_mojibake(text)
    # str.split() splits on every Unicode whitespace run (CRLF, tabs, NBSP) and strips.
    return " ".join(text.split())
