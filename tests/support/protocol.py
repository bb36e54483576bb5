"""What docs/protocol.md promises, read from the doc itself: its error-code table, and the checks the socket tests
make of every error ack against it."""
from __future__ import annotations

import re

from .server import ROOT

PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
# A fault in a handler: documented so clients can show it, but never a right answer to anything a test sends.
FAULT = "internal_error"


def section(title: str) -> str:
    """The text of one `## ` section of docs/protocol.md, heading included."""
    start = PROTOCOL.index(title)
    following = PROTOCOL.find("\n## ", start + len(title))
    return PROTOCOL[start: following if following != -1 else None]


def _error_code_table() -> dict[str, set[str]]:
    """code -> how it is answered ({"ack", "connect", "HTTP 404", ...}), from the table under `## Error codes`."""
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section("## Error codes"), re.MULTILINE)
    table = {code: {part.strip() for part in answered_as.split(",")} for code, answered_as in rows}
    assert len(table) == len(rows), "a code appears twice in the error-code table"
    assert table, "no rows found in the error-code table: the pattern is out of date"
    return table


ERROR_CODES = _error_code_table()
ACK_CODES = {code for code, answered_as in ERROR_CODES.items() if "ack" in answered_as}
CONNECT_CODES = {code for code, answered_as in ERROR_CODES.items() if "connect" in answered_as}


def assert_documented_error(ack, context) -> None:
    """An error ack as docs/protocol.md describes it: ok false, a code from the table that acks may carry (never
    internal_error, which means a handler crashed), and a human message."""
    assert isinstance(ack, dict) and ack.get("ok") is False, (context, ack)
    assert ack.get("error") != FAULT, ("a handler crashed", context, ack)
    assert ack.get("error") in ACK_CODES, ("not an ack code of the error-code table", context, ack)
    assert isinstance(ack.get("message"), str) and ack["message"], (context, ack)
