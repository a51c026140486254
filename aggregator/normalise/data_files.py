"""The data files of normalisation (venues, categories): TOML, packaged or given; errors name the entry."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any


class DataFileError(ValueError):
    """A data file is malformed; names the file and the entry."""

    def __init__(self, path: str, entry: str, message: str) -> None:
        self.path = path
        self.entry = entry
        super().__init__(f"{path}: {entry}: {message}")


def read_data_file(
    filename: str, path: Path | None, error: type[DataFileError]
) -> tuple[str, dict[str, Any]]:
    """The name to report and the tables of ``path``, or of the packaged ``aggregator/data/<filename>``.

    TOML that does not parse raises ``error`` for the entry ``file``.
    """
    if path is None:
        name = f"aggregator/data/{filename}"
        text = resources.files("aggregator.data").joinpath(filename).read_text(encoding="utf-8")
    else:
        name, text = str(path), path.read_text(encoding="utf-8")
    try:
        return name, tomllib.loads(text)
    except tomllib.TOMLDecodeError as decode_error:
        raise error(name, "file", str(decode_error)) from decode_error
