"""Mail addresses and header values, checked before anything is sent."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.utils import parseaddr

from domain.errors import InvalidArgument

#: local@domain.tld, with the characters RFC 5322 allows unquoted in the local part.
ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def check_header(value: str, name: str) -> str:
    """`value` unchanged, or InvalidArgument if it could inject a header (CR or LF)."""
    if "\r" in value or "\n" in value:
        raise InvalidArgument(f"The {name} {value!r} contains a line break; header injection refused.")
    return value


def parse_address(value: str, *, display_name: str = "") -> Address:
    """A validated address (with an optional display name); InvalidArgument names what is wrong."""
    check_header(value, "address")
    check_header(display_name, "display name")
    name, email = parseaddr(value)
    bare = value.strip()
    written_as_parsed = bare == email or bare.endswith(f"<{email}>")
    if not email or "," in bare or not written_as_parsed or not ADDRESS.match(email):
        raise InvalidArgument(f"{value!r} is not a valid email address.")
    local, _, domain = email.rpartition("@")
    return Address(display_name=display_name or name, username=local, domain=domain)
