"""Merge rules: never pairs, always pairs, and the editors' keep-apart sides."""

from __future__ import annotations

import pytest

from aggregator.dedupe import MergeRules, parse_rule

APART = MergeRules(apart=((frozenset({"v:1", "v:2"}), frozenset({"c:1"})),))


def test_keep_apart_sides_forbid_an_event_of_one_side_joining_one_of_the_other() -> None:
    assert APART.forbids({"ev1", "v:1"}, {"ev2", "c:1", "c:9"})
    assert APART.forbids({"c:1"}, {"v:2", "x:3"})


def test_keep_apart_sides_leave_alone_what_touches_one_side_or_holds_both() -> None:
    assert not APART.forbids({"v:1"}, {"v:2"})  # one side
    assert not APART.forbids({"v:1", "x:1"}, {"y:1"})  # the other thing is in no side
    assert not APART.forbids({"v:1", "c:1"}, {"v:2"})  # already holds both: the split step's business


def test_never_pairs_still_read_as_before() -> None:
    rules = MergeRules.parse(["a | b"], ["c | d"])
    assert rules.forbids({"a"}, {"b", "z"}) and not rules.forbids({"a", "b"}, {"z"})
    assert rules.always == (("c", "d"),)


@pytest.mark.parametrize("line", ["a", "a |", "| b", ""])
def test_a_rule_without_two_keys_is_refused_with_the_line(line: str) -> None:
    with pytest.raises(ValueError, match=r"must read 'KEY \| KEY'"):
        parse_rule(line)
