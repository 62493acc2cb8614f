"""Quick replies: an agent's own and the team's (supervisors manage those), over REST on the real stack."""

import pytest

from .conftest import BASE, admin_headers, new_id, supervisor_headers, user_headers

pytestmark = pytest.mark.integration
REPLIES = f"{BASE}/quick-replies"


async def create(stack, headers: dict[str, str], title: str, content: str, scope: str = "personal") -> dict:
    response = await stack.client.post(REPLIES, json={"scope": scope, "title": title, "content": content},
                                       headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def visible_to(stack, headers: dict[str, str]) -> dict[int, dict]:
    response = await stack.client.get(REPLIES, headers=headers)
    assert response.status_code == 200, response.text
    return {r["quick_reply_id"]: r for r in response.json()["items"]}


async def test_an_agent_sees_the_team_replies_and_only_their_own_personal_ones(stack):
    agent, other, supervisor = new_id(), new_id(), new_id()
    mine = await create(stack, admin_headers(agent), "退款进度查询", "您好，退款将在 3 个工作日内到账。")
    theirs = await create(stack, admin_headers(other), "问候", "您好！")
    team = await create(stack, supervisor_headers(supervisor), "营业时间", "我们 9:00-18:00 在线。", scope="team")

    seen = await visible_to(stack, admin_headers(agent))
    assert mine["quick_reply_id"] in seen and team["quick_reply_id"] in seen
    assert theirs["quick_reply_id"] not in seen
    assert (mine["scope"], mine["owner_id"], team["scope"], team["owner_id"]) == ("personal", agent, "team", None)


async def test_only_supervisors_create_change_or_delete_team_replies(stack):
    agent, supervisor = new_id(), new_id()
    refused = await stack.client.post(REPLIES, json={"scope": "team", "title": "t", "content": "c"},
                                      headers=admin_headers(agent))
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "supervisors_only")
    team = await create(stack, supervisor_headers(supervisor), "团队", "内容", scope="team")
    url = f"{REPLIES}/{team['quick_reply_id']}"

    changed = await stack.client.put(url, json={"title": "改", "content": "新"}, headers=admin_headers(agent))
    deleted = await stack.client.delete(url, headers=admin_headers(agent))
    assert [changed.status_code, deleted.status_code] == [403, 403]

    by_supervisor = await stack.client.put(url, json={"title": "团队二", "content": "新内容"},
                                           headers=supervisor_headers(new_id()))
    assert by_supervisor.status_code == 200 and by_supervisor.json()["content"] == "新内容"
    assert (await stack.client.delete(url, headers=supervisor_headers(new_id()))).status_code == 204
    assert team["quick_reply_id"] not in await visible_to(stack, admin_headers(agent))


async def test_another_agents_personal_reply_reads_as_absent(stack):
    owner, other = new_id(), new_id()
    reply = await create(stack, admin_headers(owner), "私人", "内容")
    url = f"{REPLIES}/{reply['quick_reply_id']}"
    for response in [await stack.client.put(url, json={"title": "x", "content": "y"}, headers=admin_headers(other)),
                     await stack.client.delete(url, headers=supervisor_headers(other))]:
        assert (response.status_code, response.json()["error"]["code"]) == (404, "quick_reply_not_found")
    edited = await stack.client.put(url, json={"title": "私人二", "content": "改过"}, headers=admin_headers(owner))
    assert edited.status_code == 200 and edited.json()["title"] == "私人二"


async def test_end_users_have_no_quick_replies(stack):
    response = await stack.client.get(REPLIES, headers=user_headers(new_id()))
    assert response.status_code == 403


async def test_an_agent_keeps_at_most_the_configured_number_of_replies(make_stack):
    stack = await make_stack(quick_replies_max=2)
    agent = new_id()
    for n in range(2):
        await create(stack, admin_headers(agent), f"r{n}", "c")
    third = await stack.client.post(REPLIES, json={"title": "r3", "content": "c"}, headers=admin_headers(agent))
    assert (third.status_code, third.json()["error"]["code"]) == (409, "too_many_quick_replies")
    await create(stack, admin_headers(new_id()), "another agent's", "c")  # the cap is per agent


async def test_a_blank_title_or_an_oversized_content_is_refused(stack):
    agent = admin_headers(new_id())
    blank = await stack.client.post(REPLIES, json={"title": "  ", "content": "c"}, headers=agent)
    huge = await stack.client.post(REPLIES, json={"title": "t", "content": "x" * 5001}, headers=agent)
    assert [blank.status_code, huge.status_code] == [422, 422]
