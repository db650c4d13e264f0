"""What players read: the article before a digit, the words for "not a digit"."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from guessgame.game.words import a_digit


@pytest.mark.parametrize("digit", [0, 1, 2, 3, 4, 5, 6, 7, 9])
def test_a_digit_takes_a(digit):
    assert a_digit(digit) == f"a {digit}"


def test_eight_takes_an():
    assert a_digit(8) == "an 8"
    assert a_digit(8, capital=True) == "An 8"
    assert a_digit(3, capital=True) == "A 3"


def test_the_template_filter_is_the_same_helper():
    rendered = Template("{% load words %}It saw {{ d|a_digit }}").render(Context({"d": 8}))
    assert rendered == "It saw an 8"
