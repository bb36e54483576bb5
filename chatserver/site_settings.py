"""Settings admins change in the browser without editing code. Defaults come from Config; saved values live in
SQLite (settings table) and are cached here so every request and socket connect reads them without a query."""
from __future__ import annotations

from dataclasses import dataclass

from . import business_hours, validation
from .config import Config, kb_threshold
from .mail import smtp_url
from .errors import InvalidPayload
from .store import Store
from .store import settings as settings_queries

HEX_COLOUR_LEN = (4, 7)


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    kind: str   # "text" | "colour" | "origins" | "bool" | "threshold" | "smtp_url" | "email" | "days" | ...
    help: str
    group: str = "site"     # "site": the Widget and site form; "email": the Email form (views/admin_email.py)


SETTINGS = [
    Setting("widget_greeting", "Widget greeting", "text", "First line visitors see when they open the chat."),
    Setting("widget_colour", "Widget colour", "colour", "Accent colour of the launcher and header, e.g. #2457d6."),
    Setting("allowed_origins", "Allowed origins", "origins",
            "Sites that may embed the widget, comma-separated (https://shop.example.com); empty for none but this "
            "server's own pages, * for any site (not recommended)."),
    Setting("business_hours", "Business hours", "text", "Shown to visitors when no agent is online."),
    Setting("survey_enabled", "Post-chat survey", "bool", "Ask visitors for CSAT/CES after each chat."),
    Setting("survey_nps_enabled", "NPS question in the survey", "bool", "Also ask how likely they are to recommend us."),
    Setting("kb_threshold", "Bot confidence threshold", "threshold",
            "Leave empty to let the bot choose it from the knowledge base on every change (shown on Admin → "
            "Knowledge base); a number from 0.01 to 0.99 fixes it: higher, fewer but surer suggestions."),
    Setting("smtp_url", "SMTP server", "smtp_url",
            "smtp://user:password@host:587 (STARTTLS when offered), add ?starttls=require to insist on it, or "
            "smtps://user:password@host:465 (TLS). Empty: no email is sent.", group="email"),
    Setting("email_from", "From address", "email", "The sender of every email, e.g. support@example.com.",
            group="email"),
    Setting("hours_timezone", "Time zone", "timezone", "The time zone of the schedule, e.g. Europe/Berlin.",
            group="hours"),
    Setting("hours_schedule", "Weekly schedule", "schedule",
            "One line per day or days: Mon-Fri 09:00-12:00, 13:00-18:00 / Sat 10:00-14:00. Empty: open around "
            "the clock.", group="hours"),
    Setting("hours_holidays", "Holidays", "holidays", "One per line: 2026-12-25 Christmas Day. Closed all day.",
            group="hours"),
    Setting("quality_enabled", "Measure each visitor's experience", "bool",
            "Record connection quality, delivery times and waits per conversation for the quality reports "
            "(docs/quality.md says what is stored). Off: nothing is measured or stored."),
    Setting("identity_secret", "Identity verification secret", "text",
            "Your site's server signs a signed-in customer's id with this secret (HMAC-SHA256) and passes the signature "
            "to ChatWidget.identify: that customer is then the same visitor on every device (docs/widget.md). Empty: "
            "no identity is verified. Keep it on your server; change it to revoke every signature."),
    Setting("retention_days", "Keep conversations for (days)", "days",
            "Conversations closed longer ago than this are anonymised once a day: their messages, comments and "
            "page addresses are erased, the reports keep their counts (docs/privacy.md). 0 keeps them."),
    Setting("attachment_retention_days", "Keep attachments for (days)", "days",
            "Files sent longer ago than this are deleted once a day (the file and its thumbnail); the message "
            "stays in the history as \"file removed\" (docs/privacy.md). 0 keeps them."),
    Setting("audit_retention_days", "Keep the audit log for (days)", "days",
            "Audit log entries older than this are deleted once a day (docs/admin.md, \"Audit log\"). 0 keeps "
            "them for as long as the database."),
    Setting("webhooks_allow_private", "Webhooks to internal addresses", "bool",
            "Allow webhook URLs on loopback, link-local and private networks (10.x, 192.168.x, 127.0.0.1...). Off "
            "unless the receiver runs inside your network on purpose: a webhook could otherwise reach internal "
            "services."),
]


