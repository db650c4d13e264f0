"""Template filters for what players read: ``{{ round.target|a_digit }}`` gives "an 8"."""

from django import template

from guessgame.game import words

register = template.Library()


@register.filter
def a_digit(digit: int) -> str:
    return words.a_digit(digit)
