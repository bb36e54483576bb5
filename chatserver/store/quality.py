"""Per-conversation quality records (docs/quality.md): what the widget measured, replaced by each `quality`
report, and what the server counted (disconnects of the visitor's sockets, the first wait estimate shown)."""
from __future__ import annotations

from sqlite_utils import Database

WIDGET_FIELDS = ("connect_ms", "reconnects", "offline_seconds", "ack_p50_ms", "ack_p95_ms", "ack_max_ms", "acks",
                 "resends", "not_sent", "delivery_p50_ms", "delivery_p95_ms", "delivery_max_ms", "clock_offset_ms",
                 "hidden_replies", "replies", "unsent")
COUNT_DEFAULTS = {name: 0 for name in ("reconnects", "offline_seconds", "acks", "resends", "not_sent", "hidden_replies",
                                       "replies", "unsent")}


def save_widget_report(db: Database, conversation_id: int, figures: dict, now: float) -> dict:
    columns = ", ".join(WIDGET_FIELDS)
    marks = ", ".join("?" for _ in WIDGET_FIELDS)
    updates = ", ".join(f"{name} = excluded.{name}" for name in WIDGET_FIELDS)
    db.execute(f"INSERT INTO quality_records (conversation_id, {columns}, reports, updated_at) "
               f"VALUES (?, {marks}, 1, ?) ON CONFLICT (conversation_id) DO UPDATE SET {updates}, "
               f"reports = quality_records.reports + 1, updated_at = excluded.updated_at",
               [conversation_id, *[figures.get(name, COUNT_DEFAULTS.get(name)) for name in WIDGET_FIELDS], now])
    return get_record(db, conversation_id)


def count_disconnect(db: Database, visitor_id: str, now: float) -> int | None:
    """One more dropped socket of the visitor during their open conversation; its id, or None without one."""
    row = db.execute("SELECT id FROM conversations WHERE visitor_id = ? AND status != 'closed' ORDER BY id DESC LIMIT 1",
                     [visitor_id]).fetchone()
    if row is None:
        return None
    db.execute("INSERT INTO quality_records (conversation_id, server_disconnects, updated_at) VALUES (?, 1, ?) "
               "ON CONFLICT (conversation_id) DO UPDATE SET server_disconnects = quality_records.server_disconnects + 1, "
               "updated_at = excluded.updated_at", [row["id"], now])
    return row["id"]


def note_estimates(db: Database, estimates: list[tuple[int, float]], now: float) -> None:
    """The first wait estimate each waiting visitor was shown (the promise); later ones leave it."""
    for conversation_id, seconds in estimates:
        db.execute("INSERT INTO quality_records (conversation_id, queue_estimate_seconds, updated_at) VALUES (?, ?, ?) "
                   "ON CONFLICT (conversation_id) DO UPDATE SET queue_estimate_seconds = "
                   "COALESCE(quality_records.queue_estimate_seconds, excluded.queue_estimate_seconds)",
                   [conversation_id, seconds, now])


def get_record(db: Database, conversation_id: int) -> dict | None:
    row = db.execute("SELECT * FROM quality_records WHERE conversation_id = ?", [conversation_id]).fetchone()
    return dict(row) if row else None


# -- privacy (store/privacy.py): measures, not content: exported, kept for the reports' counts ---------------------

def _export_quality(db, _visitor_id, ids):
    return privacy.rows(db, "SELECT * FROM quality_records WHERE conversation_id IN ({ids}) "
                            "ORDER BY conversation_id", ids)


def _keep_quality(_db, _visitor_id, _ids):
    return 0        # timings and counts only (docs/quality.md): the quality report's figures stay whole


from . import privacy  # noqa: E402  (privacy imports this module to register the part below)

privacy.register(privacy.PrivacyPart("quality", _export_quality, _keep_quality))
