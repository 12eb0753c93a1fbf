"""Settings: defaults for the embedded mode, then ZHIPING_* environment, then overrides."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from engine import CalendarPolicy, SandboxLimits

REPO_ROOT = Path(__file__).resolve().parent.parent


def instance_dir() -> Path:
    """The instance directory (database, files, secret key); created when missing."""
    path = Path(os.environ.get("ZHIPING_INSTANCE_DIR", "instance")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(folder: Path) -> str:
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


def defaults() -> dict[str, Any]:
    """Embedded-mode defaults: SQLite and files under the instance dir."""
    folder = instance_dir()
    return {
        "INSTANCE_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'zhiping.db'}",
        "FILES_DIR": str(folder / "files"),
        "BPMN_DIR": str(REPO_ROOT / "bpmn"),
        "SECRET_KEY": None,
        "SCHEDULER_ENABLED": False,
        "TOKEN_TTL_HOURS": 12,
        "PASSWORD_SCRYPT_N": 2**14,
        "MAX_UPLOAD_MB": 20,
        "MAX_PDF_PAGES": 200,
        "SCRIPT_TIME_LIMIT_SECONDS": 2,
        "SCRIPT_MEMORY_LIMIT_MB": 256,
        "SCRIPT_WORKERS": 8,
        "PDF_MAX_DECODED_MB": 50,
        "PDF_MAX_OBJECTS": 50_000,
        "SMS_GATEWAY_URL": "",
        "LOGIN_RATE_LIMIT": "10 per minute",
        "REGISTER_RATE_LIMIT": "5 per hour",
        "CERTIFICATE_LOOKUP_RATE_LIMIT": "30 per minute",
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_MAX_HOURS": 12,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMINDER_AFTER_WORKDAYS": 3,
        "REMINDER_HOUR": 9,
        "OVERDUE_AFTER_WORKDAYS": 5,
        "SCHEDULER_SWEEP_SECONDS": 1,
        "SCHEDULER_LOOKAHEAD_SECONDS": 60,
        "SCHEDULER_BATCH": 500,
        "SCHEDULER_CLAIM_BATCH": 20,
        "SCHEDULER_WORKERS": 2,
        "NOTIFIER_INTERVAL_SECONDS": 10,
        "SMS_MAX_ATTEMPTS": 5,
        "SMS_TIMEOUT_SECONDS": 10,
        "CALENDAR_COUNT_START_DAY": True,
        "CALENDAR_MAKEUP_DAYS_COUNT": True,
        "BASE_URL": "http://127.0.0.1:5000",
        "CLOCK": None,
        "LOG_LEVEL": "INFO",
    }


def flag(value: Any) -> bool:
    """A boolean setting from True/False, 1/0 or a "true"/"yes"/"on" string."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def calendar_policy(config: dict[str, Any]) -> CalendarPolicy:
    """How publicity windows are counted (CALENDAR_COUNT_START_DAY, ..._MAKEUP_DAYS_COUNT)."""
    return CalendarPolicy(
        count_start_day=flag(config["CALENDAR_COUNT_START_DAY"]),
        makeup_days_count=flag(config["CALENDAR_MAKEUP_DAYS_COUNT"]),
    )


def sandbox_limits(config: dict[str, Any]) -> SandboxLimits:
    """The script sandbox's budget from the settings."""
    return SandboxLimits(
        seconds=float(config["SCRIPT_TIME_LIMIT_SECONDS"]),
        memory_mb=int(config["SCRIPT_MEMORY_LIMIT_MB"]),
        workers=int(config["SCRIPT_WORKERS"]),
    )


def finish(config: dict[str, Any]) -> None:
    """Derive the settings Flask and its extensions read from ours."""
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(Path(config["INSTANCE_DIR"]))
    url = str(config["DATABASE_URL"])
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    config["SQLALCHEMY_DATABASE_URI"] = url
    # No ping before every checkout (a round trip each, two per API call): a connection the
    # server dropped fails its first statement instead, SQLAlchemy then drops the pool's
    # older connections, and that one request answers 503 database_unavailable with nothing
    # written (web/errors.py). Connections are renewed after half an hour regardless.
    options: dict[str, Any] = {"pool_pre_ping": False, "pool_recycle": 1800}
    if url.startswith("sqlite"):
        options = {"connect_args": {"timeout": 5, "check_same_thread": False}}
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    config["MAX_CONTENT_LENGTH"] = int(config["MAX_UPLOAD_MB"]) * 1024 * 1024 + 64 * 1024
    config["RATELIMIT_ENABLED"] = config.get("RATELIMIT_ENABLED", True)
