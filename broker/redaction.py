"""Hide secret values before they reach the ledger, the logs or the dashboard."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

SECRET_KEY = re.compile(r"token|passw|secret|api[_-]?key|credential|authorization|cookie", re.IGNORECASE)
REDACTED = "***"


@lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True when a key or parameter named `name` is likely to hold a secret."""
    return bool(SECRET_KEY.search(name))


#: Secrets inside a text value: a URL's password, a secret-named query parameter, an HTTP credential.
SECRET_IN_TEXT = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)"
    r"|(?P<param>[?&;][^=&\s]*(?:token|passw|secret|api[_-]?key|signature|auth)[^=&\s]*=)[^&\s#]+"
    r"|(?P<credential>\b(?:Basic|Bearer|Token)\s+)[A-Za-z0-9+/=._~-]{6,}",
    re.IGNORECASE,
)
#: Characters every text that SECRET_IN_TEXT could match contains; others skip the regex.
_SECRET_HINTS = ("@", "=", "Basic", "Bearer", "Token", "basic", "bearer", "token")


def redact_text(text: str) -> str:
    """`text` with URL passwords, secret query parameters and Basic/Bearer credentials replaced by ***."""
    if not any(hint in text for hint in _SECRET_HINTS):
        return text
    return SECRET_IN_TEXT.sub(
        lambda m: (m.group("scheme") or m.group("param") or m.group("credential")) + REDACTED, text
    )


def redact(value: Any) -> Any:
    """A copy of `value` in which every mapping entry with a secret-looking key, and every secret
    inside a text (see `redact_text`), is replaced by ***. Recursive: a body nested deeper than
    broker.envelope.MAX_DEPTH never gets here, it is refused at the boundary."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and is_secret_name(key) else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_args(args: Sequence[Any], parameter_names: Sequence[str]) -> list[Any]:
    """Positional arguments with those bound to secret-looking parameter names replaced by ***."""
    secret = secret_positions(tuple(parameter_names))
    return [REDACTED if index in secret else redact(arg) for index, arg in enumerate(args)]


@lru_cache(maxsize=1024)
def secret_positions(parameter_names: tuple[str, ...]) -> frozenset[int]:
    """The positions among `parameter_names` whose arguments are secrets."""
    return frozenset(index for index, name in enumerate(parameter_names) if is_secret_name(name))
