"""What an uploaded picture becomes: identified by its bytes, refused when it is not a JPEG, PNG, GIF or WebP or
has too many pixels, then decoded and re-encoded (no metadata survives: EXIF, GPS, comments, trailing bytes of a
polyglot) with a thumbnail. Pure and blocking (Pillow): callers run `process` in a thread.

GIF: only the first frame is kept (a still GIF): decoding every frame of an animation is an unbounded amount of
work per upload, and a still picture is what a chat shows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageOps, UnidentifiedImageError
from servicekit.errors import DomainError

ImageFormat = Literal["jpeg", "png", "gif", "webp"]
CONTENT_TYPES: dict[ImageFormat, str] = {
    "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
}
_PILLOW_FORMATS: dict[str, ImageFormat] = {"JPEG": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


class UnsupportedImage(DomainError):
    status, code = 415, "unsupported_image"
    message = "not a picture this service accepts: JPEG, PNG, GIF or WebP (judged by the file's bytes)"


class ImageTooLarge(DomainError):
    status, code, message = 413, "image_too_large", "the file is larger than the upload limit"


class ImageDimensionsTooLarge(DomainError):
    status, code, message = 422, "image_dimensions_too_large", "the picture has more pixels than the limit"


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int


@dataclass(frozen=True)
class ProcessedImage:
    format: ImageFormat
    full: Encoded
    thumbnail: Encoded

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def process(data: bytes, *, max_pixels: int, thumbnail_edge: int) -> ProcessedImage:
    """Re-encode `data` and make a thumbnail at most `thumbnail_edge` pixels on its longer side.
    Raises UnsupportedImage or ImageDimensionsTooLarge; the size is read from the header before any decoding."""
    try:
        image = Image.open(io.BytesIO(data), formats=list(_PILLOW_FORMATS))  # reads the header only
    except Image.DecompressionBombError as error:
        raise _too_many_pixels(None, max_pixels) from error
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        raise UnsupportedImage() from error
    with image:
        fmt = _PILLOW_FORMATS[image.format or ""]
        width, height = image.size
        if width < 1 or height < 1 or width * height > max_pixels:
            raise _too_many_pixels((width, height), max_pixels)
        try:
            image.seek(0)
            image.load()
            picture = _normalized(image, fmt)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            raise UnsupportedImage("the picture could not be decoded (damaged or truncated)") from error
    full = _encode(picture, fmt)
    thumb = picture.copy()
    thumb.thumbnail((thumbnail_edge, thumbnail_edge), Image.Resampling.LANCZOS)
    return ProcessedImage(fmt, full, _encode(thumb, fmt))


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> ImageDimensionsTooLarge:
    what = f"{size[0]}x{size[1]}" if size else "the picture"
    return ImageDimensionsTooLarge(f"{what} is more than {max_pixels} pixels",
                                   details={"max_pixels": max_pixels, "size": list(size) if size else None})


def _normalized(image: Image.Image, fmt: ImageFormat) -> Image.Image:
    """A fresh image holding only pixels: EXIF orientation applied, then nothing but the pixel data carried on."""
    image = ImageOps.exif_transpose(image) or image
    if fmt == "jpeg":
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    if image.mode == "P":
        image = image.convert("RGBA")
    clean = Image.new(image.mode, image.size)  # no `info`: no EXIF, ICC profile, comments, XMP
    clean.paste(image)
    return clean


def _encode(image: Image.Image, fmt: ImageFormat) -> Encoded:
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "png":
        image.save(out, "PNG", optimize=True)
    elif fmt == "gif":
        image.convert("RGBA").save(out, "GIF")
    else:
        image.save(out, "WEBP", quality=85)
    return Encoded(out.getvalue(), image.width, image.height)
