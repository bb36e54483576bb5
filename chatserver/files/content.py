"""What an uploaded file is, read from its bytes: `filetype` (magic numbers) names the type; only the allowed
types pass, whatever the name or the Content-Type the client claimed. Text formats (SVG, HTML, scripts) have no
magic number, so they are never recognised and never accepted. Images must also decode with Pillow (a file that
only starts like a PNG is refused) and get a PNG thumbnail."""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import filetype
from PIL import Image

from ..errors import InvalidAttachment

THUMBNAIL_SIZE = (320, 320)
MAX_IMAGE_PIXELS = 40_000_000       # larger images (decompression bombs among them) are refused
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class Inspected:
    content_type: str
    extension: str
    is_image: bool


def inspect_upload(data: bytes, allowed: list[str], max_bytes: int) -> Inspected:
    if not data:
        raise InvalidAttachment("the file is empty", code="attachment_empty")
    if len(data) > max_bytes:
        raise InvalidAttachment(f"the file is larger than {max_bytes // 1024} KB", code="attachment_too_large")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in allowed:
        found = kind.mime if kind else "not a known file type"
        raise InvalidAttachment(f"this type of file cannot be sent ({found}); allowed: {', '.join(allowed)}",
                                code="attachment_type_not_allowed")
    is_image = kind.mime in IMAGE_TYPES
    if is_image:
        _check_image(data)
    return Inspected(kind.mime, kind.extension, is_image)


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise InvalidAttachment("the image is too large", code="attachment_unreadable")
        return image


def _check_image(data: bytes) -> None:
    try:
        image = _open(data)
        image.verify()
    except InvalidAttachment:
        raise
    except Exception:
        raise InvalidAttachment("the image could not be read", code="attachment_unreadable") from None


def thumbnail(data: bytes) -> tuple[bytes, int, int]:
    """(PNG thumbnail at most 320x320, the image's width, height)."""
    try:
        image = _open(data)
        width, height = image.size
        image.seek(0)
        image = image.convert("RGBA") if image.mode in ("P", "LA", "RGBA") else image.convert("RGB")
        image.thumbnail(THUMBNAIL_SIZE)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        return out.getvalue(), width, height
    except InvalidAttachment:
        raise
    except Exception:
        raise InvalidAttachment("the image could not be read", code="attachment_unreadable") from None
