"""Request bodies over the limit are refused before they are read (guessgame/body_limit.py).

These call the WSGI application gunicorn serves (guessgame.wsgi.application), with a body
stream that counts what is read and fails the test if read past what is allowed.
"""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.conf import settings
from django.core.signals import request_started
from django.db import close_old_connections

from guessgame.wsgi import application

HUNDRED_MB = 100 * 1024 * 1024
CSRF_SECRET = "a" * 32  # a well-formed csrftoken cookie; the same value as the header


class BodyStream:
    """A request body of ``size`` bytes that counts reads and must not pass ``allowed``."""

    def __init__(self, size: int, *, allowed: int) -> None:
        self.size = size
        self.allowed = allowed
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        left = self.size - self.consumed
        size = left if size is None or size < 0 else min(size, left)
        if self.consumed + size > self.allowed:
            raise AssertionError(f"read past {self.allowed:,} bytes of the body")
        self.consumed += size
        return b"x" * size

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def call(path: str, body, *, content_length: int | None, accept: str = "*/*", **extra):
    """Send one request through the WSGI application: (status, headers, body bytes)."""
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1", "HTTP_ACCEPT": accept,
        "HTTP_COOKIE": f"csrftoken={CSRF_SECRET}", "HTTP_X_CSRFTOKEN": CSRF_SECRET,
        "CONTENT_TYPE": "multipart/form-data; boundary=xyz",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": body,
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **extra,
    }  # fmt: skip
    if content_length is not None:
        environ["CONTENT_LENGTH"] = str(content_length)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer.update(status=int(status.split()[0]), headers=dict(headers))

    # As Django's test client does: keep the test's database connection open.
    request_started.disconnect(close_old_connections)
    try:
        content = b"".join(application(environ, start_response))
    finally:
        request_started.connect(close_old_connections)
    return answer["status"], answer["headers"], content


@pytest.mark.parametrize(
    "path,accept",
    [
        ("/guess", "application/json"),
        ("/rounds/1/submit", "application/json"),
        ("/api/v1/predict", "*/*"),
        ("/accounts/login", "text/html"),
    ],
)
def test_a_declared_100_mb_body_is_refused_before_a_byte_is_read(path, accept):
    body = BodyStream(HUNDRED_MB, allowed=0)

    status, headers, content = call(path, body, content_length=HUNDRED_MB, accept=accept)

    assert status == 413
    assert body.consumed == 0
    if accept == "text/html":
        assert headers["Content-Type"].startswith("text/html")
        assert b"The request is too large: 104,857,600 bytes" in content
    else:
        assert headers["Content-Type"] == "application/json"
        assert "too large" in json.loads(content)["error"]


def test_a_chunked_body_is_cut_off_at_the_limit():
    limit = settings.REQUEST_MAX_BYTES
    body = BodyStream(HUNDRED_MB, allowed=limit + 64 * 1024)  # one read past the limit

    status, _, content = call(
        "/guess", body, content_length=None, accept="application/json",
        HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input_terminated": True},
    )  # fmt: skip

    assert status == 413
    assert limit < body.consumed <= limit + 64 * 1024
    assert f"over the limit of {limit:,} bytes" in json.loads(content)["error"]


def test_a_chunked_body_within_the_limit_reaches_the_view():
    """Without its length Django would read nothing and call the drawing empty."""
    status, _, content = call(
        "/api/v1/predict", io.BytesIO(b"not a picture"), content_length=None,
        CONTENT_TYPE="image/png", HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input_terminated": True},
    )  # fmt: skip

    assert status == 400
    assert "not an image we can read" in json.loads(content)["error"]


def test_a_form_within_the_limit_is_read_as_usual():
    form = b'--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--xyz--\r\n'

    status, _, content = call(
        "/guess", io.BytesIO(form), content_length=len(form), accept="application/json"
    )

    assert status == 400  # read, past the CSRF check, and no file in it
    assert json.loads(content)["error"] == "Send the drawing as a PNG file named 'image'."


def test_a_content_length_that_is_not_a_number_is_a_400():
    status, _, content = call(
        "/api/v1/predict", BodyStream(10, allowed=0), content_length=None, CONTENT_LENGTH="ten"
    )

    assert status == 400
    assert json.loads(content)["error"] == "The Content-Length header is not a number."
