"""Untrusted input read one way: JSON bodies and fields, and row ids.

Python's ``json`` parses more than a request should hold, and each excess was a 500: a
5,000-digit number (ValueError past 4,300 digits; a 400-digit one overflows later when
compared as a float), an array nested 50,000 deep (RecursionError), ``NaN``. Every JSON
the app reads goes through ``parse_json``, which bounds size, depth and number length
and raises ``BadInput`` (a sentence and a 4xx status); ``row_id`` says whether a value
can name a row at all, before any query.
"""

from __future__ import annotations

import json
import math

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest

from guessgame.errors import Refusal

MAX_NUMBER_CHARS = 40
"""Longest number, in characters, a JSON input may hold: a float's 17 significant digits
with sign, point and exponent fit with room to spare; a 400-digit integer does not."""

ID_MAX = 2**63 - 1
"""The largest id a row can have: BigAutoField on PostgreSQL, INTEGER on SQLite."""


class BadInput(Refusal):
    """Input refused before it reaches a service: a sentence for a person and a 4xx."""


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadInput(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    return int(text)


def _bounded_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise BadInput(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    value = float(text)
    if math.isinf(value):  # 1e999
        raise BadInput(f"{text} is too large a number")
    return value


def _no_constant(text: str) -> float:
    raise BadInput(f"{text} is not a JSON number")


def nesting_depth(value: object) -> int:
    """Levels of arrays and objects in a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        deepest = max(deepest, depth)
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def parse_json(data: str | bytes, *, what: str, max_bytes: int, max_depth: int) -> object:
    """``data`` parsed as strict JSON, or BadInput naming ``what`` ("The strokes").

    Refused: over ``max_bytes`` (413), not JSON or not UTF-8, ``NaN``/``Infinity``,
    numbers longer than MAX_NUMBER_CHARS, more than ``max_depth`` levels of nesting (400).
    """
    if len(data) > max_bytes:
        raise BadInput(f"{what} cannot be read: over {max_bytes:,} bytes.", status=413)
    try:
        value = json.loads(
            data,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            parse_constant=_no_constant,
        )
    except BadInput as exc:
        raise BadInput(f"{what} cannot be read: {exc}.") from exc
    except RecursionError as exc:  # "[[[[...": deeper than the interpreter's stack
        raise BadInput(f"{what} cannot be read: nested over {max_depth} levels deep.") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"{what} cannot be read: not valid JSON.") from exc
    if nesting_depth(value) > max_depth:
        raise BadInput(f"{what} cannot be read: nested over {max_depth} levels deep.")
    return value


def read_json_body(request: HttpRequest, *, max_bytes: int, max_depth: int) -> object:
    """The request's body as JSON (see parse_json); an empty body is ``{}``.

    A body declared larger than ``max_bytes`` is refused before it is read.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > max_bytes:
        raise BadInput(f"The request body is too large: at most {max_bytes:,} bytes.", status=413)
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise BadInput("The request body is too large.", status=413) from exc
    return parse_json(
        body or b"{}", what="The request body", max_bytes=max_bytes, max_depth=max_depth
    )


def row_id(value: object) -> int | None:
    """``value`` as a row id when it could name one (an integer, or its digits, from 1 to
    ID_MAX), else None: a caller answers "no such row" without asking the database."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit() and len(value) <= len(str(ID_MAX))):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 1 <= value <= ID_MAX else None
