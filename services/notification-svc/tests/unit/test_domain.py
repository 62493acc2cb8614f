"""Rules and request models, no I/O."""

import pytest
from contracts.identity import Principal
from notification_svc.api import MaintenanceRequest, SendNotificationRequest
from notification_svc.domain import (
    MAX_DB_ID,
    Forbidden,
    NotificationNotFound,
    chunks,
    is_visible_to,
    require_admin,
    require_db_id,
)
from pydantic import ValidationError

ADMIN = Principal(user_id=1, user_type="admin", username="admin1")
USER = Principal(user_id=2, user_type="user", username="user2")


def test_a_notification_is_visible_to_its_target_admin_and_broadcasts_to_every_admin() -> None:
    assert is_visible_to(None, 7)
    assert is_visible_to(7, 7)
    assert not is_visible_to(8, 7)


def test_only_admins_pass_require_admin() -> None:
    require_admin(ADMIN)
    with pytest.raises(Forbidden) as refused:
        require_admin(USER)
    assert refused.value.code == "forbidden"


def test_an_id_beyond_bigint_names_no_notification() -> None:
    require_db_id(MAX_DB_ID)
    with pytest.raises(NotificationNotFound) as missing:
        require_db_id(MAX_DB_ID + 1)
    assert missing.value.code == "not_found"


def test_chunks_keep_order_and_bound_each_piece() -> None:
    assert list(chunks(list(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunks([], 1000)) == []
    with pytest.raises(ValueError):
        list(chunks([1], 0))


def test_a_send_request_treats_null_optionals_as_absent_and_names_bad_fields() -> None:
    body = SendNotificationRequest.model_validate(
        {"type": "user", "title": "t", "content": "c", "link": None, "target_user_id": None}
    )
    assert body.link is None and body.target_user_id is None
    with pytest.raises(ValidationError) as bad:
        SendNotificationRequest.model_validate({"type": "user", "title": "t", "content": "c", "link": " "})
    assert [e["loc"] for e in bad.value.errors()] == [("link",)]
    with pytest.raises(ValidationError) as huge:
        SendNotificationRequest.model_validate({"type": "user", "title": "t", "content": "c", "target_user_id": 2**63})
    assert [e["loc"] for e in huge.value.errors()] == [("target_user_id",)]


def test_a_maintenance_window_must_end_after_it_starts_and_carry_offsets() -> None:
    ok = {"title": "t", "message": "m", "starts_at": "2030-01-01T00:00:00+08:00", "ends_at": "2030-01-01T02:00:00Z"}
    assert MaintenanceRequest.model_validate(ok).audience == "admins"
    with pytest.raises(ValidationError) as backwards:
        MaintenanceRequest.model_validate({**ok, "ends_at": "2029-12-31T23:00:00+08:00"})
    assert [e["loc"] for e in backwards.value.errors()] == [("ends_at",)]
    with pytest.raises(ValidationError) as naive:
        MaintenanceRequest.model_validate({**ok, "starts_at": "2030-01-01T00:00:00"})
    assert [e["loc"] for e in naive.value.errors()] == [("starts_at",)]
