"""Make an API token the way an admin does: the Admin → API tokens form, the secret read from the page once."""
from __future__ import annotations

import html
import re


async def make_token(admin, name: str = "integration", scope: str = "read") -> str:
    status, page, _ = await admin.post_form("/admin/tokens", {"name": name, "scope": scope})
    assert status == 200, page[:500]
    found = re.search(r'<code class="ad-secret" id="new-token">([^<]+)</code>', page)
    assert found, page[:2000]
    return html.unescape(found.group(1))


def token_id_on_page(page: str, name: str) -> int:
    found = re.search(r'<tr data-token-id="(\d+)"[^>]*>\s*<td class="ad-strong">' + re.escape(name) + "</td>", page)
    assert found, page[:2000]
    return int(found.group(1))
