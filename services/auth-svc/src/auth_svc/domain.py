"""Account rules and the refusals auth-svc can make (servicekit.errors classes). No I/O."""

import re

from contracts.identity import UserType
from servicekit.errors import Conflict, DomainError, Invalid, Unauthorized

from auth_svc.common_passwords import is_common

__all__ = ["DomainError"]  # the base of every refusal here, for callers such as cli.py

USERNAME_MIN, USERNAME_MAX = 3, 32
PASSWORD_MIN, PASSWORD_MAX = 8, 128
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)

USER_TYPES: tuple[UserType, ...] = ("admin", "user")


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "invalid username or password"


class UsernameTaken(Conflict):
    code = "username_taken"
    message = "username already taken"


class InvalidUsername(Invalid):
    field = "username"


class InvalidPassword(Invalid):
    field = "password"


class WeakPassword(InvalidPassword):
    """Long enough, but guessable: one of the most common passwords, or the username itself."""

    code = "weak_password"


def validate_username(username: str) -> str:
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        raise InvalidUsername(f"username must be {USERNAME_MIN}-{USERNAME_MAX} characters")
    if not _USERNAME_RE.fullmatch(username):
        raise InvalidUsername("username may contain only letters, digits, '_', '.' and '-'")
    return username


def validate_password(password: str, username: str | None = None) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidPassword(f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters")
    if is_common(password):
        raise WeakPassword("password is too common: it is on a list of passwords attackers try first")
    if username is not None and same_username(password, username):
        raise WeakPassword("password must not be the username")
    return password


def same_username(a: str, b: str) -> bool:
    """Usernames are unique case-insensitively (the database index uses lower())."""
    return a.lower() == b.lower()
