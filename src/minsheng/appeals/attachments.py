"""Checking uploaded files: the type is read from the content, never from the name, and
images are re-encoded so that metadata such as GPS positions never reaches the disk."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import filetype
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 6
MAX_PIXELS = 40_000_000
ALLOWED = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


class AttachmentRejected(ValueError):
    pass


@dataclass(frozen=True)
class CleanFile:
    content: ContentFile
    original_name: str
    content_type: str
    extension: str
    sha256: str
    size: int


def _strip_image(data: bytes, content_type: str) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise AttachmentRejected(_("图片尺寸过大"))
            # Keep the orientation the EXIF gave before the EXIF goes.
            picture: Image.Image = ImageOps.exif_transpose(image)
            fmt = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[content_type]
            if fmt == "JPEG" and picture.mode not in ("RGB", "L"):
                picture = picture.convert("RGB")
            out = io.BytesIO()
            # Re-encoding without exif=/pnginfo= drops every metadata block.
            picture.save(out, format=fmt, quality=88)
            return out.getvalue()
    except (OSError, Image.DecompressionBombError, SyntaxError) as exc:
        raise AttachmentRejected(_("图片文件已损坏或无法识别")) from exc


def clean(upload: UploadedFile) -> CleanFile:
    if upload.size is not None and upload.size > MAX_BYTES:
        raise AttachmentRejected(_("单个附件不能超过10MB"))
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise AttachmentRejected(_("单个附件不能超过10MB"))
    if not data:
        raise AttachmentRejected(_("附件为空"))
    kind = filetype.guess(data)
    content_type = kind.mime if kind else ""
    if content_type not in ALLOWED:
        raise AttachmentRejected(_("只能上传 JPG、PNG、WebP 图片或 PDF 文件"))
    if content_type.startswith("image/"):
        data = _strip_image(data, content_type)
    digest = hashlib.sha256(data).hexdigest()
    name = (upload.name or "file")[-200:]
    return CleanFile(
        ContentFile(data), name, content_type, ALLOWED[content_type], digest, len(data)
    )
