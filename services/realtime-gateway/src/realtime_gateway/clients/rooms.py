"""Room names. A socket joins rooms derived from its verified token only, never from what it sends.

- `user:<id>`: every socket of account `<id>` (ids are unique across admins and users: one account table).
- `admin:<id>`: the same sockets, joined only when the token says admin; admin-only events
  (`notification:*`) go here, so a notification aimed at a non-admin account reaches nobody.
- `admins`: every admin socket; `users`: every user socket. Together they are "everyone authenticated"
  (never emit to the whole namespace: a socket still in its handshake is already in it).
- `supervisors`: every socket whose token says admin with `role: supervisor` (`chat:agent_update`). A role
  changed in auth-svc reaches the rooms with the next token, i.e. the next connection.
"""

from contracts.identity import Principal

ADMINS = "admins"
USERS = "users"
SUPERVISORS = "supervisors"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def admin_room(admin_id: int) -> str:
    return f"admin:{admin_id}"


def rooms_for(principal: Principal) -> list[str]:
    if principal.is_supervisor:
        return [user_room(principal.user_id), admin_room(principal.user_id), ADMINS, SUPERVISORS]
    if principal.is_admin:
        return [user_room(principal.user_id), admin_room(principal.user_id), ADMINS]
    return [user_room(principal.user_id), USERS]
