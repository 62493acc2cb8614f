"""Issue 16, pictures in the pages: a new user on the H5 page and an admin in the console exchange pictures in
zh-CN (a photo picked from disk, a screenshot pasted back), see thumbnails live and from history, and open them
full size; what is served has lost the photo's GPS EXIF."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import httpx
from PIL import Image, ImageDraw
from playwright.async_api import Page, expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import admin_login, connected, register_on_h5, session_item, tid, user_id_of

LINKS_ROUTE = re.compile(r"/sessions/\d+/attachments/[0-9a-f-]{36}$")  # fresh signed URLs of one picture
GPS_IFD = 0x8825
PHOTO_SIZE = (1200, 900)
SCREENSHOT_SIZE = (800, 500)


def _photo_with_gps() -> bytes:
    """A JPEG as a phone takes it: a landscape, with the camera's make and where it was taken (GPS EXIF)."""
    photo = Image.new("RGB", PHOTO_SIZE, (135, 190, 235))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((0, 600, 1200, 900), fill=(70, 150, 70))
    draw.ellipse((880, 80, 1040, 240), fill=(250, 210, 60))
    draw.polygon([(150, 600), (420, 260), (690, 600)], fill=(110, 110, 120))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 30.0)}
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def _screenshot_png() -> bytes:
    """A PNG like a screenshot: a window with a title bar and lines of text as bars."""
    shot = Image.new("RGB", SCREENSHOT_SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(shot)
    draw.rectangle((0, 0, 800, 48), fill=(37, 99, 235))
    for row in range(6):
        draw.rectangle((40, 90 + row * 60, 40 + 600 - row * 70, 116 + row * 60), fill=(200, 205, 215))
    draw.rectangle((560, 400, 760, 460), fill=(234, 88, 12))
    out = io.BytesIO()
    shot.save(out, "PNG")
    return out.getvalue()


async def _paste_file(page: Page, data: bytes, name: str, content_type: str) -> None:
    """What Ctrl+V of a screenshot does: a paste event whose clipboard holds one image file."""
    await page.evaluate("""async ([b64, name, type]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const clipboard = new DataTransfer();
        clipboard.items.add(new File([bytes], name, { type }));
        const input = document.querySelector('[data-testid="composer-input"]');
        input.focus();
        input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: clipboard, bubbles: true, cancelable: true }));
    }""", [base64.b64encode(data).decode(), name, content_type])


def _webp_badge() -> bytes:
    badge = Image.new("RGB", (240, 240), (21, 128, 61))
    ImageDraw.Draw(badge).ellipse((40, 40, 200, 200), fill=(255, 255, 255))
    out = io.BytesIO()
    badge.save(out, "WEBP")
    return out.getvalue()


async def _drop_file(page: Page, data: bytes, name: str, content_type: str) -> None:
    """What dragging a file onto the conversation does: dragover, then drop, carrying one file."""
    await page.evaluate("""async ([b64, name, type]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dragged = new DataTransfer();
        dragged.items.add(new File([bytes], name, { type }));
        const zone = document.querySelector('[data-testid="message-list"]');
        for (const kind of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(kind, { dataTransfer: dragged, bubbles: true, cancelable: true }));
        }
    }""", [base64.b64encode(data).decode(), name, content_type])


def _loaded_picture(page: Page, side: str, nth: int = 0):
    """The nth thumbnail on one side of the conversation ("mine" / "theirs"), once its image has loaded."""
    return page.locator(f'[data-testid="message"].{side} [data-testid="message-picture"][data-state="loaded"]').nth(nth)


async def _full_size_shown(page: Page, size: tuple[int, int]) -> None:
    """The overlay's image has loaded, at the picture's own size."""
    await page.wait_for_function("""([w, h]) => {
        const img = document.querySelector('[data-testid="lightbox-image"]');
        return Boolean(img) && img.complete && img.naturalWidth === w && img.naturalHeight === h;
    }""", arg=list(size))


async def _register_on_h5(pages: Pages) -> Page:
    """A new user, as one comes: opens the H5 page in a Chinese phone browser and registers there."""
    page = await pages.new_page(await pages.context(mobile=True))
    await register_on_h5(page, "photo")
    return page


async def test_a_user_and_an_admin_exchange_pictures_live_in_chinese_and_open_them_full_size(
    pages: Pages, base_url: str, tmp_path: Path
) -> None:
    admin = await admin_login(pages, "admin2", "/admin/customer-service.html")
    await expect(tid(admin, "conn-status").locator("[data-role=text]")).to_have_text("实时在线")
    user = await _register_on_h5(pages)
    user_id = await user_id_of(user)

    # The user says hello (that opens the session), then sends a photo from disk with the picture button's input.
    await tid(user, "composer-input").fill("你好")
    await tid(user, "composer-send").click()
    await expect(tid(admin, "toast").filter(has_text=f"用户 #{user_id} 的会话").filter(has_text="已分配给您")).to_be_visible()
    item = session_item(admin, user_id)
    await item.click()
    await expect(tid(admin, "message-text").filter(has_text="你好")).to_be_visible()
    await expect(tid(admin, "composer-picture")).to_have_text("图片")

    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(_photo_with_gps())
    assert Image.open(photo).getexif().get_ifd(GPS_IFD), "the photo must carry GPS EXIF for this test to mean anything"
    await tid(user, "composer-file").set_input_files(str(photo))

    # Both sides show its thumbnail: the user's own (sent), and the admin's, live.
    await expect(_loaded_picture(user, "mine")).to_be_visible()
    await expect(user.locator('[data-testid="message"].mine[data-message-type="image"]')).to_have_attribute("data-state", "sent")
    await expect(_loaded_picture(admin, "theirs")).to_be_visible()
    thumbnail = admin.locator('[data-testid="message"].theirs [data-testid="message-image"]')
    await expect(thumbnail).to_have_attribute("alt", "聊天中的图片，点击查看大图")
    width, height = await thumbnail.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert 0 < width < PHOTO_SIZE[0] and 0 < height < PHOTO_SIZE[1], (width, height)  # a thumbnail, not the photo
    await expect(item.locator('[data-testid="session-preview"]')).to_have_text("[图片]")
    # A thumbnail whose signed URL stopped working (it expired while the page stayed open) is drawn again
    # with fresh URLs.
    await thumbnail.evaluate("(img) => { img.src = img.src.replace(/expires=[0-9]+/, 'expires=1'); }")
    await admin.wait_for_function("""() => {
        const img = document.querySelector('[data-testid="message"].theirs [data-testid="message-image"]');
        return img.complete && img.naturalWidth > 0 && !img.src.includes("expires=1&");
    }""")
    await pages.screenshot(admin, "admin-sees-hello-and-photo")

    # A click opens it full size; what is served is the re-encoded photo, without its EXIF (GPS included).
    await _loaded_picture(admin, "theirs").click()
    await expect(tid(admin, "lightbox")).to_be_visible()
    await expect(tid(admin, "lightbox-image")).to_have_attribute("alt", "原尺寸图片")
    await _full_size_shown(admin, PHOTO_SIZE)
    await pages.screenshot(admin, "admin-photo-full-size")
    src = await tid(admin, "lightbox-image").get_attribute("src")
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        served = await client.get(src)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    served_image = Image.open(io.BytesIO(served.content))
    assert served_image.size == PHOTO_SIZE
    assert not served_image.getexif() and "exif" not in served_image.info
    await admin.keyboard.press("Escape")
    await expect(tid(admin, "lightbox")).to_have_count(0)

    # The admin pastes a screenshot back; the user sees it live and taps it open.
    await _paste_file(admin, _screenshot_png(), "截图.png", "image/png")
    await expect(_loaded_picture(admin, "mine")).to_be_visible()
    await expect(admin.locator('[data-testid="message"].mine[data-message-type="image"]')).to_have_attribute("data-state", "sent")
    await expect(_loaded_picture(user, "theirs")).to_be_visible()
    await expect(user.locator('[data-testid="message"].theirs[data-message-type="image"] [data-testid="message-meta"]')) \
        .to_contain_text("客服 #")
    # And drags a picture file from the desktop onto the conversation: it goes too.
    await _drop_file(admin, _webp_badge(), "badge.webp", "image/webp")
    await expect(_loaded_picture(admin, "mine", 1)).to_be_visible()
    await expect(_loaded_picture(user, "theirs", 1)).to_be_visible()
    await pages.screenshot(user, "user-sees-pasted-screenshot")
    await _loaded_picture(user, "theirs").click()
    await expect(tid(user, "lightbox")).to_be_visible()
    await _full_size_shown(user, SCREENSHOT_SIZE)
    await pages.screenshot(user, "user-screenshot-full-size")
    await tid(user, "lightbox-close").click()
    await expect(tid(user, "lightbox")).to_have_count(0)

    # A file that is not a picture, whatever its name says, is refused in words, in Chinese.
    fake = tmp_path / "not-a-picture.png"
    fake.write_text("just some text, renamed")
    await tid(user, "composer-file").set_input_files(str(fake))
    failed = user.locator('[data-testid="message"].mine[data-state="failed"]')
    await expect(failed).to_contain_text("只能发送 JPEG、PNG、GIF 或 WebP 图片")
    await pages.screenshot(user, "user-refused-file")

    # History: a reload shows both pictures again, their signed URLs coming with the page of messages (no
    # request per picture).
    links_asked: list[str] = []
    user.on("request", lambda request: links_asked.append(request.url) if LINKS_ROUTE.search(request.url) else None)
    await user.reload()
    await connected(user)
    await expect(_loaded_picture(user, "mine")).to_be_visible()
    await expect(_loaded_picture(user, "theirs")).to_be_visible()
    await expect(tid(user, "message-text").filter(has_text="你好")).to_be_visible()
    assert links_asked == []

    await tid(admin, "conv-close").click()
    await expect(tid(admin, "conv-closed")).to_be_visible()
    assert not pages.problems, pages.problems
