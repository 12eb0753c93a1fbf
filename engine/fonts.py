"""The Chinese font embedded in every generated PDF: Noto Sans CJK SC (SIL Open Font License).

The font comes from Debian's `fonts-noto-cjk` (scripts/_install.sh installs it) or from the
file named by ZHIPING_CJK_FONT. Its outlines are CFF, which reportlab cannot embed, so:

- reportlab lays text out with a *metrics font*: a TrueType copy of the face with every
  character's advance width and no outlines (built once per process);
- when a PDF is saved, reportlab asks the face for each subset of characters the document
  used; those characters' outlines are converted to TrueType quadratics (fontTools' cu2qu,
  cached per character) into a small font, and reportlab embeds its subset of that.

So a PDF carries only the glyphs it shows (`pdffonts`: emb yes, sub yes), and a viewer
without any Chinese font draws it as printed.
"""

from __future__ import annotations

import atexit
import io
import os
import threading
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont as OpenTypeFont
from fontTools.ttLib import TTLibError
from fontTools.ttLib.tables._g_l_y_f import Glyph
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFile

FONT = "ZpNotoSansSC"
FAMILY = "Noto Sans CJK SC"
ENV_VAR = "ZHIPING_CJK_FONT"
# Where Debian (fonts-noto-cjk), Fedora/Alpine and a manual install put the face.
CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/noto-cjk/NotoSansCJKsc-Regular.otf",
)
_MAX_ERROR = 1.0  # font units (of 1000): how far a quadratic may stray from the cubic


class FontMissingError(RuntimeError):
    """No Noto Sans CJK SC on this machine: generated PDFs cannot embed their font."""


def font_file() -> tuple[Path, int]:
    """The font file and the index of Noto Sans CJK SC in it (a .ttc holds several faces)."""
    configured = os.environ.get(ENV_VAR)
    paths = [configured] if configured else list(CANDIDATES)
    for path in map(Path, paths):
        if path.is_file():
            return path, _face_index(path)
    raise FontMissingError(
        f"找不到 PDF 所需的中文字体 Noto Sans CJK SC：请安装 Debian 软件包 fonts-noto-cjk，"
        f"或用环境变量 {ENV_VAR} 指定 NotoSansCJK-Regular.ttc / NotoSansCJKsc-Regular.otf"
        f" (no Chinese font; looked at {', '.join(paths)})"
    )


def _face_index(path: Path) -> int:
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    try:
        for index, face in enumerate(collection.fonts):
            if face["name"].getDebugName(1) == FAMILY:
                return index
    finally:
        collection.close()
    raise FontMissingError(f"{path} 中没有 {FAMILY} (no {FAMILY} face in {path})")


def register_font() -> str:
    """Register the embedded Chinese font with reportlab once; return its name."""
    _registered()
    return FONT


@cache
def _registered() -> None:
    path, index = font_file()
    pdfmetrics.registerFont(_EmbeddedFont(FONT, _Outlines(path, index)))


class _Outlines:
    """The CFF face, read lazily; TrueType glyphs converted on demand and kept."""

    def __init__(self, path: Path, index: int) -> None:
        try:
            self.source = OpenTypeFont(str(path), fontNumber=index, lazy=True)
        except (OSError, TTLibError) as exc:
            raise FontMissingError(f"无法读取字体文件 {path} ({exc})") from exc
        # Read lazily for the life of the process; closed at exit, not left to the collector.
        atexit.register(self.source.close)
        self.cmap = self.source.getBestCmap()
        self.metrics = self.source["hmtx"].metrics
        self.units = self.source["head"].unitsPerEm
        self._glyphs = self.source.getGlyphSet()
        self._converted: dict[str, Glyph] = {}
        self._lock = threading.Lock()

    def glyph(self, name: str) -> Glyph:
        with self._lock:
            glyph = self._converted.get(name)
            if glyph is None:
                pen = TTGlyphPen(None)
                self._glyphs[name].draw(Cu2QuPen(pen, _MAX_ERROR, reverse_direction=True))
                glyph = self._converted[name] = pen.glyph()
            return glyph

    def truetype(self, codes: Iterable[int], *, outlines: bool) -> bytes:
        """A TrueType font mapping codes (those the face has) with or without outlines."""
        cmap = {c: self.cmap[c] for c in codes if c in self.cmap}
        order = [".notdef", *sorted(set(cmap.values()) - {".notdef"})]
        builder = FontBuilder(self.units, isTTF=True)
        builder.setupGlyphOrder(order)
        builder.setupCharacterMap(cmap)
        empty = Glyph()
        builder.setupGlyf(
            {n: self.glyph(n) if outlines else empty for n in order}, calcGlyphBounds=outlines
        )
        builder.font.recalcBBoxes = outlines
        head = self.source["head"]
        builder.updateHead(
            xMin=head.xMin,
            yMin=head.yMin,
            xMax=head.xMax,
            yMax=head.yMax,
            created=head.created,  # the same PDF bytes for the same document
            modified=head.modified,
        )
        builder.font.recalcTimestamp = False
        builder.setupHorizontalMetrics({n: self.metrics[n] for n in order})
        hhea, os2 = self.source["hhea"], self.source["OS/2"]
        builder.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
        builder.setupNameTable(
            {"familyName": "Noto Sans CJK SC", "styleName": "Regular"},
            mac=False,
        )
        builder.setupOS2(
            sTypoAscender=os2.sTypoAscender,
            sTypoDescender=os2.sTypoDescender,
            sTypoLineGap=os2.sTypoLineGap,
            usWinAscent=os2.usWinAscent,
            usWinDescent=os2.usWinDescent,
            sCapHeight=getattr(os2, "sCapHeight", hhea.ascent),
            fsType=0,
        )
        builder.setupPost(keepGlyphNames=False)
        builder.font["name"].setName("NotoSansCJKsc-Regular", 6, 3, 1, 0x409)
        out = io.BytesIO()
        builder.save(out)
        return out.getvalue()


class _EmbeddedFont(TTFont):
    """reportlab's font whose face knows every character's width but holds no outlines;
    each subset a document embeds is cut from a small font with the real outlines."""

    def __init__(self, name: str, outlines: _Outlines) -> None:
        # reportlab reads the face's header facts from a font of the ASCII characters...
        header = outlines.truetype(range(32, 127), outlines=False)
        super().__init__(name, io.BytesIO(header), validate=0)
        # ...and is given every character's width (building a TrueType font of all 44,000
        # characters for it to parse would take seconds).
        scale = 1000.0 / outlines.units
        face = self.face
        face.charToGlyph = {code: i for i, code in enumerate(outlines.cmap, start=1)}
        face.charWidths = {
            code: outlines.metrics[glyph][0] * scale for code, glyph in outlines.cmap.items()
        }
        face.makeSubset = self._make_subset
        self.outlines = outlines

    def _make_subset(self, subset: Sequence[int]) -> bytes:
        return _subset(self.outlines, tuple(subset))


@lru_cache(maxsize=64)
def _subset(outlines: _Outlines, subset: tuple[int, ...]) -> bytes:
    """The embedded font program of one subset of characters. Documents of one kind (the
    review form, certificates) share most of their subsets, so the last few are kept
    (a few tens of KB each) instead of built again for every PDF."""
    real = outlines.truetype(subset, outlines=True)
    return TTFontFile(io.BytesIO(real), validate=0).makeSubset(subset)
