"""Display names of uploaded and downloaded files (no PDF library needed)."""

from __future__ import annotations

import re
import unicodedata

_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')


def safe_filename(name: str, *, max_length: int = 120) -> str:
    """Return a display name for an uploaded file; never use it as a path."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    # Cc are control characters; Cf includes U+202E, which flips "fdp.exe" into "exe.pdf".
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = _UNSAFE_NAME_CHARS.sub("", name).replace("..", "")
    name = " ".join(name.split()).strip(" .")
    if len(name) > max_length:
        _, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 10 else ""
        name = name[: max_length - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name or "未命名文件"
