"""Is a password one of the most common ones? The list is zxcvbn's (PyPI `zxcvbn`, the maintained Python port
of Dropbox's estimator): its 30,000 most frequent passwords from public leaks, ranked, shipped inside the
package (no download, no network at run time), and updated with the package rather than by hand here."""

from zxcvbn.matching import RANKED_DICTIONARIES

_COMMON: frozenset[str] = frozenset(RANKED_DICTIONARIES["passwords"])


def is_common(password: str) -> bool:
    """True when the password, ignoring case, is on the list (`Password`, `12345678`, `iloveyou1`)."""
    return password.lower() in _COMMON
