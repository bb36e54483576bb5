"""Which web origins may open visitor chats: the server's own pages, plus the sites allowed to embed the widget
(CHAT_ALLOWED_ORIGINS, changeable in the admin settings). Used by the Engine.IO transport check and by the
widget's config endpoint. The agent namespace narrows this to same-origin only."""
from __future__ import annotations

from .site_settings import SiteSettings


def origin_checker(settings: SiteSettings):
    def check(origin, environ=None) -> bool:
        if origin is None:
            return True
        allowed = settings.get("allowed_origins")
        if "*" in allowed or origin.rstrip("/") in allowed:
            return True
        host = (environ or {}).get("HTTP_HOST")
        return bool(host) and origin in (f"http://{host}", f"https://{host}")

    return check
