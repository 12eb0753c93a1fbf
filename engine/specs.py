"""Deploy-time validation of process definitions: every problem with file, line, element."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import (
    MultiInstanceTask,
    StandardLoopTask,
)
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine import forms, lanes, roles, runtime
from engine.form_resolver import shared_file_problem, shared_files
from engine.scripts import SAFE_BUILTIN_NAMES, ScriptPolicyError, called_names, compile_checked

BPMN_NS = lanes.BPMN_NS


@dataclass
class Problem:
    file: str
    line: int | None
    element: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "element": self.element,
            "message": self.message,
        }

    def __str__(self) -> str:
        return f"{self.file}:{self.line or 0}: {self.element}: {self.message}"


@dataclass
class Candidate:
    """A process that passed validation, ready to store as a version."""

    process_id: str
    filename: str
    bpmn_xml: str
    forms: dict[str, str]
    sha256: str
    loaded: runtime.LoadedSpec


@dataclass
class Report:
    candidates: list[Candidate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _line_of(root: etree._Element, element_id: str) -> int | None:
    hits = root.xpath("//*[@id=$id]", id=element_id)
    return hits[0].sourceline if hits else None


def _element_in(message: str) -> str:
    """The element an XSD message names ("Element '{ns}endEvent', ..." -> endEvent)."""
    found = re.search(r"Element '(?:\{[^}]*\})?([\w.-]+)'", message)
    return found.group(1) if found else "-"


def _dangling_flows(root: etree._Element) -> list[tuple[etree._Element, str]]:
    """Sequence flows whose source or target is not an element of the same process."""
    out = []
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        ids = {el.get("id") for el in process.iter() if el.get("id")}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            for attr in ("sourceRef", "targetRef"):
                if flow.get(attr) not in ids:
                    out.append((flow, f"{attr} {flow.get(attr)!r} 不是本流程中的元素"))
    return out


def _expressions(ts: Any) -> Iterable[tuple[str, str, str]]:
    """(what, source, mode) for every script or expression a task spec carries."""
    for cond, target in getattr(ts, "cond_task_specs", []) or []:
        if cond is not None:
            yield f"流向 {target} 的条件", cond.args[0], "eval"
    if isinstance(getattr(ts, "script", None), str):
        yield "脚本", ts.script, "exec"
    for attr, what in (("prescript", "前置脚本 preScript"), ("postscript", "后置脚本 postScript")):
        if isinstance(getattr(ts, attr, None), str) and getattr(ts, attr):
            yield what, getattr(ts, attr), "exec"
    if isinstance(ts, MultiInstanceTask | StandardLoopTask) and isinstance(ts.condition, str):
        yield "循环条件", ts.condition, "eval"
    event_def = getattr(ts, "event_definition", None)
    if isinstance(event_def, TimerEventDefinition) and isinstance(event_def.expression, str):
        yield "定时器表达式", event_def.expression, "eval"
    props = (getattr(ts, "extensions", None) or {}).get("properties") or {}
    if isinstance(props.get("withdrawWhen"), str):
        yield "withdrawWhen", props["withdrawWhen"], "eval"


class SpecValidator:
    """Checks BPMN files and their forms against everything the engine relies on."""

    def __init__(self, functions: Iterable[str], validators: Iterable[str]) -> None:
        self.allowed_calls = set(functions) | set(SAFE_BUILTIN_NAMES)
        self.validators = set(validators)

    def validate(self, files: Mapping[str, bytes], fallback_forms: Mapping[str, str]) -> Report:
        """Validate every .bpmn in files; forms come from files first, then fallback."""
        report = Report()
        form_texts = dict(fallback_forms)
        for name, data in files.items():
            if name.endswith(".json"):
                form_texts[PurePosixPath(name).name] = data.decode("utf-8", "replace")
        bpmn_files = [n for n in files if n.endswith(".bpmn")]
        if not bpmn_files:
            report.problems.append(Problem("-", None, "-", "上传内容中没有 .bpmn 文件"))
        for name in files:
            if not name.endswith((".bpmn", ".json", ".dmn")):
                report.problems.append(Problem(name, None, "-", "只接受 .bpmn、.dmn 和 .json 文件"))
        for name in bpmn_files:
            self._validate_file(name, files[name], form_texts, report)
        return report

    def _validate_file(
        self, name: str, data: bytes, form_texts: Mapping[str, str], report: Report
    ) -> None:
        problems = report.problems
        try:
            root = runtime.parse_xml(data)
        except etree.XMLSyntaxError as exc:
            problems.append(Problem(name, exc.lineno, "xml", f"XML 格式错误：{exc.msg}"))
            return
        except ValueError as exc:
            problems.append(Problem(name, 1, "xml", f"XML 不能接受：{exc}"))
            return
        ids = [
            p.get("id")
            for p in root.iter(f"{{{BPMN_NS}}}process")
            if p.get("isExecutable", "false") == "true"
        ]
        stem = PurePosixPath(name).stem
        if len(ids) != 1:
            problems.append(Problem(name, 1, "process", "须有且只有一个标记为可执行的流程"))
            return
        if ids[0] != stem:
            line = _line_of(root, ids[0] or "")
            problems.append(
                Problem(name, line, ids[0] or "process", f"流程编号须为 {stem!r}（与文件名一致）")
            )
            return
        dangling = _dangling_flows(root)
        for flow, message in dangling:
            problems.append(
                Problem(name, flow.sourceline, flow.get("id") or "sequenceFlow", message)
            )
        if dangling:
            return
        try:
            loaded = runtime.load_spec(stem, root, PurePosixPath(name).name)
        except ValidationException as exc:
            line = exc.line_number or _line_of(root, getattr(exc, "id", "") or "")
            element = getattr(exc, "id", None) or getattr(exc, "tag", None) or _element_in(str(exc))
            message = str(exc).strip().rstrip(".")
            problems.append(Problem(name, line, str(element), f"BPMN 校验未通过：{message}"))
            return
        except (SpiffWorkflowException, KeyError, ValueError) as exc:
            problems.append(Problem(name, None, "-", f"无法构建流程：{exc}"))
            return
        before = len(problems)
        used_forms = self._check_tasks(name, root, loaded, form_texts, problems)
        for shared, text in shared_files(form_texts).items():
            if problem := shared_file_problem(shared, text):
                problems.append(Problem(shared, None, "-", problem))
            used_forms[shared] = text
        if len(problems) == before:
            report.candidates.append(self._candidate(stem, name, data, used_forms, loaded))

    def _check_tasks(
        self,
        name: str,
        root: etree._Element,
        loaded: runtime.LoadedSpec,
        form_texts: Mapping[str, str],
        problems: list[Problem],
    ) -> dict[str, str]:
        used: dict[str, str] = {}
        for ts in runtime.all_task_specs(loaded.spec, loaded.subprocess_specs):
            bpmn_id = getattr(ts, "bpmn_id", None)
            if not bpmn_id:
                continue
            line = _line_of(root, bpmn_id)
            for what, source, mode in _expressions(ts):
                msg = self._expression_problem(source, mode)
                if msg:
                    problems.append(Problem(name, line, bpmn_id, f"{what}：{msg}"))
            wait_status = loaded.wait_status.get(bpmn_id)
            if wait_status and (msg := self._expression_problem(wait_status, "eval")):
                problems.append(Problem(name, line, bpmn_id, f"status：{msg}"))
            if isinstance(ts, UserTaskMixin):
                meta = loaded.user_tasks[bpmn_id]
                for msg in self._user_task_problems(meta, form_texts, used):
                    problems.append(Problem(name, line, bpmn_id, msg))
        return used

    def _expression_problem(self, source: str, mode: str) -> str | None:
        try:
            compile_checked(source, mode)
        except SyntaxError as exc:
            return f"无法编译（{exc.msg}）：{source!r}"
        except ScriptPolicyError as exc:
            return f"含不允许的写法（{exc}）：{source!r}"
        unknown = called_names(source, mode) - self.allowed_calls
        if unknown:
            return f"调用了未注册的函数：{'、'.join(sorted(unknown))}"
        return None

    def _user_task_problems(
        self, meta: runtime.UserTaskMeta, form_texts: Mapping[str, str], used: dict[str, str]
    ) -> list[str]:
        out = []
        if meta.lane not in roles.lanes():
            keys = ", ".join(f"lane_{k}" for k in sorted(roles.lanes()))
            out.append(f"用户任务须位于编号为 {keys} 之一的泳道中")
        if meta.lane != roles.APPLICANT_LANE and not (meta.org_variable or meta.user_variable):
            out.append("用户任务缺少属性 orgVariable（办理机构变量）或 userVariable（办理人变量）")
        for name in runtime.validator_names(meta.validator):
            if name not in self.validators:
                out.append(f"未知的校验器 {name!r}")
        for name, expr in (("status", meta.status_expr), ("userVariable", meta.user_variable)):
            msg = self._expression_problem(expr, "eval") if expr else None
            if msg:
                out.append(f"{name}：{msg}")
        if not meta.form:
            out.append("用户任务缺少属性 formJsonSchemaFilename（表单文件）")
        for form_name in filter(None, (meta.form, meta.ui_form)):
            text = form_texts.get(form_name)
            if text is None:
                out.append(f"找不到表单文件 {form_name!r}")
                continue
            problem = forms.schema_problem(text)
            if problem and form_name == meta.form:
                out.append(f"表单 {form_name}：{problem}")
            used[form_name] = text
        return out

    @staticmethod
    def _candidate(
        process_id: str, name: str, data: bytes, used: dict[str, str], loaded: runtime.LoadedSpec
    ) -> Candidate:
        digest = hashlib.sha256(data)
        for form_name in sorted(used):
            digest.update(b"\0" + form_name.encode() + b"\0" + used[form_name].encode())
        return Candidate(
            process_id=process_id,
            filename=PurePosixPath(name).name,
            bpmn_xml=data.decode("utf-8"),
            forms=used,
            sha256=digest.hexdigest(),
            loaded=loaded,
        )
