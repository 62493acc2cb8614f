"""Pictures: upload (identified by bytes, size and pixel limits, re-encoded without metadata, thumbnail), signed
URLs (participants and admins only, 403 when forged or expired) and image messages that reference them.
Every picture is made in the test with Pillow."""

import io
import struct
import time
import zlib
from pathlib import Path

import pytest
from chat_svc.signing import signature
from contracts.events.commands import CHAT_SEND_MESSAGE, new_command
from contracts.events.registry import CHAT_MESSAGE_CREATED
from contracts.identity import Principal
from contracts.socketio.client import SendMessagePayload
from PIL import Image
from sqlalchemy import text

from .conftest import BASE, URL_SECRET, admin_headers, new_id, user_headers

pytestmark = pytest.mark.integration


def picture(fmt: str = "PNG", size: tuple[int, int] = (800, 600), **save: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (39.0, 54.0, 26.0), 3: "E", 4: (116.0, 23.0, 29.0)})
    return picture("JPEG", exif=exif)


def png_bomb(width: int = 20000, height: int = 20000) -> bytes:
    """A PNG header claiming width x height (8-bit RGB) with a few bytes of data: tiny file, 1.2 GB decoded."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
            + chunk(b"IEND", b""))


async def upload(stack, session_id: int, data: bytes, headers: dict[str, str], *, name: str = "photo.png",
                 content_type: str = "image/png"):
    return await stack.client.post(f"{BASE}/sessions/{session_id}/attachments", headers=headers,
                                   files={"file": (name, data, content_type)})


async def stored(stack, session_id: int) -> tuple[int, int]:
    """(rows in chat.attachments for the session, files in the store)."""
    async with stack.app.state.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM chat.attachments WHERE session_id = :s"),
                                   {"s": session_id})).scalar_one()
    root = Path(stack.app.state.settings.attachments_dir)
    return rows, sum(1 for p in root.rglob("*") if p.is_file())


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_a_renamed_text_file_is_refused_as_unsupported_image_and_nothing_is_stored(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    before = await stored(stack, session_id)
    response = await upload(stack, session_id, b"just some text, not a picture\n" * 10, user_headers(user_id),
                            name="holiday.png", content_type="image/png")
    refused(response, 415, "unsupported_image")
    assert await stored(stack, session_id) == before == (0, before[1])


async def test_an_svg_with_a_script_is_refused_as_unsupported_image(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
    response = await upload(stack, session_id, svg, user_headers(user_id), name="x.png", content_type="image/png")
    refused(response, 415, "unsupported_image")
    assert (await stored(stack, session_id))[0] == 0


async def test_a_file_over_the_size_limit_is_refused_with_413_and_nothing_is_stored(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    limit = stack.app.state.settings.attachment_max_bytes
    too_big = picture() + b"\0" * (limit + 1)
    response = await upload(stack, session_id, too_big, user_headers(user_id))
    refused(response, 413, "image_too_large")
    assert (await stored(stack, session_id))[0] == 0


async def test_a_20000_by_20000_png_bomb_is_refused_without_being_decoded(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    bomb = png_bomb()
    assert len(bomb) < 1000
    response = await upload(stack, session_id, bomb, user_headers(user_id))
    refused(response, 422, "image_dimensions_too_large")
    assert (await stored(stack, session_id))[0] == 0


async def test_a_picture_just_over_the_pixel_cap_is_refused_too(make_stack, user_id):
    stack = await make_stack(attachment_max_pixels=100 * 100)
    session_id = (await stack.open_session(user_id))["session_id"]
    refused(await upload(stack, session_id, picture(size=(101, 100)), user_headers(user_id)),
            422, "image_dimensions_too_large")
    assert (await upload(stack, session_id, picture(size=(100, 100)), user_headers(user_id))).status_code == 201


async def test_a_jpeg_with_gps_exif_is_served_without_exif_and_with_safe_headers(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the test picture does carry GPS
    response = await upload(stack, session_id, original, user_headers(user_id), name="IMG_0001.jpg",
                            content_type="image/jpeg")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 800, 600)
    served = await stack.client.get(body["url"])
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == f'inline; filename="picture-{body["attachment_id"]}.jpeg"'
    assert served.headers["cache-control"].startswith("private")
    served_image = Image.open(io.BytesIO(served.content))
    assert served_image.format == "JPEG" and served_image.size == (800, 600)
    assert not served_image.getexif() and b"Exif" not in served.content and b"PhoneMaker" not in served.content


async def test_a_user_not_in_the_session_can_neither_upload_nor_get_its_urls(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    stranger = user_headers(new_id())
    refused(await upload(stack, session_id, picture(), stranger), 403, "forbidden")
    attachment = (await upload(stack, session_id, picture(), user_headers(user_id))).json()
    refused(await stack.client.get(f"{BASE}/sessions/{session_id}/attachments/{attachment['attachment_id']}",
                                   headers=stranger), 403, "forbidden")
    # an admin not assigned may read (admins see every session) but not post into it
    assert (await stack.client.get(f"{BASE}/sessions/{session_id}/attachments/{attachment['attachment_id']}",
                                   headers=admin_headers(new_id()))).status_code == 200
    refused(await upload(stack, session_id, picture(), admin_headers(new_id())), 403, "forbidden")


async def test_an_expired_or_forged_signed_url_is_refused_with_403(stack, user_id):
    session_id = (await stack.open_session(user_id))["session_id"]
    attachment = (await upload(stack, session_id, picture(), user_headers(user_id))).json()
    attachment_id = attachment["attachment_id"]
    base = f"{BASE}/attachments/{attachment_id}"
    expired = int(time.time()) - 1
    from uuid import UUID
    expired_sig = signature(URL_SECRET.encode(), UUID(attachment_id), "full", expired)
    refused(await stack.client.get(f"{base}/full", params={"expires": expired, "sig": expired_sig}),
            403, "url_expired")
    later = int(time.time()) + 3600
    refused(await stack.client.get(f"{base}/full", params={"expires": later, "sig": expired_sig}),
            403, "invalid_signature")
    thumb_query = attachment["thumbnail_url"].split("?", 1)[1]
    refused(await stack.client.get(f"{base}/full?{thumb_query}"), 403, "invalid_signature")  # other variant
    forged = signature(b"not-the-secret", UUID(attachment_id), "full", later)
    refused(await stack.client.get(f"{base}/full", params={"expires": later, "sig": forged}),
            403, "invalid_signature")
    assert (await stack.client.get(attachment["url"])).status_code == 200


async def test_an_image_message_may_reference_only_a_picture_of_its_own_session(stack, user_id):
    other_user = new_id()
    other_session = (await stack.open_session(other_user))["session_id"]
    theirs = (await upload(stack, other_session, picture(), user_headers(other_user))).json()["attachment_id"]
    session_id = (await stack.open_session(user_id))["session_id"]
    for content in (theirs, "00000000-0000-4000-8000-000000000000"):
        response = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", headers=user_headers(user_id),
                                           json={"message_type": "image", "content": content})
        refused(response, 422, "unknown_attachment")
    assert (await stack.session(session_id))["last_message"] == "hello"


async def test_a_picture_sent_by_the_user_and_one_sent_by_the_admin_over_the_socket_reach_the_session(
    stack, user_id, admin_id
):
    session_id = (await stack.open_session(user_id))["session_id"]
    assert (await stack.client.post(f"{BASE}/sessions/{session_id}/claim",
                                    headers=admin_headers(admin_id))).status_code == 200
    uploaded = await upload(stack, session_id, picture("PNG", (1600, 1200)), user_headers(user_id))
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert (attachment["thumbnail_width"], attachment["thumbnail_height"]) == (320, 240)
    sent = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", headers=user_headers(user_id),
                                   json={"message_type": "image", "content": attachment["attachment_id"]})
    assert sent.status_code == 201, sent.text
    assert (sent.json()["message_type"], sent.json()["message_content"]) == ("image", attachment["attachment_id"])

    # the admin (the other participant) sees it in chat.message_created and gets the picture through fresh URLs
    created = await stack.tap.wait(session_id, CHAT_MESSAGE_CREATED, count=3)
    assert (created[-1].message.message_type, created[-1].message.message_content) == (
        "image", attachment["attachment_id"])
    links = await stack.client.get(f"{BASE}/sessions/{session_id}/attachments/{attachment['attachment_id']}",
                                   headers=admin_headers(admin_id))
    assert links.status_code == 200, links.text
    full = await stack.client.get(links.json()["url"])
    thumb = await stack.client.get(links.json()["thumbnail_url"])
    assert Image.open(io.BytesIO(full.content)).size == (1600, 1200)
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    assert len(thumb.content) < len(full.content)
    assert (await stack.session(session_id))["last_message"] == "[image]"

    # the admin answers with a picture over the socket command (chat:send_message with message_type "image")
    reply = (await upload(stack, session_id, picture("WEBP", (300, 200)), admin_headers(admin_id))).json()
    admin = Principal(user_id=admin_id, user_type="admin", username=f"a{admin_id}")
    answer = await stack.commands.call(new_command(CHAT_SEND_MESSAGE, admin, SendMessagePayload(
        session_id=session_id, content=reply["attachment_id"], message_type="image")))
    assert answer.ok, answer.error
    assert (answer.result["message_type"], answer.result["message_content"]) == ("image", reply["attachment_id"])


async def test_a_page_of_history_carries_each_image_messages_signed_urls_and_nothing_on_text_messages(
    stack, user_id
):
    session_id = (await stack.open_session(user_id))["session_id"]
    sent = []
    for size in ((640, 480), (300, 200)):
        attachment = (await upload(stack, session_id, picture("PNG", size), user_headers(user_id))).json()
        message = await stack.client.post(f"{BASE}/sessions/{session_id}/messages", headers=user_headers(user_id),
                                          json={"message_type": "image", "content": attachment["attachment_id"]})
        assert message.status_code == 201, message.text
        assert "attachment" not in message.json()  # the spec's ChatMessageData, as over the socket
        sent.append(attachment)

    page = await stack.client.get(f"{BASE}/sessions/{session_id}/messages", headers=user_headers(user_id))
    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [m["message_type"] for m in items] == ["text", "system", "image", "image"]  # system: the notice
    assert "attachment" not in items[0] and "attachment" not in items[1]
    for item, attachment in zip(items[2:], sent, strict=True):
        links = item["attachment"]
        assert links["attachment_id"] == item["message_content"] == attachment["attachment_id"]
        assert (links["width"], links["height"]) == (attachment["width"], attachment["height"])
        full = await stack.client.get(links["url"])
        assert full.status_code == 200 and Image.open(io.BytesIO(full.content)).size == (links["width"], links["height"])
        assert (await stack.client.get(links["thumbnail_url"])).status_code == 200
