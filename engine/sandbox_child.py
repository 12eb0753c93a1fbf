"""The sandbox's worker process: runs BPMN scripts and expressions under hard limits.

Started by engine.sandbox as ``python -I -S -c <this source + the policy>``: no site
packages, no environment, no project code, and (when the server runs as root) as the
unprivileged user ``nobody``. Before it reads any work it caps its own address space, file
sizes, open files and child processes, so a runaway script can exhaust only this process.
The parent stops it when a script overruns its time budget.

It speaks length-prefixed JSON over stdin/stdout. Task data arrives as JSON and leaves as
JSON, so a script never holds a live object of the server: registered functions are stubs
that ask the parent to run the real function and wait for its answer.

Standard library only; the policy (SAFE_BUILTIN_NAMES, check, safe_builtins) is prepended
to this source by the parent.
"""

import json
import os
import resource
import struct
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time the policy's source is prepended to this file
    from engine.script_policy import check, safe_builtins

_HEADER = struct.Struct(">I")
_MAX_FRAME = 64 * 1024 * 1024


class _ParentRefused(Exception):
    """A registered function failed in the parent; the script stops with its message."""

    def __init__(self, type_name, message):
        super().__init__(message)
        self.type_name = type_name


def _read_exact(n):
    chunks = []
    while n:
        chunk = os.read(0, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _receive():
    (size,) = _HEADER.unpack(_read_exact(_HEADER.size))
    if size > _MAX_FRAME:
        raise EOFError
    return json.loads(_read_exact(size))


def _send(message):
    body = json.dumps(message, ensure_ascii=False, allow_nan=False).encode()
    payload = _HEADER.pack(len(body)) + body
    while payload:
        written = os.write(1, payload)
        payload = payload[written:]


def _limit_self(memory_bytes):
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[0])
    base = pages * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (base + memory_bytes, base + memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (3, 3))


def _stub(name):
    def call(*args, **kwargs):
        _send({"op": "call", "name": name, "args": list(args), "kwargs": kwargs})
        answer = _receive()
        if answer["op"] == "raise":
            raise _ParentRefused(answer["type"], answer["message"])
        return answer["value"]

    return call


def _plain(value):
    """Task data as JSON sees it (tuples become lists), or TypeError for anything else."""
    return json.loads(json.dumps(value, allow_nan=False))


def _run(message, compiled, builtins_table):
    source, mode = message["source"], message["mode"]
    code = compiled.get((source, mode))
    if code is None:
        tree: Any = check(source, mode)
        code = compile(tree, "<bpmn>", mode)
        compiled[(source, mode)] = code
    names = message["functions"]
    scope = {"__builtins__": builtins_table}
    scope.update({name: _stub(name) for name in names})
    scope.update(message["data"])
    if mode == "eval":
        return {"op": "done", "value": _plain(eval(code, scope))}
    before = _plain(message["data"])
    exec(code, scope)
    hidden = set(names) | {"__builtins__"}
    changed = {}
    for key, value in scope.items():
        if key in hidden or callable(value):
            continue
        if key not in before or before[key] != value:
            changed[key] = _plain(value)
    removed = [key for key in before if key not in scope]
    return {"op": "done", "changed": changed, "removed": removed}


def _failure(exc):
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<bpmn>":
            line = tb.tb_lineno
        tb = tb.tb_next
    type_name = exc.type_name if isinstance(exc, _ParentRefused) else type(exc).__name__
    message = str(exc.args[0]) if exc.args else ""
    return {
        "op": "fail",
        "type": type_name,
        "message": message[:2000],
        "line": line,
        "callback": isinstance(exc, _ParentRefused),
    }


def main():
    memory_bytes = int(sys.argv[1])
    _limit_self(memory_bytes)
    builtins_table = safe_builtins()
    compiled: dict[tuple[str, str], Any] = {}
    _send({"op": "ready"})
    while True:
        try:
            message = _receive()
        except EOFError:
            return
        try:
            answer = _run(message, compiled, builtins_table)
        except MemoryError:
            answer = {"op": "limit", "kind": "memory"}
        except RecursionError as exc:
            answer = _failure(exc)
        except Exception as exc:
            answer = _failure(exc)
        try:
            _send(answer)
        except MemoryError:
            _send({"op": "limit", "kind": "memory"})
        except (TypeError, ValueError) as exc:
            _send(_failure(exc))
        if answer.get("op") == "limit":
            return


main()
