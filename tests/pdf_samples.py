"""Hostile PDFs built in code: decompression bombs, huge page trees, scripts, attachments."""

from __future__ import annotations

import zlib

MB = 1024 * 1024


def build_pdf(*objects: str | bytes) -> bytes:
    """A PDF with a correct xref from object bodies numbered 1.., catalog first."""
    parts = [b"%PDF-1.7\n"]
    offsets = []
    at = len(parts[0])
    for number, body in enumerate(objects, start=1):
        offsets.append(at)
        raw = body.encode() if isinstance(body, str) else body
        parts.append(f"{number} 0 obj\n".encode() + raw + b"\nendobj\n")
        at += len(parts[-1])
    size = len(objects) + 1
    parts.append(f"xref\n0 {size}\n0000000000 65535 f \n".encode())
    parts += [f"{offset:010d} 00000 n \n".encode() for offset in offsets]
    parts.append(f"trailer\n<< /Root 1 0 R /Size {size} >>\nstartxref\n{at}\n%%EOF\n".encode())
    return b"".join(parts)


def flate_zeros(size: int, prefix: bytes = b"") -> bytes:
    """prefix + size zero bytes as one zlib stream (about a thousandth of size).

    A zero megabyte deflated after a full flush always packs to the same bytes, so the
    stream is that piece repeated: building a 300 MB bomb takes milliseconds, not seconds.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = [packer.compress(prefix) + packer.flush(zlib.Z_FULL_FLUSH)]
    piece = packer.compress(bytes(MB)) + packer.flush(zlib.Z_FULL_FLUSH)
    body += [piece] * (size // MB)
    body.append(packer.compress(bytes(size % MB)) + packer.flush())
    check = zlib.adler32(prefix)
    for _ in range(size // MB):
        check = zlib.adler32(bytes(MB), check)
    check = zlib.adler32(bytes(size % MB), check)
    return b"\x78\xda" + b"".join(body) + check.to_bytes(4, "big")


def stream(data: bytes, extra: str = "") -> bytes:
    head = f"<< /Length {len(data)} {extra}>>\nstream\n".encode()
    return head + data + b"\nendstream"


def bomb_pdf(pages: int = 4, decoded_per_page: int = 60 * MB) -> bytes:
    """pages pages whose content streams each inflate to decoded_per_page bytes of zeros."""
    packed = flate_zeros(decoded_per_page)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects: list[str | bytes] = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>",
    ]
    for i in range(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R >>"
        )
        objects.append(stream(packed, "/Filter /FlateDecode "))
    return build_pdf(*objects)


PAGE = "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"


def declared_pages_pdf(declared: int) -> bytes:
    """One real page under a page tree that declares `declared` pages."""
    return build_pdf(
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [3 0 R] /Count {declared} >>",
        PAGE,
    )


def lying_pages_pdf(real: int) -> bytes:
    """`real` pages under a page tree that claims to hold one."""
    kids = " ".join(f"{3 + i} 0 R" for i in range(real))
    return build_pdf(
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count 1 >>",
        *([PAGE] * real),
    )


def many_objects_pdf(count: int) -> bytes:
    """A one-page PDF padded with `count` unused objects."""
    return build_pdf(
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        PAGE,
        *(["null"] * count),
    )


def with_catalog(extra: str, *more: str, page_extra: str = "") -> bytes:
    """A one-page PDF whose catalog (and page) carry extra entries; more objects from 4."""
    return build_pdf(
        f"<< /Type /Catalog /Pages 2 0 R {extra} >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        PAGE.replace(">>", f"{page_extra} >>"),
        *more,
    )


JS_ACTION = "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
ACTIVE = {
    "open-action-js": (with_catalog("/OpenAction 4 0 R", JS_ACTION), "pdf_javascript"),
    "names-javascript": (
        with_catalog("/Names << /JavaScript 4 0 R >>", "<< /Names [(a) 5 0 R] >>", JS_ACTION),
        "pdf_javascript",
    ),
    "page-additional-actions": (
        with_catalog("", JS_ACTION, page_extra="/AA << /O 4 0 R >>"),
        "pdf_javascript",
    ),
    "launch-link": (
        with_catalog(
            "",
            "<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /Launch /F (cmd.exe) >> >>",
            page_extra="/Annots [4 0 R]",
        ),
        "pdf_launch_action",
    ),
    "embedded-files": (
        with_catalog(
            "/Names << /EmbeddedFiles << /Names [(x.exe) 4 0 R] >> >>",
            "<< /Type /Filespec /F (x.exe) /EF << /F 5 0 R >> >>",
            stream(b"MZ", "/Type /EmbeddedFile ").decode(),
        ),
        "pdf_embedded_file",
    ),
    "file-attachment-annotation": (
        with_catalog(
            "",
            "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS (a.bin) >>",
            page_extra="/Annots [4 0 R]",
        ),
        "pdf_embedded_file",
    ),
}


def object_stream_bomb_pdf(decoded: int = 200 * MB) -> bytes:
    """Object 5 lives in an object stream that inflates to `decoded` bytes (an xref stream
    file, PDF 1.5+): the bomb sits where pypdf unpacks it while merely resolving objects."""
    header = b"5 0 "
    body = header + b"<< /Kind /Packed >>"
    packed = flate_zeros(decoded - len(body), prefix=body)
    plain: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R /Extra 5 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        PAGE.encode(),
        stream(packed, f"/Type /ObjStm /N 1 /First {len(header)} /Filter /FlateDecode "),
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body_bytes in enumerate(plain, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body_bytes + b"\nendobj\n"
    xref_at = len(out)
    rows = [b"\x00" + bytes(4) + b"\xff\xff"]
    rows += [b"\x01" + off.to_bytes(4, "big") + bytes(2) for off in offsets]
    rows += [b"\x02" + (4).to_bytes(4, "big") + bytes(2)]  # object 5: stream 4, index 0
    rows += [b"\x01" + xref_at.to_bytes(4, "big") + bytes(2)]  # object 6: this xref stream
    table = b"".join(rows)
    out += (
        b"6 0 obj\n" + stream(table, "/Type /XRef /Size 7 /W [1 4 2] /Root 1 0 R ") + b"\nendobj\n"
    )
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return out
