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


#: Every character some mail or text parser takes for a line break: CR, LF, VT, FF, FS, GS, RS,
#: NEL and the Unicode line and paragraph separators.
LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029")
#: An RFC 2047 encoded word: Python's email package decodes it, and what it decodes to is not checked.
ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?")
#: The longest value of each header kind; the subject is stored in the mail outbox (500 characters).
MAX_LENGTHS = {"subject": 500, "address": 254, "display name": 200}


def check_header(value: str, name: str) -> str:
    """`value` unchanged, or InvalidArgument if it could inject a header or is too long to keep.

    Refused: any line-break character, any other control character (NUL included), and RFC 2047
    encoded words, which the email package would decode into text that was never checked.
    """
    if not isinstance(value, str):
        raise InvalidArgument(f"The {name} must be text, not {type(value).__name__} {value!r:.80}.")
    if any(char in LINE_BREAKS for char in value):
        raise InvalidArgument(f"The {name} {value!r:.120} contains a line break; header injection refused.")
    if not value.isprintable():
        raise InvalidArgument(f"The {name} {value!r:.120} contains a control character.")
    if ENCODED_WORD.search(value):
        raise InvalidArgument(
            f"The {name} {value!r:.120} contains an RFC 2047 encoded word; write the text itself instead."
        )
    limit = MAX_LENGTHS.get(name)
    if limit is not None and len(value) > limit:
        raise InvalidArgument(f"The {name} is {len(value)} characters long; at most {limit} are allowed.")
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
