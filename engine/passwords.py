"""Password policy for every password the system sets (registration, org files); hashing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache
from pathlib import Path

MIN_LENGTH = 8
# scrypt reads the whole password; a cap keeps a megabyte "password" from costing anything.
MAX_LENGTH = 128
COMMON_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
RULE = f"密码至少 {MIN_LENGTH} 位，且含大写字母、小写字母、数字、符号中的至少三类"


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower case."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digits and symbols the password uses."""
    lower = any("a" <= ch <= "z" for ch in password)
    upper = any("A" <= ch <= "Z" for ch in password)
    digit = any("0" <= ch <= "9" for ch in password)
    symbol = any(not ("a" <= ch.lower() <= "z" or "0" <= ch <= "9") for ch in password)
    return lower + upper + digit + symbol


def password_problem(password: object, username: str = "") -> str | None:
    """Why this password may not be set for this username (Chinese), or None when it may."""
    if not isinstance(password, str) or not password:
        return "必填"
    if len(password) > MAX_LENGTH:
        return f"密码不能超过 {MAX_LENGTH} 位"
    if len(password) < MIN_LENGTH or character_classes(password) < 3:
        return RULE
    if not password.isprintable():
        return "密码不能包含控制字符或不可见字符"
    if username and username.lower() in password.lower():
        return "密码不能包含用户名"
    if password.lower() in common_passwords():
        return "密码过于常见，容易被猜中，请换一个"
    return None


class PasswordHasher:
    """scrypt hashes with a random salt, self-describing; the work factor is per instance.

    ``n`` (a power of two) applies to new hashes; a stored hash is checked with its own.
    """

    def __init__(self, n: int = 2**14, r: int = 8, p: int = 1) -> None:
        if n < 2 or n & (n - 1):
            raise ValueError("scrypt N must be a power of two")
        self.n, self.r, self.p = n, r, p
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """A new hash of ``password``."""
        salt = secrets.token_bytes(16)
        digest = hashlib.scrypt(
            password.encode(), salt=salt, n=self.n, r=self.r, p=self.p, dklen=32
        )
        return f"scrypt${self.n}${self.r}${self.p}${salt.hex()}${digest.hex()}"

    @staticmethod
    def check(stored: str, password: str) -> bool:
        """Constant-time comparison against a stored scrypt hash."""
        try:
            _, n, r, p, salt, digest = stored.split("$")
            got = hashlib.scrypt(
                password.encode(),
                salt=bytes.fromhex(salt),
                n=int(n),
                r=int(r),
                p=int(p),
                dklen=len(digest) // 2,
            )
        except (ValueError, TypeError):
            return False
        return hmac.compare_digest(got.hex(), digest)

    def dummy_check(self, password: str) -> None:
        """Cost one check like a real one: unknown users take as long as known ones, so
        timing does not reveal which names exist."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_hex(8))
        self.check(self._dummy, password)
