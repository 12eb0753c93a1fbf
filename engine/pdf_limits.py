"""What one uploaded PDF may cost, and what its check reports: plain values, importable
without pypdf (the checks themselves are engine/pdf_checks.py)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PAGES = 200
MAX_DECODED_BYTES = 50 * 1024 * 1024
MAX_OBJECTS = 50_000


@dataclass(frozen=True)
class PdfLimits:
    """What one upload may cost: its size, pages, objects and decoded stream bytes."""

    max_bytes: int = MAX_UPLOAD_BYTES
    max_pages: int = MAX_UPLOAD_PAGES
    max_decoded_bytes: int = MAX_DECODED_BYTES
    max_objects: int = MAX_OBJECTS


@dataclass(frozen=True)
class PdfInfo:
    sha256: str
    size: int
    pages: int
