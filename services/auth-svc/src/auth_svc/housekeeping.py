"""What auth-svc deletes once it no longer matters (servicekit.retention runs the rules every
`AUTH_RETENTION_INTERVAL_SECONDS`):

- failed-login counters (`auth.login_failures`) whose window began long enough ago that neither the window nor
  the longest lock it can have set still counts (a day beyond that, so a counter is never cut short);
- refresh tokens of families that ended (`family_expires_at`) a day ago: no token of the family is accepted any
  more, whatever its own expiry (auth_svc.refresh_tokens);
- the per-address WeChat login counts (`auth.rate_limits`) follow servicekit's own rule (idle for a day).
"""

from __future__ import annotations

from datetime import timedelta

from servicekit.retention import Prune

from auth_svc.refresh_tokens import refresh_tokens
from auth_svc.settings import Settings
from auth_svc.throttle import login_failures

MARGIN = timedelta(days=1)


def retention_rules(settings: Settings) -> tuple[Prune, ...]:
    longest_lock = max(settings.login_lockout_max_seconds, settings.login_username_delay_max_seconds)
    counted = timedelta(seconds=settings.login_window_seconds + longest_lock)
    return (
        Prune(login_failures, "window_started", counted + MARGIN),
        Prune(refresh_tokens, "family_expires_at", MARGIN),
    )
