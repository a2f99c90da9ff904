"""Decode, validate, orient and re-encode photos; nothing here knows about faces."""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DEFAULT_MAX_PIXELS = 50_000_000
# Photos come as JPEG (MPO is the JPEG phones write with a depth map), PNG, WebP or HEIC. Nothing else is
# even parsed: EPS made Pillow look for Ghostscript, and every other decoder is more code facing strangers.
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "HEIF")
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".heic", ".heif"})
# Even a single-colour JPEG needs about 3 bits per 64 pixels (170 pixels a byte with optimised tables):
# a file with far more pixels per byte lies about its size, and libjpeg would pad the missing part in grey.
MAX_JPEG_PIXELS_PER_BYTE = 1000

_heif_registered = False


class ImageError(Exception):
    """A file the pipeline refuses; ``code`` is stable, the message tells a person what to do."""

    code: str = "not_an_image"


class NotAnImageError(ImageError):
    code = "not_an_image"


class TruncatedImageError(ImageError):
    code = "truncated"


class TooLargeError(ImageError):
    code = "too_large"


class TooManyPixelsError(ImageError):
    code = "too_many_pixels"


def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF once, if pillow-heif is importable."""
    global _heif_registered
    if _heif_registered:
        return
    _heif_registered = True
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # HEIC is optional: the rest still works without it
        return
    register_heif_opener()


def _read_bytes(source: bytes | str | os.PathLike[str], max_bytes: int) -> bytes:
    """Return the raw bytes of ``source``, refusing oversize files before reading them."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise NotAnImageError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if size > max_bytes:
            raise TooLargeError(too_large_message(size, max_bytes))
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise NotAnImageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise TooLargeError(too_large_message(len(data), max_bytes))
    return data


def sizes_text(size: int, limit: int) -> tuple[str, str]:
    """Return a size and a limit as text precise enough to tell them apart ("26.22 MB" vs "26.21 MB", or bytes)."""
    for decimals in (1, 2, 3):
        shown = (f"{size / 1e6:.{decimals}f} MB", f"{limit / 1e6:.{decimals}f} MB")
        if shown[0] != shown[1]:
            return shown
    return f"{size:,} bytes", f"{limit:,} bytes"


def too_large_message(size: int, max_bytes: int) -> str:
    size_text, limit_text = sizes_text(size, max_bytes)
    return f"file is {size_text}, over the {limit_text} limit; upload a smaller photo"


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Return any Pillow mode as an RGB uint8 array, flattening transparency onto white."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Pillow clips 16/32-bit greys at 255 when converting to "L": rescale to keep the picture.
        grey = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or grey.max() > 255 else 255.0
        grey8 = np.clip(grey * (255.0 / top), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey8[:, :, None], 3, axis=2))
    if img.mode == "F":
        grey = np.asarray(img, dtype=np.float64)
        grey8 = np.clip(grey * (255.0 if grey.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey8[:, :, None], 3, axis=2))
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "La", "PA"):
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "RGBa"):
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        img = background
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def load_image(
    source: bytes | str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    formats: tuple[str, ...] = ACCEPTED_FORMATS,
    max_side: int | None = None,
) -> np.ndarray:
    """Return ``source`` decoded as an RGB uint8 array (H, W, 3) in its EXIF orientation.

    With ``max_side`` the picture comes back no larger than that on its longer side, and a JPEG is decoded
    at a reduced scale to begin with, so a big photo never takes its full size in memory.
    """
    _register_heif()
    data = _read_bytes(source, max_bytes)
    if not data:
        raise NotAnImageError("file is empty; choose a JPEG, PNG, WebP or HEIC photo")
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below is the one that counts; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.init()  # every plugin registered, so the accepted ones can be named (HEIF only if installed)
            img = Image.open(io.BytesIO(data), formats=[name for name in formats if name in Image.OPEN])
    except Image.DecompressionBombError as exc:
        raise TooManyPixelsError(f"image has too many pixels (over {max_pixels:,}); upload a smaller photo") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise NotAnImageError("file is not an image we can read; choose a JPEG, PNG, WebP or HEIC photo") from exc
    # Image.open has only parsed the header here: refuse bombs before any pixel is decoded.
    width, height = img.size
    if width <= 0 or height <= 0:
        raise NotAnImageError("image has no pixels; choose another photo")
    if width * height > max_pixels:
        raise TooManyPixelsError(
            f"image is {width}x{height} = {width * height:,} pixels, over the {max_pixels:,} limit; "
            "upload a smaller photo"
        )
    if img.format in ("JPEG", "MPO") and width * height > len(data) * MAX_JPEG_PIXELS_PER_BYTE:
        raise TruncatedImageError(
            f"image file is incomplete: {len(data):,} bytes cannot hold a {width}x{height} photo; upload it again"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            if max_side and img.format in ("JPEG", "MPO"):
                # libjpeg scales by 1/2, 1/4 or 1/8 while decoding, never below the size asked for.
                scale = max_side / max(width, height)
                if scale < 1:
                    img.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
            # Pillow's default (LOAD_TRUNCATED_IMAGES off) refuses half-decoded pictures: a grey band would hide faces.
            img.load()
            if max_side and max(img.size) > max_side:
                img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            return _to_rgb(ImageOps.exif_transpose(img))
    except Image.DecompressionBombError as exc:
        raise TooManyPixelsError(f"image has too many pixels (over {max_pixels:,}); upload a smaller photo") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        message = str(exc).lower()
        if "truncated" in message or "broken data stream" in message or isinstance(exc, EOFError):
            raise TruncatedImageError("image file is incomplete (truncated); upload it again") from exc
        raise NotAnImageError(f"image could not be decoded ({exc}); choose another photo") from exc


def encode_jpeg(rgb: np.ndarray, *, quality: int = 90) -> bytes:
    """Return ``rgb`` as JPEG bytes carrying no EXIF or other metadata."""
    buffer = io.BytesIO()
    # A fresh Image from raw pixels has no info dict, so nothing (GPS, camera, orientation) can leak.
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(
        buffer, format="JPEG", quality=quality, optimize=True
    )
    return buffer.getvalue()


def shrink(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """Return ``rgb`` scaled so its longer side is at most ``max_side``, never enlarged."""
    height, width = rgb.shape[:2]
    longest = max(height, width)
    if longest <= max_side:
        return rgb
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def find_images(paths: list[str]) -> list[str]:
    """Return the image files named by ``paths``, folders searched recursively, in a stable order."""
    found: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(
                str(child)
                for child in sorted(path.rglob("*"))
                if child.is_file() and child.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            found.append(raw)
    return found
