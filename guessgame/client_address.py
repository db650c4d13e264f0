"""The address of the client a request came from, through our own proxies only.

Behind a proxy REMOTE_ADDR is the proxy, so rate limits and lock-out keyed on it put
every player in one bucket. Each proxy appends the address it was reached from to
X-Forwarded-For, and a client can write anything to the left of that; so with
settings.TRUSTED_PROXIES = N the client is the N-th entry from the right, and with 0
(no proxy) the header is never read. django-ratelimit (RATELIMIT_IP_META_KEY) and
django-axes (AXES_CLIENT_IP_CALLABLE) both call ``client_ip``.
"""

from __future__ import annotations

import ipaddress
import logging

from django.conf import settings
from django.http import HttpRequest

log = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or the entry our proxies vouch for."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXIES
    if hops <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [entry for entry in forwarded if entry]
    if not forwarded:
        return remote  # reached us without passing a proxy
    # Fewer entries than proxies: all of them were written by our proxies, the leftmost
    # one by the proxy the client reached.
    candidate = forwarded[-min(hops, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        log.warning("event=bad_forwarded_for entry=%r", candidate[:64])
        return remote
