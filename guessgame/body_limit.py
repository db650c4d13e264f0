"""Refuse a request body too large for the app before reading it: a WSGI middleware.

Django reads a POST's body as soon as anything touches ``request.POST``, and the CSRF
check does so before any view runs: a 100 MB form was read in full (and its file part
written to a temporary file) before a view could say 413. So the limit is kept here, in
front of Django. A declared Content-Length over the limit is answered 413 without
reading a byte. A chunked body (no Content-Length; gunicorn marks its end with
``wsgi.input_terminated``) is read up to the limit and cut off there; one within it is
handed to Django with its length, which Django needs to read it at all.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse

from guessgame import errors

READ_CHUNK = 64 * 1024
"""Bytes read at a time from a chunked body."""


class BodySizeLimit:
    """Wrap a WSGI app so no request body over ``max_bytes`` reaches it."""

    def __init__(self, app: Callable, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        declared = (environ.get("CONTENT_LENGTH") or "").strip()
        if declared:
            length = int(declared) if declared.isdigit() else -1
            if length < 0:
                return self.refuse(
                    environ, start_response, 400, "The Content-Length header is not a number."
                )
            if length > self.max_bytes:
                return self.refuse(
                    environ, start_response, 413,
                    f"The request is too large: {length:,} bytes, the limit is "
                    f"{self.max_bytes:,}.",
                )  # fmt: skip
        elif environ.get("wsgi.input_terminated"):
            body = self.read_at_most(environ["wsgi.input"], self.max_bytes)
            if body is None:
                return self.refuse(
                    environ, start_response, 413,
                    f"The request is too large: over the limit of {self.max_bytes:,} bytes.",
                )  # fmt: skip
            if body:
                environ["wsgi.input"] = io.BytesIO(body)
                environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    @staticmethod
    def read_at_most(stream, limit: int) -> bytes | None:
        """The whole stream if it holds at most ``limit`` bytes, else None (read stops)."""
        parts, total = [], 0
        while chunk := stream.read(READ_CHUNK):
            total += len(chunk)
            if total > limit:
                return None
            parts.append(chunk)
        return b"".join(parts)

    @staticmethod
    def refuse(environ: dict, start_response: Callable, status: int, message: str):
        """Answer as Django would (JSON for JSON clients), without touching the body."""
        response: HttpResponse = errors.body_refused(WSGIRequest(environ), status, message)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return response
