"""Text as a reader stores it: control characters removed, one-line fields without line breaks."""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""What no database or feed can carry: C0/C1 controls except TAB/LF/CR, DEL, lone surrogates."""
_LINE_BREAKS = re.compile(r"[\r\n\t\u2028\u2029\x85]+")


def clean_line(text: str) -> str:
    """One-line text: control characters removed, line breaks and tabs become single spaces."""
    return " ".join(CONTROL.sub("", _LINE_BREAKS.sub(" ", text)).split())


def clean_block(text: str) -> str:
    """Multi-line text: CR/LF normalised to LF, other control characters removed."""
    return CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
