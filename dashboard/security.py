"""Who may look and act: the token, a signed session cookie, CSRF tokens, and security headers."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, TimestampSigner

SESSION_COOKIE = "bookjobs_session"
CSRF_COOKIE = "bookjobs_csrf"
SESSION_SECONDS = 12 * 3600
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class NotLoggedIn(Exception):
    """A page was asked for without a valid session: the login page answers instead."""


class Guard:
    """Checks requests against DASHBOARD_TOKEN; with no token set, everyone on loopback may enter."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        secret = hashlib.sha256(f"bookjobs-dashboard:{token or secrets.token_hex(16)}".encode()).digest()
        self._signer = TimestampSigner(secret, salt="session")
        self._csrf_key = hashlib.sha256(secret + b":csrf").digest()

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def check_token(self, candidate: str) -> bool:
        return self.token is not None and hmac.compare_digest(candidate.encode(), self.token.encode())

    def session_cookie(self) -> str:
        # A random part per login, so two sessions never share a cookie (nor a CSRF token).
        return self._signer.sign(f"operator.{secrets.token_hex(16)}").decode()

    def has_session(self, request: Request) -> bool:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return False
        try:
            self._signer.unsign(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return False
        return True

    def session_csrf(self, request: Request) -> str | None:
        """The CSRF token bound to this browser's session, or None without a valid session."""
        if not self.enabled or not self.has_session(request):
            return None
        cookie = request.cookies[SESSION_COOKIE].encode()
        return hmac.new(self._csrf_key, cookie, hashlib.sha256).hexdigest()

    def bearer_ok(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.check_token(credentials.strip())

    def require_page(self, request: Request) -> None:
        """Pages: a session cookie (or the bearer token) when a token is set."""
        if self.enabled and not (self.has_session(request) or self.bearer_ok(request)):
            raise NotLoggedIn()

    def require_api(self, request: Request) -> None:
        """API: the bearer token (or a browser session) when a token is set."""
        if self.enabled and not (self.bearer_ok(request) or self.has_session(request)):
            raise HTTPException(
                401,
                "Missing or wrong bearer token: send 'Authorization: Bearer <DASHBOARD_TOKEN>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser: bound to its session when logged in (a token stolen from
    another session is worthless), else double-submit (a cookie and the same value in every form)."""
    bound = request.app.state.dashboard.guard.session_csrf(request)
    if bound is not None:
        return bound
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if token is None:
        token = request.state.new_csrf = secrets.token_urlsafe(32)  # the middleware sets the cookie
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    expected = request.app.state.dashboard.guard.session_csrf(request) or request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise HTTPException(403, "CSRF check failed: reload the page and try again.")


def require_json(request: Request) -> None:
    """API writes must be JSON: a cross-site form cannot send that without the browser asking first."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "Send the request body as JSON (Content-Type: application/json).")


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
