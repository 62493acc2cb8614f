"""Issue 19, satisfaction: the user of a closed session rates it (1-5, optional comment), may change it within
CHAT_RATING_EDIT_SECONDS, and admins read it on the session."""

import pytest
from sqlalchemy import text

from .conftest import BASE, admin_headers, new_id, user_headers

pytestmark = pytest.mark.integration


async def closed_session(stack, user_id: int) -> int:
    session_id = (await stack.open_session(user_id))["session_id"]
    response = await stack.client.post(f"{BASE}/my/sessions/{session_id}/close", headers=user_headers(user_id))
    assert response.status_code == 200, response.text
    return session_id


async def test_a_user_rates_their_closed_session_and_admins_read_it(stack, user_id):
    session_id = await closed_session(stack, user_id)

    rated = await stack.client.put(f"{BASE}/my/sessions/{session_id}/rating", json={"score": 4, "comment": " 很好 "},
                                   headers=user_headers(user_id))
    seen_by_admin = await stack.client.get(f"{BASE}/sessions/{session_id}/rating", headers=admin_headers(new_id()))
    seen_by_user = await stack.client.get(f"{BASE}/my/sessions/{session_id}/rating", headers=user_headers(user_id))

    assert rated.status_code == 200, rated.text
    assert (rated.json()["score"], rated.json()["comment"]) == (4, "很好")
    assert seen_by_admin.json() == seen_by_user.json() == rated.json()


async def test_a_rating_can_be_changed_within_the_edit_window_and_stays_one_per_session(stack, user_id):
    session_id = await closed_session(stack, user_id)
    url = f"{BASE}/my/sessions/{session_id}/rating"
    first = await stack.client.put(url, json={"score": 2}, headers=user_headers(user_id))
    changed = await stack.client.put(url, json={"score": 5, "comment": "改了"}, headers=user_headers(user_id))

    assert (first.status_code, changed.status_code) == (200, 200)
    assert (changed.json()["score"], changed.json()["comment"]) == (5, "改了")
    assert changed.json()["created_at"] == first.json()["created_at"]
    async with stack.app.state.engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM chat.ratings WHERE session_id = :s"),
                                    {"s": session_id})).scalar_one()
    assert count == 1


async def test_after_the_edit_window_a_rating_is_locked(make_stack):
    stack = await make_stack(rating_edit_seconds=0)
    user_id = new_id()
    session_id = await closed_session(stack, user_id)
    url = f"{BASE}/my/sessions/{session_id}/rating"
    assert (await stack.client.put(url, json={"score": 3}, headers=user_headers(user_id))).status_code == 200

    again = await stack.client.put(url, json={"score": 1}, headers=user_headers(user_id))

    assert (again.status_code, again.json()["error"]["code"]) == (409, "rating_locked")
    assert (await stack.client.get(url, headers=user_headers(user_id))).json()["score"] == 3


async def test_only_the_sessions_user_rates_and_only_once_it_is_closed(stack, user_id):
    open_id = (await stack.open_session(user_id))["session_id"]
    while_open = await stack.client.put(f"{BASE}/my/sessions/{open_id}/rating", json={"score": 5},
                                        headers=user_headers(user_id))
    await stack.client.post(f"{BASE}/my/sessions/{open_id}/close", headers=user_headers(user_id))
    other_user = await stack.client.put(f"{BASE}/my/sessions/{open_id}/rating", json={"score": 1},
                                        headers=user_headers(new_id()))
    an_admin = await stack.client.put(f"{BASE}/my/sessions/{open_id}/rating", json={"score": 1},
                                      headers=admin_headers(new_id()))
    not_rated = await stack.client.get(f"{BASE}/sessions/{open_id}/rating", headers=admin_headers(new_id()))

    assert (while_open.status_code, while_open.json()["error"]["code"]) == (409, "session_not_closed")
    assert (other_user.status_code, an_admin.status_code) == (403, 403)
    assert (not_rated.status_code, not_rated.json()["error"]["code"]) == (404, "not_rated")


@pytest.mark.parametrize("body", [{"score": 0}, {"score": 6}, {"score": "5"}, {"score": 4, "comment": "长" * 501}])
async def test_a_rating_outside_one_to_five_or_with_a_too_long_comment_is_refused(stack, user_id, body):
    session_id = await closed_session(stack, user_id)
    response = await stack.client.put(f"{BASE}/my/sessions/{session_id}/rating", json=body,
                                      headers=user_headers(user_id))
    assert response.status_code == 422, response.text
