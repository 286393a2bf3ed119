"""Uploaded files: checked by their content, stored under the checked type, served so that nothing in
them can run on the application's origin.

A steward's "photo" may be an HTML page or an SVG with a script (sent as ``image/jpeg``); served back
inline as ``text/html`` it would run for whoever opens the case. So:

* ``check_upload`` reads the first bytes (and, for pictures, decodes them with Pillow) and accepts only
  the formats evidence needs — JPEG, PNG, GIF, WebP, HEIC pictures, PDF, MP3/M4A/AMR/WAV recordings.
  The name and the browser's declared type count for nothing; HTML, SVG, scripts and the rest are
  refused with a message that says what is accepted;
* ``stored_name`` gives the stored file the extension of the checked type;
* ``file_response`` checks the stored bytes again when serving (files stored before this check are
  covered too) and answers with the checked type, inline only for pictures browsers show and PDF,
  as a download for everything else, with ``X-Content-Type-Options: nosniff`` and a sandboxing
  Content-Security-Policy; ``protect`` adds the same headers to other downloads.

``check_request_files`` bounds how many files and how many bytes one request may carry (besides
Django's ``DATA_UPLOAD_MAX_NUMBER_FILES`` and ``core.uploads.BoundedUploadHandler``, which refuse a
request before it is read).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse, HttpResponseBase

from wuye.core.errors import ValidationFailed

SANDBOX_CSP = "sandbox; default-src 'none'"
HEAD_BYTES = 64
MB = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    label: str
    content_type: str
    extension: str
    inline: bool  # shown in the browser (pictures it can show, PDF); anything else downloads
    picture: bool = False  # decoded with Pillow when checked


JPEG = FileKind("JPEG 图片", "image/jpeg", "jpg", True, True)
PNG = FileKind("PNG 图片", "image/png", "png", True, True)
GIF = FileKind("GIF 图片", "image/gif", "gif", True, True)
WEBP = FileKind("WebP 图片", "image/webp", "webp", True, True)
HEIC = FileKind("HEIC 图片（苹果手机）", "image/heic", "heic", False)
PDF = FileKind("PDF 文件", "application/pdf", "pdf", True)
MP3 = FileKind("MP3 录音", "audio/mpeg", "mp3", False)
M4A = FileKind("M4A 录音", "audio/mp4", "m4a", False)
AMR = FileKind("AMR 录音", "audio/amr", "amr", False)
WAV = FileKind("WAV 录音", "audio/wav", "wav", False)
UNKNOWN = FileKind("文件", "application/octet-stream", "bin", False)

EVIDENCE = (JPEG, PNG, GIF, WEBP, HEIC, PDF, MP3, M4A, AMR, WAV)
ACCEPTED_TEXT = "JPEG、PNG、GIF、WebP、HEIC 图片，PDF 文件，MP3、M4A、AMR、WAV 录音"
# For <input type=file accept=…>: a hint to the phone's picker; the server checks the content.
EVIDENCE_ACCEPT = (
    "image/jpeg,image/png,image/gif,image/webp,image/heic,.heic,application/pdf,audio/*"
)

_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_M4A_BRANDS = {b"M4A ", b"M4B ", b"mp41", b"mp42", b"isom", b"iso2", b"3gp4", b"3gp5", b"3g2a"}


def sniff(head: bytes) -> FileKind | None:
    """The format the first bytes of a file announce, among those accepted; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return AMR
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return HEIC
        if brand in _M4A_BRANDS:
            return M4A
        return None
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return MP3  # an ID3 tag, or an MPEG audio frame header
    return None


def _refused(name: str, field: str) -> ValidationFailed:
    return ValidationFailed(
        f"「{name}」的内容不是可接受的证据格式，已拒收。只接受 {ACCEPTED_TEXT}"
        "（按文件内容判断，与文件名和扩展名无关；网页、SVG 等文件不能作为附件）",
        field=field,
        code="upload.refused_type",
    )


def _picture_decodes(upload) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(upload) as picture:
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    finally:
        upload.seek(0)
    return True


def check_upload(
    upload, *, field: str, allowed: Sequence[FileKind] = EVIDENCE, max_bytes: int | None = None
) -> FileKind:
    """The checked type of ``upload`` or ``ValidationFailed``; leaves the file at its start."""
    name = display_name(upload.name)
    limit = max_bytes or settings.WUYE_UPLOAD_MAX_FILE_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationFailed(
            f"「{name}」超过 {limit // MB} MB，不能上传", field=field, code="upload.too_big"
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = sniff(head)
    if kind is None or kind not in allowed:
        raise _refused(name, field)
    if kind.picture and not _picture_decodes(upload):
        raise _refused(name, field)
    return kind


def check_request_files(uploads: Sequence, *, field: str) -> None:
    """At most ``WUYE_UPLOAD_MAX_FILES`` files and ``WUYE_UPLOAD_MAX_REQUEST_BYTES`` together."""
    most = settings.WUYE_UPLOAD_MAX_FILES
    if len(uploads) > most:
        raise ValidationFailed(
            f"一次最多上传 {most} 个文件，本次选择了 {len(uploads)} 个",
            field=field,
            code="upload.too_many",
        )
    total = sum(u.size or 0 for u in uploads)
    limit = settings.WUYE_UPLOAD_MAX_REQUEST_BYTES
    if total > limit:
        raise ValidationFailed(
            f"一次上传的文件合计不能超过 {limit // MB} MB（本次约 {total / MB:.0f} MB）",
            field=field,
            code="upload.too_big",
        )


def display_name(name: str | None) -> str:
    """The user's file name without any folder, control characters or quotes (for pages and logs)."""
    base = os.path.basename((name or "").replace("\\", "/"))
    return re.sub(r'[\x00-\x1f\x7f"<>]', "", base)[:150] or "附件"


def stored_name(name: str | None, kind: FileKind) -> str:
    """``name`` with the extension of the checked type: ``证据.html`` checked as JPEG → ``证据.jpg``."""
    stem = os.path.splitext(display_name(name))[0] or "附件"
    stem = re.sub(r"[^\w\-\u4e00-\u9fff]", "_", stem)[:80]
    return f"{stem}.{kind.extension}"


def protect(response: HttpResponseBase) -> HttpResponseBase:
    """Headers for any file handed out: no type sniffing, and a sandbox if a browser renders it."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = SANDBOX_CSP
    response["Cache-Control"] = "private, no-store"
    return response


def file_response(stored, *, filename: str) -> FileResponse:
    """A stored upload, served by what its bytes are (checked again now, not when uploaded)."""
    handle = stored.open("rb")
    head = handle.read(HEAD_BYTES)
    handle.seek(0)
    kind = sniff(head) or UNKNOWN
    name = stored_name(filename, kind)
    response = FileResponse(
        handle, content_type=kind.content_type, as_attachment=not kind.inline, filename=name
    )
    return protect(response)


class BoundedUploadHandler(FileUploadHandler):
    """First in ``FILE_UPLOAD_HANDLERS``: a multipart request larger than
    ``WUYE_UPLOAD_MAX_REQUEST_BYTES`` (plus a margin for the form fields) is refused before its body
    is read or spooled to disk."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        limit = settings.WUYE_UPLOAD_MAX_REQUEST_BYTES + MB
        if content_length and content_length > limit:
            raise RequestDataTooBig(
                f"上传内容合计超过 {settings.WUYE_UPLOAD_MAX_REQUEST_BYTES // MB} MB"
            )

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
