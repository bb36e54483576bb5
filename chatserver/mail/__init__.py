"""Email as an adapter at the edge of the help desk: the SMTP URL, composing the emails (multipart, threaded,
escaped), and sending them with aiosmtplib. No policy here: what to send and when is chatserver/desk/outbox.py."""
