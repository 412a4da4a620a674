"""Refuse requests a browser could be tricked into sending: foreign Host headers and cross-site writes.

- Host: without DASHBOARD_TOKEN only loopback names (and DASHBOARD_HOSTS) are answered, so a DNS
  rebinding page that points its own name at 127.0.0.1 reads and writes nothing. With a token,
  DASHBOARD_HOSTS (when set) lists the names the dashboard answers to.
- Writes (POST, PUT, PATCH, DELETE): a request whose Origin is another site, or that the browser
  marks `Sec-Fetch-Site: cross-site`/`same-site`, is refused; API writes take JSON bodies only,
  so a cross-site form (urlencoded, multipart, text/plain) never reaches a route.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from dashboard.security import is_loopback

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def host_name(header: str) -> str:
    """The name of a Host header value, without its port (IPv6 brackets removed)."""
    if header.startswith("["):
        return header[1 : header.find("]")].lower() if "]" in header else header.lower()
    return header.rsplit(":", 1)[0].lower() if header.count(":") == 1 else header.lower()


def host_refusal(host_header: str, *, token_set: bool, allowed: tuple[str, ...]) -> str | None:
    """Why a request with this Host header is refused, or None to let it through."""
    name = host_name(host_header)
    if name in LOOPBACK_NAMES or is_loopback(name) or name in allowed:
        return None
    if token_set and not allowed:
        return None  # the token guards every read and write; DASHBOARD_HOSTS narrows the names further
    return (
        f"Host {host_header!r} is not served here: set DASHBOARD_HOSTS to the names the dashboard "
        "answers to (loopback names are always served)."
    )


def write_refusal(request: Request, *, api: bool) -> tuple[int, str] | None:
    """(status, why) a state-changing request is refused (cross-site: 403; an API write that is not
    JSON: 415), or None."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        parts = urlsplit(origin)
        same_origin = (request.url.scheme, request.headers.get("host", "").lower())
        if (parts.scheme, parts.netloc.lower()) != same_origin:
            return 403, f"Cross-site request from {origin!r} refused."
    elif origin == "null":
        return 403, "Request from an opaque origin refused."
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return 403, "Cross-site request refused."
    if api:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = request.headers.get("content-length", "0") not in ("", "0") or (
            "transfer-encoding" in request.headers
        )
        if content_type != "application/json" and (content_type or has_body):
            return 415, "API writes take JSON bodies only (Content-Type: application/json)."
    return None
