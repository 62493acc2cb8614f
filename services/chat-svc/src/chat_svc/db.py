"""Schema `chat`: sessions, messages, what the gateways say about admin presence, and the service's plumbing
tables (outbox, idempotency keys, processed events). Migrations: chat_svc/alembic (0001 mirrors this file)."""

from servicekit.idempotency import idempotency_table
from servicekit.outbox import outbox_table
from servicekit.ratelimit import rate_limit_table
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "chat"

metadata = MetaData(schema=SCHEMA)

sessions = Table(
    "sessions",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("admin_id", BigInteger),
    Column("status", Text, nullable=False),
    Column("priority", SmallInteger, nullable=False),
    Column("admin_unread_count", Integer, nullable=False, server_default="0"),
    Column("last_message", Text, nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("assigned_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("close_reason", Text),  # agent | user | abandoned | inactive (NULL: open, or closed before 0005)
    Column("user_last_read_message_id", BigInteger),  # read state both ways (0006)
    Column("user_read_at", DateTime(timezone=True)),
    Column("admin_last_read_message_id", BigInteger),
    Column("admin_read_at", DateTime(timezone=True)),
    Column("message_count", Integer, nullable=False, server_default="0"),  # users' and agents' (0014, reports)
    Column("first_reply_at", DateTime(timezone=True)),  # the first agent message (0014, reports)
    CheckConstraint("status IN ('waiting', 'active', 'closed')", name="sessions_status_check"),
    CheckConstraint("close_reason IS NULL OR close_reason IN ('agent', 'user', 'abandoned', 'inactive')",
                    name="sessions_close_reason_check"),
    CheckConstraint("priority BETWEEN 1 AND 5", name="sessions_priority_check"),
    CheckConstraint("status <> 'waiting' OR admin_id IS NULL", name="sessions_waiting_unassigned_check"),
    CheckConstraint("status <> 'active' OR admin_id IS NOT NULL", name="sessions_active_assigned_check"),
)
# One open session per user: a second "open" insert for the same user fails instead of forking the chat.
Index("sessions_one_open_per_user", sessions.c.user_id, unique=True,
      postgresql_where=text("status IN ('waiting', 'active')"))
# The queue: waiting sessions by priority (5 first), then age.
Index("sessions_waiting_queue", sessions.c.priority.desc(), sessions.c.created_at, sessions.c.id,
      postgresql_where=text("status = 'waiting'"))
Index("sessions_by_admin", sessions.c.admin_id, sessions.c.status)
# The idle sweep (store.close_idle): active sessions by when they were assigned.
Index("sessions_active_by_assigned_at", sessions.c.assigned_at, postgresql_where=text("status = 'active'"))
Index("sessions_by_user", sessions.c.user_id, sessions.c.id)

messages = Table(
    "messages",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id"), nullable=False),
    Column("sender_type", Text, nullable=False),
    Column("sender_id", BigInteger, nullable=False),
    Column("content", Text, nullable=False),
    Column("message_type", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("system_code", Text),  # a system message's text as code + params (contracts.payloads.system_text)
    Column("system_params", JSONB),
    CheckConstraint("sender_type IN ('user', 'admin', 'system')", name="messages_sender_type_check"),
    CheckConstraint("sender_id > 0", name="messages_sender_id_check"),
    CheckConstraint("message_type IN ('text', 'image', 'system')", name="messages_message_type_check"),
)
Index("messages_by_session", messages.c.session_id, messages.c.id)
# Search by words (0012, chat_svc.search): ILIKE '%词%' answered from a trigram index (extension pg_trgm).
Index("messages_content_trgm", messages.c.content, postgresql_using="gin", postgresql_ops={"content": "gin_trgm_ops"})

admins = Table(
    "admins",
    metadata,
    Column("admin_id", BigInteger, primary_key=True, autoincrement=False),
    Column("capacity", Integer),  # NULL: the service default (CHAT_ADMIN_CAPACITY)
    Column("last_assigned_at", DateTime(timezone=True)),
    # availability and activity (migration 0004, chat_svc.agents)
    Column("availability", Text, nullable=False, server_default="online"),
    Column("availability_changed_at", DateTime(timezone=True)),
    Column("changed_by", Text),  # self | supervisor | idle
    Column("last_active_at", DateTime(timezone=True)),
    Column("seen_online_at", DateTime(timezone=True)),  # the last sweep or presence event that saw a socket
    Column("announced_online", Boolean, nullable=False, server_default="false"),  # in the last chat.agent_updated
    Column("role", Text),  # agent | supervisor, as the admin's latest token said (0013; NULL: never seen)
    CheckConstraint("capacity IS NULL OR capacity > 0", name="admins_capacity_check"),
    CheckConstraint("availability IN ('online', 'busy', 'away')", name="admins_availability_check"),
    CheckConstraint("changed_by IS NULL OR changed_by IN ('self', 'supervisor', 'idle')",
                    name="admins_changed_by_check"),
    CheckConstraint("role IS NULL OR role IN ('agent', 'supervisor')", name="admins_role_check"),
)

gateways = Table(
    "gateways",
    metadata,
    Column("gateway_id", Text, primary_key=True),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ttl_seconds", Integer, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

admin_presence = Table(
    "admin_presence",
    metadata,
    Column("gateway_id", Text, nullable=False),
    Column("admin_id", BigInteger, nullable=False),
    Column("connections", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),  # the `at` of the event that set it
    PrimaryKeyConstraint("gateway_id", "admin_id"),
    CheckConstraint("connections >= 0", name="admin_presence_connections_check"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Uuid, primary_key=True),  # random (uuid4): never guessable, never served without a signature
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id"), nullable=False),
    Column("uploader_type", Text, nullable=False),
    Column("uploader_id", BigInteger, nullable=False),
    Column("format", Text, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("thumbnail_width", Integer, nullable=False),
    Column("thumbnail_height", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("format IN ('jpeg', 'png', 'gif', 'webp')", name="attachments_format_check"),
    CheckConstraint("uploader_type IN ('user', 'admin')", name="attachments_uploader_type_check"),
)
Index("attachments_by_session", attachments.c.session_id)

customers = Table(
    "customers",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("tier", Text, nullable=False),  # 'vip': new sessions get CHAT_VIP_PRIORITY (chat_svc.customers)
    Column("updated_by", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("tier IN ('standard', 'vip')", name="customers_tier_check"),
)

# Sessions that left the queue for an admin (auto or claim) after having waited: the estimate's measurements.
queue_departures = Table(
    "queue_departures",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id"), nullable=False),
    Column("queued_at", DateTime(timezone=True), nullable=False),
    Column("departed_at", DateTime(timezone=True), nullable=False),
)
Index("queue_departures_by_time", queue_departures.c.departed_at)

# What each waiting user was last told (chat.queue_updated); the publisher sends only what differs.
queue_positions = Table(
    "queue_positions",
    metadata,
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id"), primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("estimated_wait_seconds", Integer),
)

# One row (id 1): when queue positions were last published, by whichever process (the 1/interval throttle).
queue_publisher = Table(
    "queue_publisher",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("published_at", DateTime(timezone=True)),
    CheckConstraint("id = 1", name="queue_publisher_one_row_check"),
)

# A user's message waiting for a reply from the session's agent (chat_svc.reply_deadlines): one row per session
# while it waits, from the oldest unanswered message (or the assignment); the agent's reply deletes it.
reply_deadlines = Table(
    "reply_deadlines",
    metadata,
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("admin_id", BigInteger, nullable=False),  # the agent the deadlines run for
    Column("since", DateTime(timezone=True), nullable=False),
    Column("reminded_at", DateTime(timezone=True)),  # the first deadline's reminder went out
    Column("escalated_at", DateTime(timezone=True)),  # past the second, nobody could take it: the agent was told
)
Index("reply_deadlines_by_since", reply_deadlines.c.since)

# Alerts chat-svc raised for one agent (`chat.agent_alerted`); the id is the alert's `alert_id`.
agent_alerts = Table(
    "agent_alerts",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("admin_id", BigInteger, nullable=False),
    Column("session_id", BigInteger),
    Column("code", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("agent_alerts_by_admin", agent_alerts.c.admin_id, agent_alerts.c.id)

# Canned answers (0010, chat_svc.quick_replies): an agent's own (`personal`, owner_id) or the team's (`team`, no
# owner; supervisors manage them).
quick_replies = Table(
    "quick_replies",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("scope", Text, nullable=False),
    Column("owner_id", BigInteger),
    Column("title", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("updated_by", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("scope IN ('personal', 'team')", name="quick_replies_scope_check"),
    CheckConstraint("(scope = 'team') = (owner_id IS NULL)", name="quick_replies_owner_check"),
)
Index("quick_replies_by_owner", quick_replies.c.owner_id, quick_replies.c.id)

# Admins' private notes on a session (0011, chat_svc.notes): never in `messages`, never shown to the user.
session_notes = Table(
    "session_notes",
    metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id"), nullable=False),
    Column("author_id", BigInteger, nullable=False),
    Column("content", Text, nullable=False),
    Column("transfer_to", BigInteger),  # written with a transfer: the agent it was meant for
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("session_notes_by_session", session_notes.c.session_id, session_notes.c.id)

# The working hours and greeting (one row, id 1; chat_svc.working_hours). weekly NULL: open all day every day
# (then no exception either: always open); greeting NULL: the default greeting.
working_hours = Table(
    "working_hours",
    metadata,
    Column("id", SmallInteger, primary_key=True, autoincrement=False),
    Column("weekly", JSONB),  # {"mon": [{"start": "09:00", "end": "18:00"}], ...}
    Column("exceptions", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # [{"date", "intervals"}]
    Column("greeting", JSONB),  # {"zh-CN": "...", "en": "..."}
    Column("updated_by", BigInteger),
    Column("updated_at", DateTime(timezone=True)),
    # Since when an agent has been taking new sessions within working hours without a break (NULL: not now):
    # a waiting session counts as abandoned only from then on (chat_svc.left_messages).
    Column("served_since", DateTime(timezone=True)),
    CheckConstraint("id = 1", name="working_hours_one_row_check"),
)

# A user's satisfaction with a closed session, once per session, editable for CHAT_RATING_EDIT_SECONDS (0014).
ratings = Table(
    "ratings",
    metadata,
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id"), primary_key=True, autoincrement=False),
    Column("user_id", BigInteger, nullable=False),
    Column("score", SmallInteger, nullable=False),
    Column("comment", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("score BETWEEN 1 AND 5", name="ratings_score_check"),
)
# The supervisors' reports (chat_svc.reports) select sessions by when they were opened, assigned or closed (0014).
Index("sessions_by_created_at", sessions.c.created_at)
Index("sessions_by_assigned_at", sessions.c.assigned_at, postgresql_where=text("assigned_at IS NOT NULL"))
Index("sessions_by_closed_at", sessions.c.closed_at, postgresql_where=text("closed_at IS NOT NULL"))
# What the supervisors' report reads, one narrow row per session, kept by triggers on `sessions` and `ratings` in the
# transaction of each change (0015): the seconds are computed once, as the report computed them from the sessions.
session_facts = Table(
    "session_facts",
    metadata,
    Column("session_id", BigInteger, ForeignKey("chat.sessions.id", ondelete="CASCADE"), primary_key=True,
           autoincrement=False),
    Column("admin_id", BigInteger),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("first_response_seconds", Double),  # extract(epoch FROM first_reply_at - created_at)::float8
    Column("resolution_seconds", Double),  # extract(epoch FROM closed_at - created_at)::float8
    Column("message_count", Integer, nullable=False),
    Column("score", SmallInteger),
)
Index("session_facts_by_opened_at", session_facts.c.opened_at)
Index("session_facts_by_assigned_at", session_facts.c.assigned_at, postgresql_where=text("assigned_at IS NOT NULL"))
Index("session_facts_by_closed_at", session_facts.c.closed_at, postgresql_where=text("closed_at IS NOT NULL"))

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
