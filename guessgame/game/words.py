"""What players read about a guess, in one place (its JavaScript twin: static/js/words.js)."""

from __future__ import annotations

NOT_A_DIGIT = "That doesn't look like a digit"
"""What the game says when the model's answer is "not a digit"."""


def a_digit(digit: int, *, capital: bool = False) -> str:
    """The digit with its article, as a sentence needs it: "a 7", "an 8" ("An 8" with
    ``capital``). Eight is the only digit said with a vowel sound."""
    article = "an" if int(digit) == 8 else "a"
    if capital:
        article = article.capitalize()
    return f"{article} {digit}"
