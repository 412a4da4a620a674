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


def redact(value: Any) -> Any:
    """A copy of `value` in which every mapping entry with a secret-looking key is replaced by ***."""
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
