"""Who is connected to this gateway: socket id -> verified principal, and per-account socket counts (several
tabs of one admin are several sockets). Pure bookkeeping, no I/O. Counts are plain dicts (`Counter`'s
`__delitem__` is Python code), since `remove` runs once per socket in a disconnect storm."""

from contracts.identity import Principal


class Connections:
    def __init__(self) -> None:
        self._principals: dict[str, Principal] = {}
        self._admins: dict[int, int] = {}
        self._users: dict[int, int] = {}

    def add(self, sid: str, principal: Principal) -> int:
        """Record a socket; returns how many sockets that account has here now."""
        self._principals[sid] = principal
        counts = self._admins if principal.is_admin else self._users
        count = counts[principal.user_id] = counts.get(principal.user_id, 0) + 1
        return count

    def remove(self, sid: str) -> tuple[Principal, int] | None:
        """Forget a socket; returns its principal and that account's remaining sockets (None if unknown)."""
        principal = self._principals.pop(sid, None)
        if principal is None:
            return None
        counts = self._admins if principal.is_admin else self._users
        remaining = counts.get(principal.user_id, 0) - 1
        if remaining > 0:
            counts[principal.user_id] = remaining
            return principal, remaining
        counts.pop(principal.user_id, None)
        return principal, 0

    def sockets_of(self, principal: Principal) -> int:
        """How many sockets that account has here."""
        return (self._admins if principal.is_admin else self._users).get(principal.user_id, 0)

    def principal(self, sid: str) -> Principal | None:
        return self._principals.get(sid)

    def sids(self) -> list[str]:
        return list(self._principals)

    def admin_sockets(self) -> dict[int, int]:
        """admin id -> sockets on this gateway (the presence heartbeat's map)."""
        return dict(self._admins)

    @property
    def sockets(self) -> int:
        return len(self._principals)

    @property
    def admins_online(self) -> int:
        return len(self._admins)

    @property
    def users_online(self) -> int:
        return len(self._users)
