"""The one HTML-to-text conversion: every block element ends a line, whatever reader calls it."""

from __future__ import annotations

import pytest

from aggregator.formats.html_text import html_to_text
from aggregator.formats.schemaorg.event_reader import plain_text


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>Erst</p><p>Dann \t  so</p>", "Erst\nDann so"),
        ("Zeile<br>Zeile<br/>", "Zeile\nZeile"),
        ("<section>Einlass</section>Beginn", "Einlass\nBeginn"),
        ("<ul><li>Jazz</li><li>Soul</li></ul>Ende", "Jazz\nSoul\nEnde"),
        ("<table><tr><td>a</td><td>b</td></tr></table>Ende", "ab\nEnde"),
        ("<h2>Titel</h2><blockquote>Zitat</blockquote>", "Titel\nZitat"),
        ("Rock &amp; Pop\n\n  und   mehr", "Rock & Pop\nund mehr"),
        ("<p> </p>", None),
        ("", None),
        (None, None),
    ],
)
def test_html_to_text_breaks_lines_at_blocks_and_collapses_space(
    markup: str | None, text: str | None
) -> None:
    assert html_to_text(markup) == text


def test_schema_org_descriptions_use_the_same_conversion() -> None:
    assert (
        plain_text("<section>Einlass</section><div>Beginn &lt;20 Uhr&gt;</div>") == "Einlass\nBeginn <20 Uhr>"
    )
    assert plain_text("ohne  Markup\n\nbleibt") == "ohne  Markup\n\nbleibt"
