"""Untrusted JSON and ids: every excess is a BadInput with a sentence, never a crash."""

from __future__ import annotations

import pytest

from guessgame.inputs import ID_MAX, BadInput, nesting_depth, parse_json, row_id


def parse(text, max_depth=3, max_bytes=100_000):
    return parse_json(text, what="The strokes", max_bytes=max_bytes, max_depth=max_depth)


@pytest.mark.parametrize(
    "text, status, message",
    [
        ("[" * 50_000 + "]" * 50_000, 400, "nested over 3 levels"),  # RecursionError before
        ("[[[[1]]]]", 400, "nested over 3 levels"),
        ("[" + "1" * 400 + "]", 400, "longer than 40 characters"),
        ('{"drawing": ' + "9" * 5_000 + "}", 400, "longer than 40 characters"),  # ValueError
        ("[1e999]", 400, "too large a number"),
        ("[NaN]", 400, "NaN is not a JSON number"),
        ("[-Infinity]", 400, "not a JSON number"),
        ("[1,", 400, "not valid JSON"),
        (b"\xff\xfe\x00", 400, "not valid JSON"),
        ("[]" + " " * 100_000, 413, "over 100,000 bytes"),
    ],
)
def test_bad_json_is_refused_with_a_sentence_and_a_4xx(text, status, message):
    with pytest.raises(BadInput) as refused:
        parse(text)

    assert refused.value.status == status
    assert str(refused.value).startswith("The strokes cannot be read")
    assert message in str(refused.value)


def test_json_within_the_bounds_is_parsed():
    assert parse("[[[1.5, 2], [3, 4], [0, 16.25]]]") == [[[1.5, 2], [3, 4], [0, 16.25]]]
    assert parse('{"drawing": 9223372036854775807}', max_depth=1) == {"drawing": ID_MAX}


@pytest.mark.parametrize(
    "value, depth", [(1, 0), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[]], []], 3)]
)
def test_nesting_depth_counts_arrays_and_objects(value, depth):
    assert nesting_depth(value) == depth


@pytest.mark.parametrize(
    "value, expected",
    [
        (12, 12),
        ("12", 12),
        (ID_MAX, ID_MAX),
        (ID_MAX + 1, None),
        (0, None),
        (-1, None),
        (True, None),
        (1.0, None),
        ("abc", None),
        ("²", None),  # a digit to str.isdigit(), not to int()
        ("9" * 5_000, None),
        (" 1", None),
        (None, None),
    ],
)
def test_row_id_accepts_only_what_could_name_a_row(value, expected):
    assert row_id(value) == expected
