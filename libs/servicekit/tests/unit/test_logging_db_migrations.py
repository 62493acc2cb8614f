"""Small pieces: the log line, URL normalisation, the advisory lock key."""

import io
import logging

from servicekit.db import asyncpg_url
from servicekit.logging import LineFormatter, configure_logging
from servicekit.migrations import advisory_lock_key


def test_log_line_has_time_level_service_logger_message_and_extras():
    record = logging.LogRecord("auth_svc.api", logging.WARNING, __file__, 1, "login failed for %s", ("bob",), None)
    record.user_id = 42
    record.reason = "bad password"
    line = LineFormatter("auth-svc").format(record)
    assert "WARNING" in line and " auth-svc auth_svc.api: login failed for bob" in line
    assert line.endswith("user_id=42 reason='bad password'")
    assert line[:4].isdigit() and "T" in line.split()[0]


def test_configure_logging_is_idempotent():
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        configure_logging("svc-a")
        configure_logging("svc-b", "debug", "text")
        ours = [h for h in root.handlers if h not in before]
        assert len(ours) == 1
        assert root.level == logging.DEBUG
        stream = io.StringIO()
        ours[0].setStream(stream)
        logging.getLogger("x.y").info("hello", extra={"k": "v"})
        assert stream.getvalue().strip().endswith("svc-b x.y: hello k=v")
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)


def test_asyncpg_url_names_the_driver():
    assert asyncpg_url("postgresql://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert asyncpg_url("postgres://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"
    assert asyncpg_url("postgresql+asyncpg://u:p@h/db") == "postgresql+asyncpg://u:p@h/db"


def test_advisory_lock_key_is_stable_per_schema_and_fits_bigint():
    assert advisory_lock_key("auth") == advisory_lock_key("auth")
    assert advisory_lock_key("auth") != advisory_lock_key("chat")
    assert -(2**63) <= advisory_lock_key("auth") < 2**63
