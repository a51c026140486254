"""Bytes to text for the format readers: byte-order marks honoured, UTF-8 by default, Windows-1252 last."""

from __future__ import annotations

import codecs

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, notes: list[str]) -> str:
    """The text of ``data``: BOMs honoured, UTF-8 by default, Windows-1252 as the last resort."""
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if len(data) >= 4 and data.count(b"\x00") * 3 > len(data):
        return data.decode("utf-16-be" if data[0] == 0 else "utf-16-le", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        notes.append("the file is not UTF-8; read as Windows-1252")
        return data.decode("cp1252", errors="replace")
