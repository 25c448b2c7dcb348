"""The client's address, the one way every part of the platform reads it (login lockout, throttling, audit).

Without a reverse proxy it is REMOTE_ADDR. With BEHIND_PROXY=True, X-Forwarded-For is trusted for exactly
PROXY_COUNT hops: nginx's `$proxy_add_x_forwarded_for` appends the address it saw, so the client is the
PROXY_COUNT-th entry from the right. Entries further left were written by the client and are ignored (a
forged header cannot pick another address), and a header shorter than the proxy chain falls back to
REMOTE_ADDR (the request did not come through all the proxies).
"""

import ipaddress

from django.conf import settings


def _valid(ip: str) -> str | None:
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The address, or None when the request carries none (Django's force_login makes a bare request)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "PROXY_COUNT", 0) if getattr(settings, "BEHIND_PROXY", False) else 0
    if count > 0:
        hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            found = _valid(hops[-count])
            if found:
                return found
    return _valid(remote)
