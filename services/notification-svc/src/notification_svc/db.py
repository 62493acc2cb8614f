"""Schema `notification`: notifications, each admin's read state, system messages, outbox, idempotency keys.

Read state is one row per (notification, admin) that has read it; a broadcast (``target_user_id`` null) has no
row until someone reads it, so it stays unread for every other admin. Ids grow with creation, so "newest first"
is ``ORDER BY id DESC``:
- ``ix_notifications_target`` (target_user_id, id) and the partial ``ix_notifications_broadcast`` (id) WHERE
  target_user_id IS NULL give an admin's two streams (targeted to them, broadcasts) already in id order, so a
  page is a merge of two backward index scans that stops after ``page * page_size`` rows;
- ``ix_notification_reads_user`` (user_id, notification_id) answers "which of these has this admin read" for the
  unread count's anti-join without touching other admins' rows.

Unread badges are counters kept in the transaction of every change (unread.py), never a scan:
``unread_counters`` per (admin, type): ``targeted_unread`` (targeted to them, unread) and ``broadcasts_read``
(broadcasts they have read); ``broadcast_totals`` per type. Unread = targeted_unread + total - broadcasts_read.
``notification_admins`` are the admins notification-svc knows (``seen_at``: first call of its API; a row with
``seen_at`` null is a target that never called it); each admin's row is also the lock that orders the changes of
their counters, so the number pushed after each change is the one after every earlier change.
``notification_archives`` hides a notification from one admin's inbox without deleting it.

Offline reach (wechat_reach.py): ``reach_gateways`` and ``user_presence`` are end users' sockets as the gateways
tell it; ``wechat_subscriptions`` the consents users gave (one message each); ``wechat_sends`` the subscribe
messages decided, delivered by wechat_sender.py; ``processed_events`` the consumed events (each applied once).
"""

from servicekit.idempotency import idempotency_table
from servicekit.outbox import outbox_table
from servicekit.ratelimit import rate_limit_table
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "notification"

metadata = MetaData(schema=SCHEMA)

notifications = Table(
    "notifications",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("type", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("link", Text),
    Column("target_user_id", BigInteger, comment="null: for every admin (broadcast)"),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("type IN ('system', 'user', 'order', 'alert')", name="notifications_type_check"),
)
Index("ix_notifications_target", notifications.c.target_user_id, notifications.c.id)
Index("ix_notifications_broadcast", notifications.c.id, postgresql_where=sql("target_user_id IS NULL"))

notification_reads = Table(
    "notification_reads",
    metadata,
    Column("notification_id", BigInteger, ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("notification_id", "user_id"),
)
Index("ix_notification_reads_user", notification_reads.c.user_id, notification_reads.c.notification_id)

notification_archives = Table(
    "notification_archives",
    metadata,
    Column("user_id", BigInteger, nullable=False),
    Column("notification_id", BigInteger, ForeignKey("notifications.id", ondelete="CASCADE"), nullable=False),
    Column("archived_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "notification_id"),
)

notification_admins = Table(
    "notification_admins",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("seen_at", DateTime(timezone=True), comment="first call of the notification API; null: only a target"),
)

unread_counters = Table(
    "unread_counters",
    metadata,
    Column("user_id", BigInteger, nullable=False),
    Column("type", Text, nullable=False),
    Column("targeted_unread", Integer, nullable=False, server_default="0"),
    Column("broadcasts_read", Integer, nullable=False, server_default="0"),
    PrimaryKeyConstraint("user_id", "type"),
)

broadcast_totals = Table(
    "broadcast_totals",
    metadata,
    Column("type", Text, primary_key=True),
    Column("total", Integer, nullable=False, server_default="0"),
)

system_alerts = Table(
    "system_alerts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("level", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

system_maintenance = Table(
    "system_maintenance",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("audience", Text, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("ends_at > starts_at", name="system_maintenance_window_check"),
)

system_status_changes = Table(
    "system_status_changes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("component", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_system_status_changes_component", system_status_changes.c.component, system_status_changes.c.id)

# --- offline reach by WeChat subscribe messages (wechat_reach.py) ---

reach_gateways = Table(
    "reach_gateways",
    metadata,
    Column("gateway_id", Text, primary_key=True),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ttl_seconds", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

user_presence = Table(
    "user_presence",
    metadata,
    Column("gateway_id", Text, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("connections", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, comment="event time of the last change applied"),
    PrimaryKeyConstraint("gateway_id", "user_id"),
)
Index("ix_user_presence_user", user_presence.c.user_id)

wechat_subscriptions = Table(
    "wechat_subscriptions",
    metadata,
    Column("user_id", BigInteger, nullable=False),
    Column("template_id", Text, nullable=False),
    Column("openid", Text, nullable=False),
    Column("remaining", Integer, nullable=False, comment="consents not used yet: one message each"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("user_id", "template_id"),
    CheckConstraint("remaining >= 0", name="wechat_subscriptions_remaining_check"),
)

wechat_sends = Table(
    "wechat_sends",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("message_id", BigInteger, nullable=False, comment="the chat message it announces"),
    Column("user_id", BigInteger, nullable=False),
    Column("openid", Text, nullable=False),
    Column("template_id", Text, nullable=False),
    Column("page", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('pending', 'sent', 'refused', 'failed')", name="wechat_sends_status_check"),
)
Index("ix_wechat_sends_due", wechat_sends.c.next_attempt_at, postgresql_where=sql("status = 'pending'"))

# Events consumed (chat.message_left, notification_svc.left_messages), each once: the id goes in with its effects.
processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("event_type", Text, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

outbox = outbox_table(metadata, SCHEMA)
idempotency_keys = idempotency_table(metadata, SCHEMA)
rate_limits = rate_limit_table(metadata, SCHEMA)
