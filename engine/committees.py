"""The committee catalogue (评委会目录): bpmn/rules/committees.json, owned by designers.

Each committee names its office (an org id), address, phone, contacts, the series / levels /
specialties it reviews and its fee schedule per level with the payee. Filing accepts only a
combination some committee reviews; the review chain ends at that committee's office and HRSS;
the fee is taken from its schedule when the review completes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InvalidDataError

CATALOGUE_FILE = Path("rules") / "committees.json"
UNPUBLISHED = "以评委会办公室公布为准"
# A certificate number is prefix + year + 5-digit sequence (engine/certificates.py).
PREFIX_MAX = 16
PREFIX_PATTERN = re.compile(rf"[A-Z0-9]{{1,{PREFIX_MAX}}}")


@dataclass(frozen=True)
class Committee:
    """One review committee of the catalogue."""

    id: str
    name: str
    office_org_id: str
    address: str
    phone: str | None
    contacts: list[dict[str, Any]]
    series: list[str]
    levels: list[str]
    specialties: list[str]
    fees: dict[str, dict[str, Any]]
    payee: dict[str, Any]
    payment_method: str = "bank_transfer"
    certificate_prefix: str = ""  # empty: derived from the id (number_prefix())

    def reviews(self, series: str, level: str, specialty: str) -> bool:
        return series in self.series and level in self.levels and specialty in self.specialties

    def number_prefix(self) -> str:
        """What its certificate numbers start with: the catalogue's ``certificate_prefix``,
        else the id's letters and digits in capitals (nb-water-mid -> NBWATERMID)."""
        return self.certificate_prefix or default_certificate_prefix(self.id)

    def fee(self, level: str) -> dict[str, Any]:
        """The fee of a level: {"item", "amount"} (amount 0 when the schedule has none)."""
        row = self.fees.get(level) or {}
        return {"item": str(row.get("item") or "评审费"), "amount": int(row.get("amount") or 0)}

    def public(self) -> dict[str, Any]:
        """What GET /committees answers (API.md) plus the fee schedule and payee."""
        return {
            "id": self.id,
            "name": self.name,
            "office_org_id": self.office_org_id,
            "address": self.address,
            "phone": self.phone,
            "contacts": [dict(c) for c in self.contacts],
            "series": list(self.series),
            "levels": list(self.levels),
            "specialties": list(self.specialties),
            "fees": {level: self.fee(level) for level in self.fees},
            "payee": dict(self.payee),
        }


@dataclass
class Catalogue:
    """Every committee; lookups by id and by (series, level, specialty)."""

    committees: list[Committee] = field(default_factory=list)

    def get(self, committee_id: str | None) -> Committee | None:
        return next((c for c in self.committees if c.id == committee_id), None)

    def find(self, series: str, level: str, specialty: str) -> Committee | None:
        return next((c for c in self.committees if c.reviews(series, level, specialty)), None)

    def by_office(self, org_id: str | None) -> list[Committee]:
        return [c for c in self.committees if c.office_org_id == org_id]

    def options(self) -> dict[str, dict[str, list[str]]]:
        """series -> level -> specialties, every valid combination (for cascading choices)."""
        out: dict[str, dict[str, list[str]]] = {}
        for c in self.committees:
            for s in c.series:
                for lv in c.levels:
                    names = out.setdefault(s, {}).setdefault(lv, [])
                    names += [sp for sp in c.specialties if sp not in names]
        return out

    def check(self, series: str, level: str, specialty: str) -> Committee:
        """The committee reviewing this combination; 422 on the first field that does not fit."""
        options = self.options()
        if series not in options:
            known = "、".join(options) or "无"
            raise InvalidDataError(
                "申报系列不在评委会目录中",
                fields={"series": f"没有评委会评审「{series}」系列（可选：{known}）"},
            )
        if level not in options[series]:
            known = "、".join(options[series])
            raise InvalidDataError(
                "申报级别不在评委会目录中",
                fields={"level": f"{series}系列没有评委会评审「{level}」（可选：{known}）"},
            )
        committee = self.find(series, level, specialty)
        if committee is None:
            known = "、".join(options[series][level])
            raise InvalidDataError(
                "申报专业不在评委会目录中",
                fields={
                    "specialty": f"{series}系列{level}没有评委会评审「{specialty}」（可选：{known}）"
                },
            )
        return committee


