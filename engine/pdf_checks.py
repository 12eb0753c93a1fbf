"""Bounded checks of an uploaded PDF: readable, unencrypted, within limits, no active content.

Every step has a budget fixed before it starts, so a hostile file costs at most the budget:
the raw bytes are counted first (size, objects, cross-reference sections), the page count is
read from the page tree's /Count before any page is walked, the walk stops one page past the
limit, and every stream the check decodes is counted against one decoded-bytes budget per
upload (Flate streams are inflated in chunks and thrown away, so a bomb never sits in memory).
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.filters import decode_stream_data
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    EncodedStreamObject,
    IndirectObject,
    NullObject,
    NumberObject,
    StreamObject,
)

from engine.errors import FileRejectedError, FileTooLargeError, FileTypeError
from engine.pdf_limits import (
    MAX_DECODED_BYTES,
    MAX_OBJECTS,
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_PAGES,
    PdfInfo,
    PdfLimits,
)

# pypdf raises far more than PyPdfError on hostile input (bad xref: KeyError, ValueError;
# broken stream: zlib.error); all of them mean "unreadable", never a 500.
_PARSE_ERRORS: tuple[type[BaseException], ...] = (PyPdfError, ValueError, TypeError, KeyError)
_PARSE_ERRORS += (IndexError, AttributeError, AssertionError, OSError, RecursionError, zlib.error)
_EOF_WINDOW = 1024
_MAX_TREE_DEPTH = 32
_MAX_XREF_SECTIONS = 64  # incremental saves add one each; real files have a handful
_MAX_REPAIRS = 4  # damaged Flate streams pypdf may try to repair, byte by byte, per upload
_REPAIR_INPUT = 512 * 1024
_CHUNK = 1024 * 1024
_FLATE = ("/FlateDecode", "/Fl")
_OBJ_HEADER = re.compile(rb"\d{1,10}[ \t\r\n\f\0]+\d{1,5}[ \t\r\n\f\0]+obj\b")
_XREF_ENTRY = re.compile(rb"\d{10} \d{5} [nf]")
_XREF_SECTION = re.compile(rb"(?<!start)xref[ \t\r\n]|/Type\s*/XRef\b")


def inspect_pdf(
    data: bytes,
    *,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pages: int = MAX_UPLOAD_PAGES,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
    max_objects: int = MAX_OBJECTS,
) -> PdfInfo:
    """Check that an upload is a readable, unencrypted PDF within limits; describe it.

    :raises FileRejectedError: with a specific code (FileTooLargeError, FileTypeError for
        the size and the type).
    """
    limits = PdfLimits(max_bytes, max_pages, max_decoded_bytes, max_objects)
    _check_bytes(data, limits)
    pages = _Inspection(data, limits).run()
    return PdfInfo(sha256=hashlib.sha256(data).hexdigest(), size=len(data), pages=pages)


def _check_bytes(data: bytes, limits: PdfLimits) -> None:
    if not data:
        raise FileRejectedError("文件为空", code="empty_file")
    if len(data) > limits.max_bytes:
        limit = _size_label(limits.max_bytes)
        raise FileTooLargeError(f"文件超过 {limit} 的大小限制")
    if not data.startswith(b"%PDF-"):
        raise FileTypeError("文件不是 PDF 格式，请上传 PDF 文件")
    # pypdf in lenient mode rebuilds a cut-off file from what is left, so check the end.
    if b"%%EOF" not in data[-_EOF_WINDOW:]:
        raise _unreadable()
    # Objects outside object streams and cross-reference entries are plain text: count
    # them before pypdf builds a table of them.
    if (
        _count(_OBJ_HEADER, data, limits.max_objects) > limits.max_objects
        or _count(_XREF_ENTRY, data, 2 * limits.max_objects) > 2 * limits.max_objects
    ):
        raise _too_many_objects(limits.max_objects)
    if _count(_XREF_SECTION, data, _MAX_XREF_SECTIONS) > _MAX_XREF_SECTIONS:
        raise _too_complex()


def _count(pattern: re.Pattern[bytes], data: bytes, stop_after: int) -> int:
    found = 0
    for _ in pattern.finditer(data):
        found += 1
        if found > stop_after:
            break
    return found


def _size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:g} MB"
    return f"{size / 1024:g} KB" if size >= 1024 else f"{size} B"


@contextmanager
def _stream_limit(per_stream: int, limits: PdfLimits) -> Iterator[None]:
    """pypdf's own per-stream ceilings, so no single decode inside pypdf exceeds per_stream."""
    per_stream = max(per_stream, 1)
    with apply_configuration(
        maximum_declared_stream_length=limits.max_bytes,
        array_based_stream_maximum_output_length=per_stream,
        jbig2_maximum_output_length=per_stream,
        lzw_maximum_output_length=per_stream,
        run_length_maximum_output_length=per_stream,
        zlib_maximum_output_length=per_stream,
        zlib_maximum_recovery_input_length=_REPAIR_INPUT,
        brotli_maximum_output_length=per_stream,
        stream_decoding_work_maximum_length=per_stream,
        image_maximum_buffer_size=per_stream,
        page_tree_maximum_entries=limits.max_objects,
        page_tree_maximum_depth=_MAX_TREE_DEPTH,
    ):
        yield


