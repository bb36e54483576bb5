"""Attachment files: where their bytes live (`storage`: an interface, files under the data dir for now) and what
they really are (`content`: the type read from the bytes with `filetype`, never from the name; thumbnails with
Pillow). No database, no HTTP: the operations in chatserver/desk/attachments.py use both."""
from .content import Inspected, inspect_upload, thumbnail
from .storage import FileStorage, LocalFileStorage

__all__ = ["FileStorage", "Inspected", "LocalFileStorage", "inspect_upload", "thumbnail"]
