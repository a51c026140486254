"""HTML to plain text: the one conversion of markup in descriptions, titles and names to readable lines."""

from __future__ import annotations

import html
import warnings

from bs4 import BeautifulSoup

BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "table",
    "tr",
)
"""The elements that end a line; ``<br>`` does too."""


def html_to_text(markup: str | None) -> str | None:
    """Readable plain text from an HTML fragment: one line per block, whitespace collapsed, no empty lines.

    Text without markup has its entities decoded; None or empty markup, or markup without text, gives None.
    """
    if not markup:
        return None
    if "<" not in markup:
        lines = html.unescape(markup).splitlines()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bs4's "looks like a file name / URL" guesses
            soup = BeautifulSoup(markup, "lxml")
        for line_break in soup.find_all("br"):
            line_break.replace_with("\n")
        for block in soup.find_all(BLOCK_TAGS):
            block.insert_after("\n")
        lines = soup.get_text().splitlines()
    text = "\n".join(" ".join(line.split()) for line in lines if line.strip())
    return text or None
