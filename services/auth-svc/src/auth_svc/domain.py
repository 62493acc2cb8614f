"""Account rules and the refusals auth-svc can make. No I/O."""

import re

from contracts.identity import UserType

from auth_svc.common_passwords import is_common

USERNAME_MIN, USERNAME_MAX = 3, 32
PASSWORD_MIN, PASSWORD_MAX = 8, 128
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]+$"
_USERNAME_RE = re.compile(USERNAME_PATTERN)

USER_TYPES: tuple[UserType, ...] = ("admin", "user")


class DomainError(Exception):
    """A rule said no. `code` is stable; `field` names the input at fault, if one is."""

    code = "domain_error"
    message = "refused"
    field: str | None = None

    def __init__(self, message: str | None = None) -> None:
        self.message = message or type(self).message
        super().__init__(self.message)


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    message = "invalid username or password"


class UsernameTaken(DomainError):
    code = "username_taken"
    message = "username already taken"


class InvalidUsername(DomainError):
    code = "validation_error"
    field = "username"


class InvalidPassword(DomainError):
    code = "validation_error"
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