def defaults(config: Config) -> dict:
    return {
        "widget_greeting": "Hi! Ask us anything. Our assistant answers right away.",
        "widget_colour": "#2457d6",
        "allowed_origins": list(config.allowed_origins),
        "business_hours": "Mon-Fri, 9:00-18:00 CET",
        "survey_enabled": True,
        "survey_nps_enabled": True,
        "kb_threshold": config.kb_threshold,
        "smtp_url": config.smtp_url,
        "email_from": config.email_from,
        "hours_timezone": "UTC",
        "hours_schedule": "",
        "hours_holidays": "",
        "quality_enabled": config.quality_enabled,
        "identity_secret": "",
        "retention_days": 0,
        "attachment_retention_days": 0,
        "audit_retention_days": 0,
        "webhooks_allow_private": False,
    }


def clean(name: str, value: object) -> object:
    """Validate one setting value; raises InvalidPayload naming the field."""
    setting = next((s for s in SETTINGS if s.name == name), None)
    if setting is None:
        raise InvalidPayload(f"unknown setting '{name}'", code="unknown_setting")
    if setting.kind == "bool":
        if isinstance(value, str):
            value = value.lower() in ("1", "true", "on", "yes")
        if not isinstance(value, bool):
            raise InvalidPayload(f"'{name}' must be true or false")
        return value
    if setting.kind == "threshold":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None         # calibrated
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InvalidPayload(f"'{name}' must be a number from 0.01 to 0.99, or empty", code="invalid_threshold")
        try:
            return kb_threshold(str(value))
        except ValueError:
            raise InvalidPayload(f"'{name}' must be a number from 0.01 to 0.99, or empty",
                                 code="invalid_threshold") from None
    if setting.kind == "origins":
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list):
            raise InvalidPayload(f"'{name}' must be a list of origins")
        origins = []
        for item in items:
            item = str(item).strip().rstrip("/")
            if not item:
                continue
            if item != "*" and not (item.startswith(("http://", "https://")) and "/" not in item.split("://", 1)[1]):
                raise InvalidPayload(f"'{item}' is not an origin like https://shop.example.com", code="invalid_origin")
            origins.append(item)
        return origins   # none: only this server's own pages
    if setting.kind == "days":
        if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 7:
            value = int(value.strip())
        elif isinstance(value, str) and not value.strip():
            value = 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36500:
            raise InvalidPayload(f"'{name}' must be a number of days (0 to 36500)", code="out_of_range")
        return value
    if not isinstance(value, str):
        raise InvalidPayload(f"'{name}' must be text")
    value = value.strip()
    if setting.kind == "smtp_url":
        if value:
            try:
                smtp_url.parse(value)
            except smtp_url.BadSmtpUrl as exc:
                raise InvalidPayload(f"'{name}': {exc}", code="invalid_smtp_url") from None
        return value
    if setting.kind == "email":
        if value and not validation.EMAIL_RE.match(value):
            raise InvalidPayload(f"'{name}' must be an address like support@example.com", code="invalid_email")
        return value
    if setting.kind == "colour":
        ok = value.startswith("#") and len(value) in HEX_COLOUR_LEN and all(c in "0123456789abcdefABCDEF" for c in value[1:])
        if not ok:
            raise InvalidPayload(f"'{name}' must be a colour like #2457d6", code="invalid_colour")
        return value
    if setting.kind in ("timezone", "schedule", "holidays"):
        try:
            {"timezone": business_hours.parse_zone, "schedule": business_hours.parse_schedule,
             "holidays": business_hours.parse_holidays}[setting.kind](value)
        except business_hours.BadHours as exc:
            raise InvalidPayload(f"'{name}': {exc}", code="invalid_hours") from None
        if len(value) > 20000:
            raise InvalidPayload(f"'{name}' is longer than 20000 characters", code="text_too_long")
        return value or ("UTC" if setting.kind == "timezone" else "")
    if len(value) > 500:
        raise InvalidPayload(f"'{name}' is longer than 500 characters", code="text_too_long")
    return value


class SiteSettings:
    def __init__(self, config: Config, store: Store):
        self.config = config
        self._store = store
        self._values = defaults(config)

    async def load(self) -> None:
        self._values.update(await self._store.read(settings_queries.all_settings))

    def get(self, name: str):
        return self._values[name]

    def all(self) -> dict:
        return dict(self._values)

    async def update(self, changes: dict, also=None) -> dict:
        """Save the changes; `also(db)` runs in the same transaction (the audit entry)."""
        cleaned = {name: clean(name, value) for name, value in changes.items()}

        def save(db):
            saved = settings_queries.save_settings(db, cleaned)
            if also is not None:
                also(db)
            return saved

        await self._store.write(save)
        self._values.update(cleaned)
        return self.all()