def default_certificate_prefix(committee_id: str) -> str:
    """A committee's certificate number prefix when the catalogue names none."""
    return re.sub(r"[^A-Za-z0-9]", "", committee_id).upper()[:PREFIX_MAX] or "ZC"


def _prefix(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or not PREFIX_PATTERN.fullmatch(value):
        raise ValueError(f"{where}.certificate_prefix 须为 1 至 {PREFIX_MAX} 位大写字母或数字")
    return value


def _text_or_none(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{where} 须为文字或 null")


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} 须为非空的名称列表")
    return list(value)


def parse_catalogue(raw: Mapping[str, Any]) -> Catalogue:
    """Check and read a catalogue document; ValueError names the first problem."""
    rows = raw.get("committees")
    if not isinstance(rows, list):
        raise ValueError("committees 须为列表")
    out: list[Committee] = []
    for i, row in enumerate(rows):
        where = f"committees[{i}]"
        if not isinstance(row, Mapping):
            raise ValueError(f"{where} 须为对象")
        for key in ("id", "name", "office_org_id", "address"):
            if not isinstance(row.get(key), str) or not row[key].strip():
                raise ValueError(f"{where}.{key} 必填")
        contacts = row.get("contacts") or []
        for j, c in enumerate(contacts):
            if not isinstance(c, Mapping) or not isinstance(c.get("role"), str):
                raise ValueError(f"{where}.contacts[{j}] 须有 role（联系人角色）")
            _text_or_none(c.get("name"), f"{where}.contacts[{j}].name")
            _text_or_none(c.get("phone"), f"{where}.contacts[{j}].phone")
        fees = row.get("fees") or {}
        for level, fee in fees.items():
            amount = fee.get("amount") if isinstance(fee, Mapping) else None
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise ValueError(f"{where}.fees.{level}.amount 须为整数元")
        payee = row.get("payee") or {}
        if not isinstance(payee, Mapping) or not isinstance(payee.get("name"), str):
            raise ValueError(f"{where}.payee.name 必填")
        committee = Committee(
            id=row["id"],
            name=row["name"],
            office_org_id=row["office_org_id"],
            address=row["address"],
            phone=_text_or_none(row.get("phone"), f"{where}.phone"),
            contacts=[dict(c) for c in contacts],
            series=_names(row.get("series"), f"{where}.series"),
            levels=_names(row.get("levels"), f"{where}.levels"),
            specialties=_names(row.get("specialties"), f"{where}.specialties"),
            fees={str(k): dict(v) for k, v in fees.items()},
            payee=dict(payee),
            payment_method=str(row.get("payment_method") or "bank_transfer"),
            certificate_prefix=_prefix(row.get("certificate_prefix"), where),
        )
        for other in out:
            if other.id == committee.id:
                raise ValueError(f"{where}.id {committee.id!r} 重复")
            if any(
                other.reviews(s, lv, sp)
                for s in committee.series
                for lv in committee.levels
                for sp in committee.specialties
            ):
                raise ValueError(
                    f"{where} 与 {other.id!r} 的受理范围重叠：同一系列、级别和专业只能由一个评委会评审"
                )
        out.append(committee)
    return Catalogue(out)


def load_catalogue(bpmn_dir: Path) -> Catalogue:
    """The catalogue of a bpmn directory (empty when the file is absent)."""
    path = bpmn_dir / CATALOGUE_FILE
    if not path.exists():
        return Catalogue([])
    return parse_catalogue(json.loads(path.read_text(encoding="utf-8")))