class _Inspection:
    """One upload's check, with its decoded-bytes budget."""

    def __init__(self, data: bytes, limits: PdfLimits) -> None:
        self.data = data
        self.limits = limits
        self.left = limits.max_decoded_bytes
        self.repairs = 0

    def run(self) -> int:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                reader = self._open()
                with _stream_limit(self.left, self.limits):
                    self._decode_object_streams(reader)
                    leaves = self._page_leaves(reader.root_object["/Pages"])
                    self._check_active_content(reader)
                    for page in leaves:
                        self._decode_contents(page)
            except FileRejectedError:
                raise
            except (LimitReachedError, MemoryError) as exc:
                raise _too_complex() from exc
            except _PARSE_ERRORS as exc:
                raise _unreadable() from exc
        return len(leaves)

    def _open(self) -> PdfReader:
        # Opening decodes cross-reference streams only: a few bytes per object.
        with _stream_limit(min(self.left, 64 * self.limits.max_objects + 65536), self.limits):
            reader = PdfReader(
                io.BytesIO(self.data),
                strict=False,
                root_object_recovery_limit=min(1000, self.limits.max_objects),
                xref_stream_maximum_entries=self.limits.max_objects,
            )
        if reader.is_encrypted:
            raise FileRejectedError(
                "PDF 文件已加密，请去除密码保护后重新上传",
                code="pdf_encrypted",
            )
        objects = sum(len(table) for table in reader.xref.values()) + len(reader.xref_objStm)
        if objects > self.limits.max_objects:
            raise _too_many_objects(self.limits.max_objects)
        return reader

    def _spend(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _too_complex(self.limits.max_decoded_bytes)

    def _decode_object_streams(self, reader: PdfReader) -> None:
        """Count every object stream before pypdf unpacks (and keeps) one."""
        for number in sorted({stream for stream, _ in reader.xref_objStm.values()}):
            stream = reader.get_object(number)
            if isinstance(stream, StreamObject):
                self._decode(stream)

    def _decode(self, stream: StreamObject) -> None:
        """Decode a stream against the budget; Flate is inflated in chunks and dropped."""
        if not isinstance(stream, EncodedStreamObject):
            self._spend(len(stream.get_data()))
            return
        filters = _resolve(dict.get(stream, "/Filter"))
        if isinstance(filters, ArrayObject) and len(filters) == 1:
            filters = _resolve(filters[0])
        if filters in _FLATE and not dict.get(stream, "/DecodeParms"):
            try:
                self._inflate(stream._data)  # the raw bytes; pypdf has no public name for them
                return
            except zlib.error:
                self.repairs += 1
                if self.repairs > _MAX_REPAIRS:
                    raise _unreadable() from None
        with _stream_limit(self.left, self.limits):
            self._spend(len(decode_stream_data(stream)))

    def _inflate(self, raw: bytes) -> None:
        inflater = zlib.decompressobj()
        pending = raw
        while not inflater.eof:
            out = inflater.decompress(pending, _CHUNK)
            self._spend(len(out))
            pending = inflater.unconsumed_tail
            if not pending and len(out) < _CHUNK:
                break

    def _page_leaves(self, root: Any) -> list[DictionaryObject]:
        """The page dictionaries, refusing more than max_pages before reading them all."""
        if not isinstance(root, DictionaryObject):
            raise _unreadable()
        declared = _resolve(dict.get(root, "/Count"))
        if isinstance(declared, NumberObject) and int(declared) > self.limits.max_pages:
            raise _too_many_pages(self.limits.max_pages, int(declared))
        leaves: list[DictionaryObject] = []
        seen: set[int] = set()
        stack: list[tuple[DictionaryObject, int]] = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > _MAX_TREE_DEPTH:
                raise _unreadable()
            kids = _resolve(dict.get(node, "/Kids"))
            for kid in reversed(kids if isinstance(kids, ArrayObject) else []):
                if isinstance(kid, IndirectObject):
                    if kid.idnum in seen:  # a page tree is a tree: a loop is damage
                        raise _unreadable()
                    seen.add(kid.idnum)
                child = _resolve(kid)
                if not isinstance(child, DictionaryObject):
                    raise _unreadable()  # lenient pypdf would silently skip the page
                if "/Kids" in child or _resolve(dict.get(child, "/Type")) == "/Pages":
                    stack.append((child, depth + 1))
                    continue
                leaves.append(child)
                if len(leaves) > self.limits.max_pages:
                    raise _too_many_pages(self.limits.max_pages)
        if not leaves:
            raise FileRejectedError("PDF 文件没有页面", code="pdf_no_pages")
        leaves.reverse()
        return leaves

    def _decode_contents(self, page: DictionaryObject) -> None:
        """Decode the page's content streams; a missing stream means a damaged file."""
        if "/Contents" not in page:
            return  # a blank page
        contents = _resolve(dict.get(page, "/Contents"))
        for item in contents if isinstance(contents, ArrayObject) else [contents]:
            stream = _resolve(item)
            if not isinstance(stream, StreamObject):
                raise _unreadable()
            self._decode(stream)

    def _check_active_content(self, reader: PdfReader) -> None:
        """Walk every object reachable from the trailer; refuse scripts, launches, attachments."""
        seen: set[tuple[int, int]] = set()
        stack: list[Any] = [reader.trailer]
        nodes = 0
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                if (obj.idnum, obj.generation) in seen:
                    continue
                seen.add((obj.idnum, obj.generation))
                obj = _resolve(obj)
            nodes += 1
            if nodes > 20 * self.limits.max_objects:
                raise _too_complex()
            if isinstance(obj, DictionaryObject):
                _refuse_active(obj)
                stack.extend(dict.values(obj))
            elif isinstance(obj, ArrayObject):
                stack.extend(list.__iter__(obj))


_ACTIVE = {
    "javascript": (
        "pdf_javascript",
        "PDF 文件含有 JavaScript 脚本或自动执行的动作，出于安全原因不予接收，"
        "请以“打印为 PDF”等方式另存后重新上传",
    ),
    "launch": (
        "pdf_launch_action",
        "PDF 文件含有启动外部程序的动作，出于安全原因不予接收",
    ),
    "embedded": (
        "pdf_embedded_file",
        "PDF 文件内嵌了其他文件（附件），出于安全原因不予接收，请去除附件后重新上传",
    ),
}


def _active_kind(obj: DictionaryObject) -> str | None:
    """Which kind of active content a PDF dictionary is, if any."""
    action = _resolve(dict.get(obj, "/S"))
    if "/JS" in obj or "/JavaScript" in obj or "/AA" in obj or action == "/JavaScript":
        return "javascript"  # /JavaScript as a key is the document's name tree of scripts
    if action == "/Launch":
        return "launch"
    kind = _resolve(dict.get(obj, "/Type"))
    subtype = _resolve(dict.get(obj, "/Subtype"))
    if "/EmbeddedFiles" in obj or "/EF" in obj or kind == "/EmbeddedFile":
        return "embedded"
    if subtype == "/FileAttachment":
        return "embedded"
    return None


def _refuse_active(obj: DictionaryObject) -> None:
    kind = _active_kind(obj)
    if kind is not None:
        code, message = _ACTIVE[kind]
        raise FileRejectedError(message, code=code)


def _resolve(obj: Any) -> Any:
    """Follow an indirect reference; a dangling one comes back as None."""
    if obj is None:
        return None
    obj = obj.get_object()
    return None if isinstance(obj, NullObject) else obj


def _unreadable() -> FileRejectedError:
    return FileRejectedError(
        "PDF 文件已损坏或不完整，无法读取",
        code="pdf_unreadable",
    )


def _too_many_pages(limit: int, count: int | None = None) -> FileRejectedError:
    told = f"共 {count} 页，" if count is not None else ""
    return FileRejectedError(
        f"PDF {told}超过 {limit} 页的上限",
        code="too_many_pages",
    )


def _too_many_objects(limit: int) -> FileRejectedError:
    return FileRejectedError(
        f"PDF 文件结构过于复杂（超过 {limit} 个对象），不予接收",
        code="pdf_too_complex",
    )


def _too_complex(decoded_limit: int | None = None) -> FileRejectedError:
    if decoded_limit is not None:
        limit = _size_label(decoded_limit)
        return FileRejectedError(
            f"PDF 文件解压后的内容超过 {limit}，疑似“压缩炸弹”，不予接收",
            code="pdf_too_complex",
        )
    return FileRejectedError(
        "PDF 文件结构过于复杂，无法安全检查，不予接收",
        code="pdf_too_complex",
    )
