"""Run BPMN scripts and expressions in worker processes with a time and memory budget.

A pool of long-lived workers (engine/sandbox_child.py) per server process: a script is sent
with its task data as JSON, the worker runs it under the allow-list, and calls to registered
functions come back here to run in the caller's transaction. A worker that overruns its
time budget is killed and replaced; one that runs out of memory stops itself. Either way
the script fails with ScriptLimitExceeded, a Chinese message the operator sees, and the
server goes on serving: the runaway work was never on a server thread.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.script_policy import ScriptPolicyError

log = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")
_MAX_FRAME = 64 * 1024 * 1024
_NOBODY = 65534
_HERE = Path(__file__).parent

_EXCEPTIONS: dict[str, type[Exception]] = {
    cls.__name__: cls
    for cls in (
        ArithmeticError,
        AttributeError,
        IndexError,
        KeyError,
        LookupError,
        NameError,
        OverflowError,
        RecursionError,
        TypeError,
        ValueError,
        ZeroDivisionError,
        SyntaxError,
        PermissionError,
    )
}
_EXCEPTIONS["ScriptPolicyError"] = ScriptPolicyError


@dataclass(frozen=True)
class SandboxLimits:
    """How long one script or expression may run, and how much memory it may add."""

    seconds: float = 2.0
    memory_mb: int = 256
    workers: int = 8


class ScriptLimitExceeded(RuntimeError):
    """A script was stopped for overrunning its budget; the message is for operators."""

    def __init__(self, kind: str, limits: SandboxLimits) -> None:
        self.kind = kind
        if kind == "time":
            text = f"脚本运行超过时间限制（{limits.seconds:g} 秒），已被终止"
        elif kind == "memory":
            text = f"脚本使用内存超过限制（{limits.memory_mb} MB），已被终止"
        else:
            text = "脚本运行进程异常退出，脚本已被终止"
        super().__init__(text)


class ScriptResultError(ValueError):
    """A script's answer cannot be stored as task data (not JSON, too large, malformed)."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not task data")


def _child_source() -> str:
    policy = (_HERE / "script_policy.py").read_text(encoding="utf-8")
    child = (_HERE / "sandbox_child.py").read_text(encoding="utf-8")
    return policy + "\n\n" + child


