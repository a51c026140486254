"""``probe --save NAME``: a source table written to ``sources.d/NAME.toml`` beside ``settings.toml``.

settings.toml is never rewritten (its comments stay as they are); the settings loader reads every
``sources.d/*.toml`` (:func:`aggregator.config.source_files`). A table holds text, whole numbers, true or
false and lists of text only; what is written is read back and must give the same table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

NAME = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
"""A source name: lower-case letters, digits and ``_``, starting with a letter."""


class SaveRefused(Exception):
    """The table cannot be saved under that name; the message says why."""


def toml_table(name: str, table: Mapping[str, Any], comments: Iterable[str] = ()) -> str:
    """``[sources.NAME]`` with ``table``'s keys after ``comments`` as ``#`` lines; checked by reading back."""
    lines = [f"# {line}".rstrip() for comment in comments for line in comment.splitlines()]
    lines.append(f"[sources.{name}]")
    lines += [f"{key} = {_value(value)}" for key, value in table.items()]
    text = "\n".join(lines) + "\n"
    if tomllib.loads(text) != {"sources": {name: dict(table)}}:
        raise SaveRefused(f"the table for {name!r} does not read back as written")
    return text


def save_source(
    folder: Path, name: str, table: Mapping[str, Any], *, taken: Iterable[str], comments: Iterable[str] = ()
) -> Path:
    """Write ``folder/NAME.toml``; SaveRefused for a bad or taken name, or a file that exists."""
    if not NAME.match(name):
        raise SaveRefused(f"{name!r} is not a source name (a-z, 0-9 and _, starting with a letter)")
    if name in set(taken):
        raise SaveRefused(f"a source named {name!r} exists already; choose another name")
    path = folder / f"{name}.toml"
    text = toml_table(name, table, comments)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise SaveRefused(f"{path} exists already; remove it or choose another name") from None
    return path


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return "[" + ", ".join(_string(item) for item in value) + "]"
    raise SaveRefused(f"cannot write {value!r} to a source table")


def _string(text: str) -> str:
    """A TOML basic string: quote and backslash escaped, control characters as ``\\uXXXX``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m[0]):04X}", escaped) + '"'
