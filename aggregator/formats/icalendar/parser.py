"""Lenient parsing of iCalendar text into components: tolerant lines, values, zones and cut-off files."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from icalendar import Calendar, Component, ComponentFactory, vBroken
from icalendar.parser.ical.calendar import CalendarIcalParser

_CUT_OFF = "END"  # marks, in Component.errors, a component the end of the file cut off

_SOURCE_TEXT = "_stadtkalender_source_text"  # the attribute a parsed VEVENT keeps its own lines in

_CALENDAR_LINE = re.compile(r"^[ \t]*BEGIN:(VCALENDAR|VEVENT)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)

# warnings.catch_warnings changes process-wide state; parses in parallel threads take turns.
_WARNINGS_LOCK = threading.RLock()


def _not_a_calendar(text: str) -> str | None:
    """Why ``text`` cannot be a calendar at all, or None."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head:
        return "it is empty"
    sample = head[:2000]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\r\n\f")
    if controls * 10 > len(sample) or sample.count("\ufffd") * 10 > len(sample):
        return "it is binary data"
    if head.startswith("<"):
        kind = "an HTML page" if "<html" in head[:2000].lower() else "HTML or XML"
        return f"it is {kind}"
    if head[0] in "{[":
        return "it is JSON"
    if not _CALENDAR_LINE.search(text):
        return f"it has no BEGIN:VCALENDAR line (starts with {head[:40]!r})"
    return None


def source_text(component: Component) -> str:
    """A parsed VEVENT's lines as the file gave them (unfolded; unreadable lines left out); a component not
    parsed from text is serialised."""
    text = getattr(component, _SOURCE_TEXT, None)
    if isinstance(text, str):
        return text
    try:
        return bytes(component.to_ical()).decode("utf-8", errors="replace")
    except Exception as error:
        return f"(not serialisable: {error})"


class _LenientParser(CalendarIcalParser):
    """icalendar's calendar parser, tolerant in every component and at the top level.

    Each VEVENT keeps the lines it was read from (:func:`source_text`): the record's raw text is what the
    source sent, and costs a join instead of serialising the component again.
    """

    problems: list[str]
    truncated: bool

    def initialize_parsing(self) -> None:
        super().initialize_parsing()  # type: ignore[no-untyped-call]
        self.problems = []
        self.truncated = False
        self._lines: list[str] = []
        self._opened: list[int] = []  # where each open component's lines start in _lines

    def handle_begin_component(self, vals: str) -> None:
        super().handle_begin_component(vals)
        self._opened.append(len(self._lines))
        self._lines.append(f"BEGIN:{vals}")

    def parse_content_lines(self) -> None:
        super().parse_content_lines()
        if self._stack:
            self.truncated = True
        while self._stack:
            self._stack[-1].errors.append((_CUT_OFF, "the file ends inside this component"))
            self.handle_end_component(str(self._stack[-1].name))

    def handle_line_parse_error(self, exception: Exception) -> None:
        component = self.component
        if component is None:
            self.problems.append(f"unreadable line outside any component skipped ({exception})")
        else:
            component.errors.append((None, str(exception)))

    def handle_property(self, name: str, params: Any, vals: str, line: Any) -> None:
        if self.component is None:
            self.problems.append(f"{name} outside any component skipped")
            return
        self._lines.append(str(line))
        super().handle_property(name, params, vals, line)

    def parse_and_add_property(self, name: str, params: Any, val: str, tzid: str | None, line: Any) -> None:
        try:
            super().parse_and_add_property(name, params, val, tzid, line)
        except Exception as error:  # a value class may fail after parsing (e.g. a PERIOD ending early)
            self.handle_property_parse_error(error, name, params, val, line)

    def handle_property_parse_error(
        self, exception: Exception, name: str, params: Any, val: str, line: Any
    ) -> None:
        component = self.component
        assert component is not None
        factory = self.get_factory_for_property(name, params)
        broken = vBroken.from_parse_error(
            raw_value=val,
            params=params,
            property_name=name,
            expected_type=getattr(factory, "__name__", "unknown"),
            error=exception,
        )
        component.errors.append((name, str(exception)))
        component.add(name, broken, encode=False)

    def handle_end_component(self, vals: str) -> None:
        if not self._stack:
            self.problems.append(f"END:{vals} without BEGIN skipped")
            return
        component = self._stack[-1]
        start = self._opened.pop()
        self._lines.append(f"END:{vals}")
        if component.name == "VEVENT":
            setattr(component, _SOURCE_TEXT, "\r\n".join(self._lines[start:]) + "\r\n")
        if not self._opened:
            self._lines.clear()  # a top-level component is done: its lines are kept where they are needed
        tzids = component.get("TZID")
        if component.name == "VTIMEZONE" and isinstance(tzids, list):
            component["TZID"] = tzids[0]
            self.problems.append(f"VTIMEZONE with {len(tzids)} TZID lines: kept {str(tzids[0])!r}")
        try:
            super().handle_end_component(vals)
        except Exception as error:  # only the VTIMEZONE cache can fail after the component is stored
            self.problems.append(
                f"VTIMEZONE {str(component.get('TZID'))!r} unusable ({error}); times in it fall back"
            )