class _Worker:
    """One worker process and its pipes."""

    def __init__(self, source: str, limits: SandboxLimits) -> None:
        argv = [_interpreter(), "-I", "-S", "-c", source, str(limits.memory_mb * 1024 * 1024)]
        self.proc = _spawn(argv)
        self.settled = True
        ready = self.receive(10.0)
        if ready.get("op") != "ready":
            self.kill()
            raise RuntimeError("script worker did not start")

    def send(self, message: Mapping[str, Any]) -> None:
        body = json.dumps(message, ensure_ascii=False, default=str).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(_HEADER.pack(len(body)) + body)
        self.proc.stdin.flush()

    def _read(self, n: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        poller = select.poll()  # not select(): a busy server has descriptors past 1024
        poller.register(fd, select.POLLIN | select.POLLHUP)
        chunks: list[bytes] = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                raise TimeoutError
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(self, seconds: float) -> dict[str, Any]:
        """The next message, or TimeoutError after ``seconds``, or EOFError if it died."""
        deadline = time.monotonic() + seconds
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if size > _MAX_FRAME:
            raise ScriptResultError("script result too large")
        try:
            message = json.loads(self._read(size, deadline), parse_constant=_no_constants)
        except (RecursionError, ValueError) as exc:
            raise ScriptResultError(f"script result unreadable: {exc}") from None
        if not isinstance(message, dict):
            raise ScriptResultError("script result malformed")
        return message

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass


_UNPRIVILEGED = {"usable": hasattr(os, "geteuid") and os.geteuid() == 0}


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    """Start a worker: as ``nobody`` when we are root and it can reach the interpreter."""
    common: dict[str, Any] = {
        "stdin": subprocess.PIPE,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.DEVNULL,
        "env": {},
        "cwd": "/",
        "close_fds": True,
    }
    if _UNPRIVILEGED["usable"]:
        try:
            return subprocess.Popen(argv, user=_NOBODY, group=_NOBODY, extra_groups=[], **common)
        except PermissionError:
            _UNPRIVILEGED["usable"] = False
            log.info(
                "script workers run as the server's user: %s is not reachable by nobody", argv[0]
            )
    return subprocess.Popen(argv, **common)


def _interpreter() -> str:
    # The base interpreter, so an unprivileged worker needs no access to the virtualenv.
    return os.path.realpath(getattr(sys, "_base_executable", None) or sys.executable)


class SandboxPool:
    """Idle workers of one server process, handed to one script at a time."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self._source = _child_source()
        self._idle: list[_Worker] = []
        self._busy = 0
        self._cond = threading.Condition()
        self._pid = os.getpid()

    def _acquire(self) -> _Worker:
        with self._cond:
            if self._pid != os.getpid():  # forked: the parent's workers are not ours
                self._idle, self._busy, self._pid = [], 0, os.getpid()
            while not self._idle and self._busy >= self.limits.workers:
                self._cond.wait()
            self._busy += 1
            if self._idle:
                return self._idle.pop()
        try:
            return _Worker(self._source, self.limits)
        except BaseException:
            with self._cond:
                self._busy -= 1
                self._cond.notify()
            raise

    def _release(self, worker: _Worker, healthy: bool) -> None:
        if not healthy:
            worker.kill()
        with self._cond:
            self._busy -= 1
            if healthy and self._pid == os.getpid():
                self._idle.append(worker)
            self._cond.notify()

    @property
    def busy(self) -> int:
        """How many scripts are running now."""
        return self._busy

    def warm(self) -> None:
        """Start one worker ahead of the first script."""
        self._release(self._acquire(), healthy=True)

    def close(self) -> None:
        """Stop the idle workers (busy ones stop when their script ends)."""
        with self._cond:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    def run(
        self,
        mode: str,
        source: str,
        data: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]],
    ) -> dict[str, Any]:
        """Run one script ('exec') or expression ('eval') and return the worker's answer."""
        worker = self._acquire()
        worker.settled = False
        try:
            return self._converse(worker, mode, source, data, functions)
        finally:
            # Only a worker whose conversation ended cleanly (done or a script error) is
            # reused; one stopped half-way is killed.
            self._release(worker, worker.settled)

    def _converse(
        self,
        worker: _Worker,
        mode: str,
        source: str,
        data: Mapping[str, Any],
        functions: Mapping[str, Callable[..., Any]],
    ) -> dict[str, Any]:
        budget = self.limits.seconds
        parent_error: Exception | None = None
        try:
            worker.send(
                {
                    "op": "run",
                    "mode": mode,
                    "source": source,
                    "data": data,
                    "functions": list(functions),
                }
            )
        except OSError:
            raise ScriptLimitExceeded("crash", self.limits) from None
        while True:
            started = time.monotonic()
            try:
                message = worker.receive(budget)
            except TimeoutError:
                log.warning("script stopped after %.1f s: %.80r", self.limits.seconds, source)
                raise ScriptLimitExceeded("time", self.limits) from None
            except EOFError:
                code = worker.proc.poll()
                log.warning("script worker died (exit %s): %.80r", code, source)
                raise ScriptLimitExceeded("memory" if code else "crash", self.limits) from None
            budget -= time.monotonic() - started
            op = message.get("op")
            if op == "call":
                parent_error = self._answer_call(worker, message, functions)
            elif op == "done":
                worker.settled = True
                return message
            elif op == "fail":
                worker.settled = True
                if message.get("callback") and parent_error is not None:
                    raise parent_error
                cls = _EXCEPTIONS.get(str(message.get("type")), RuntimeError)
                text = str(message.get("message", ""))
                if cls is RuntimeError:
                    text = f"{message.get('type')}: {text}"
                raise cls(text)
            elif op == "limit":
                log.warning("script hit the memory limit: %.80r", source)
                raise ScriptLimitExceeded("memory", self.limits)
            else:
                raise ScriptResultError("script worker sent an unknown message")

    @staticmethod
    def _answer_call(
        worker: _Worker, message: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
    ) -> Exception | None:
        name = message.get("name")
        args, kwargs = message.get("args"), message.get("kwargs")
        fn = functions.get(name) if isinstance(name, str) else None
        if fn is None or not isinstance(args, list) or not isinstance(kwargs, dict):
            worker.send(
                {"op": "raise", "type": "NameError", "message": f"unknown function {name!r}"}
            )
            return None
        try:
            value = fn(*args, **kwargs)
        except Exception as exc:
            worker.send({"op": "raise", "type": type(exc).__name__, "message": str(exc)})
            return exc
        worker.send({"op": "ret", "value": value})
        return None


_POOLS: dict[SandboxLimits, SandboxPool] = {}
_POOLS_LOCK = threading.Lock()


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS.values()):
        pool.close()


def pool_for(limits: SandboxLimits) -> SandboxPool:
    """The process-wide pool for these limits (one per distinct setting)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(limits)
        if pool is None:
            pool = _POOLS[limits] = SandboxPool(limits)
        return pool
