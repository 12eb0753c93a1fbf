"""Messages users read are Chinese only: no 「中文 (english)」 suffixes in engine/ or web/ strings
(API `code` fields carry the machine-readable meaning; logs are English on their own)."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Chinese text, then an English parenthetical closing the string: "必填 (required)"
SUFFIX = re.compile(
    r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef}]\s*[(（][^()（）]*[a-z]{2,}[^()（）]*[)）]$"
)


def _strings(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    out = []
    for tok in tokens:
        if tok.type == tokenize.STRING:
            body = re.sub(r"^[rbfuRBFU]*('''|\"\"\"|'|\")", "", tok.string)
            out.append((tok.start[0], body[: -len(tok.string[-1:])].rstrip("'\"")))
        elif getattr(tokenize, "FSTRING_MIDDLE", None) == tok.type:
            out.append((tok.start[0], tok.string))
    return out


def test_no_english_suffix_follows_a_chinese_message():
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for folder in ("engine", "web")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, text in _strings(path)
        if SUFFIX.search(re.sub(r"\{[^{}]*\}", "0", text))  # f-string fields are not words
    ]
    assert not found, "\n".join(found)


def test_the_check_finds_a_suffix():
    assert SUFFIX.search("必填 (required)")
    assert SUFFIX.search("文件为空（the file is empty）")
    assert not SUFFIX.search("下载委托证明（PDF）") and not SUFFIX.search("必填")
