"""Where a login may send the browser next: only a path on this site.

Browsers are lenient with URLs: they drop tabs and newlines anywhere (`/\t/evil.example` becomes
`//evil.example`), read a backslash as a slash (`/\\evil.example`), and take `//host` as another site. So a
target is accepted only when it is written in the plain URL characters of a path (and query) that starts with a
single `/`; anything else falls back to the console.
"""
from __future__ import annotations

import re

DEFAULT = "/console"
# One "/" not followed by "/" or "\", then only unreserved, reserved-but-harmless and %-escape characters.
_SAME_SITE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*")


def same_site_path(target: object, default: str = DEFAULT) -> str:
    """`target` when it is a path on this site, else `default`."""
    if isinstance(target, str) and len(target) <= 2000 and _SAME_SITE_PATH.fullmatch(target):
        return target
    return default
