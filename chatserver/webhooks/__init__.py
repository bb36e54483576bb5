"""Sending webhooks over HTTP (docs/webhooks.md): the signature, the address guard and the aiohttp client. The
outbox, retries, order and pausing are the domain's (chatserver/desk/webhooks.py); this package only sends."""
from .sender import WebhookSender, sign

__all__ = ["WebhookSender", "sign"]
