"""Bytes to text for the format readers: byte-order marks honoured, UTF-8 by default, then a fallback."""

from __future__ import annotations

import codecs
from typing import Literal

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
"""The byte-order marks and their codecs; UTF-32 first, since its little-endian BOM begins with UTF-16's."""

NOT_UTF8 = "the file is not UTF-8; read as Windows-1252"


def decode(
    data: bytes,
    notes: list[str] | None = None,
    *,
    guess_utf16: bool = True,
    fallback: Literal["cp1252", "replace"] = "cp1252",
) -> str:
    """The text of ``data``: a byte-order mark wins, else UTF-8, else ``fallback``.

    ``guess_utf16`` reads data that is more than a third NUL bytes as UTF-16 (big-endian when it starts
    with NUL) even without a BOM. ``fallback`` is what bytes that are not UTF-8 become: ``"cp1252"`` reads
    them as Windows-1252 (and says so in ``notes``, when given); ``"replace"`` keeps UTF-8 and puts
    U+FFFD for each bad byte. Undecodable bytes never raise.
    """
    for bom, codec in BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if guess_utf16 and len(data) >= 4 and data.count(b"\x00") * 3 > len(data):
        return data.decode("utf-16-be" if data[0] == 0 else "utf-16-le", errors="replace")
    if fallback == "replace":
        return data.decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if notes is not None:
            notes.append(NOT_UTF8)
        return data.decode("cp1252", errors="replace")