def _parse_text(text: str, notes: list[str]) -> tuple[list[Component], bool]:
    """Parse ``text`` with the lenient parser; Python warnings raised meanwhile become notes."""
    parser = _LenientParser(text, ComponentFactory(), Calendar.types_factory)
    with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        components = parser.parse()
    notes.extend(parser.problems)
    notes.extend(str(warning.message) for warning in caught)
    return components, parser.truncated


def _read_components(text: str, notes: list[str]) -> tuple[list[Component], list[str], bool]:
    """Top-level components, reasons for VEVENT blocks lost entirely, and whether the text was cut off."""
    try:
        components, truncated = _parse_text(text, notes)
    except Exception as error:
        notes.append(f"the calendar could not be read as a whole ({error}); read block by block")
        return _read_blocks(text, notes)
    return components, [], truncated


def _read_blocks(text: str, notes: list[str]) -> tuple[list[Component], list[str], bool]:
    """Parse each top-level block, and each block inside a VCALENDAR, on its own."""
    components: list[Component] = []
    lost: list[str] = []
    truncated = False
    for name, lines, complete in _blocks(text.splitlines()):
        truncated = truncated or not complete
        if name != "VCALENDAR":
            components.extend(_parse_block(name, lines, notes, lost))
            continue
        calendar = Calendar()
        header = [line for line in lines[1:-1] if not line[:1].isspace()]
        for inner_name, inner_lines, inner_complete in _blocks(lines[1:-1] if complete else lines[1:]):
            truncated = truncated or not inner_complete
            for part in _parse_block(inner_name, inner_lines, notes, lost):
                calendar.add_component(part)
        for line in header:
            key, _, value = line.partition(":")
            if key.upper() == "X-WR-TIMEZONE":
                calendar["X-WR-TIMEZONE"] = value.strip()
        components.append(calendar)
    return components, lost, truncated


def _blocks(lines: list[str]) -> Iterator[tuple[str, list[str], bool]]:
    """Split lines into (component name, lines, closed?) blocks at nesting depth zero."""
    depth = 0
    current: list[str] = []
    name = ""
    for line in lines:
        key, _, value = line.strip().partition(":")
        if key.upper() == "BEGIN":
            if depth == 0:
                name, current = value.strip().upper(), []
            depth += 1
        if depth:
            current.append(line)
        if key.upper() == "END" and depth:
            depth -= 1
            if depth == 0:
                yield name, current, True
    if depth and current:
        yield name, current, False


def _parse_block(name: str, lines: list[str], notes: list[str], lost: list[str]) -> list[Component]:
    """Parse one block alone; a VEVENT that cannot be read is recorded in ``lost``."""
    try:
        components, _ = _parse_text("\r\n".join(lines) + "\r\n", notes)
    except Exception as error:
        if name == "VEVENT":
            lost.append(f"VEVENT block unreadable ({type(error).__name__}: {error})")
        else:
            notes.append(f"{name} block unreadable and skipped ({type(error).__name__}: {error})")
        return []
    return components


def _component_problems(components: list[Component]) -> list[str]:
    """Warnings for unreadable values outside VEVENTs (VTIMEZONE, VALARM); VEVENTs report their own."""
    problems: list[str] = []
    for component in components:
        for part in component.walk():
            for name, message in part.errors if part.name != "VEVENT" else ():
                problem = f"{part.name}: {name or 'a line'} unreadable ({message}); ignored"
                if name != _CUT_OFF and problem not in problems:
                    problems.append(problem)
    return problems


def _calendars(components: list[Component]) -> Iterator[Component]:
    """Each VCALENDAR, then one calendar holding any stray top-level components (bare VEVENTs)."""
    stray = Calendar()
    for component in components:
        if component.name == "VCALENDAR":
            yield component
        else:
            stray.add_component(component)
    if stray.subcomponents:
        yield stray
