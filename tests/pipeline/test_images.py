"""Decoding, validation, orientation and re-encoding of photos."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from swaps.pipeline import images

PHOTO = "crowds/voc/2008_001009.jpg"


def _png_header_only(width: int, height: int) -> bytes:
    """Return a PNG whose header claims ``width`` x ``height`` but which holds almost no pixel data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def _encode(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def test_loads_jpeg_from_path_and_bytes(data_dir: Path) -> None:
    from_path = images.load_image(data_dir / PHOTO)
    from_bytes = images.load_image((data_dir / PHOTO).read_bytes())
    assert from_path.dtype == np.uint8 and from_path.shape == (480, 360, 3)
    assert np.array_equal(from_path, from_bytes)


def test_refuses_non_image() -> None:
    with pytest.raises(images.ImageError) as caught:
        images.load_image(b"%PDF-1.4 definitely not a photo")
    assert caught.value.code == "not_an_image"
    assert "JPEG" in str(caught.value)


def test_refuses_empty_file() -> None:
    with pytest.raises(images.NotAnImageError):
        images.load_image(b"")


def test_refuses_truncated_jpeg(data_dir: Path) -> None:
    data = (data_dir / PHOTO).read_bytes()
    with pytest.raises(images.ImageError) as caught:
        images.load_image(data[: len(data) // 2])
    assert caught.value.code == "truncated"


def test_refuses_too_many_bytes_before_reading(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(images.TooLargeError) as caught:
        images.load_image(data_dir / PHOTO, max_bytes=1000)
    assert caught.value.code == "too_large"
    assert "MB" in str(caught.value)


def test_refuses_decompression_bomb_before_decoding() -> None:
    # 81 Mpx is below Pillow's own bomb limit, so only our check can refuse it; the pixel data is missing,
    # so decoding would have raised "truncated" instead.
    with pytest.raises(images.TooManyPixelsError) as caught:
        images.load_image(_png_header_only(9000, 9000))
    assert caught.value.code == "too_many_pixels"
    with pytest.raises(images.TooManyPixelsError):
        images.load_image(_png_header_only(100_000, 100_000))


@pytest.mark.parametrize("mode", ["CMYK", "P", "L", "LA", "RGBA", "I;16"])
def test_any_mode_becomes_rgb(data_dir: Path, mode: str) -> None:
    original = Image.open(data_dir / PHOTO).convert("RGB").resize((90, 120))
    if mode == "I;16":
        grey = np.asarray(original.convert("L"), dtype=np.uint16) * 257
        converted = Image.fromarray(grey)
        assert converted.mode.startswith("I;16")
    else:
        converted = original.convert(mode)
    fmt = "JPEG" if mode == "CMYK" else "PNG"
    rgb = images.load_image(_encode(converted, fmt))
    assert rgb.shape == (120, 90, 3) and rgb.dtype == np.uint8
    # The picture survives: mean brightness close to the original's (16-bit is not clipped to white).
    assert abs(float(rgb.mean()) - float(np.asarray(original).mean())) < 20


def test_transparency_is_flattened_on_white() -> None:
    clear = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    assert images.load_image(_encode(clear, "PNG")).min() == 255


def test_exif_orientation_is_applied(data_dir: Path) -> None:
    original = Image.open(data_dir / PHOTO)
    stored = original.rotate(90, expand=True)  # as a phone stores it: sideways, with a tag saying how to turn it
    exif = Image.Exif()
    exif[0x0112] = 6
    rgb = images.load_image(_encode(stored, "JPEG", exif=exif.tobytes(), quality=95))
    assert rgb.shape == (original.height, original.width, 3)


def test_encode_jpeg_has_no_exif(data_dir: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "SpyCam"
    tagged = _encode(Image.open(data_dir / PHOTO), "JPEG", exif=exif.tobytes())
    assert b"SpyCam" in tagged
    out = images.encode_jpeg(images.load_image(tagged))
    assert b"Exif" not in out and b"SpyCam" not in out
    assert not Image.open(io.BytesIO(out)).getexif()


def test_shrink_keeps_aspect_and_never_enlarges() -> None:
    rgb = np.zeros((300, 600, 3), dtype=np.uint8)
    assert images.shrink(rgb, 200).shape == (100, 200, 3)
    assert images.shrink(rgb, 1000) is rgb


def test_find_images_searches_folders(data_dir: Path) -> None:
    found = images.find_images([str(data_dir / "crowds" / "voc")])
    assert len(found) == 4 and all(path.endswith(".jpg") for path in found)


@pytest.mark.parametrize("fmt", ["WEBP", "HEIF", "PNG"])
def test_other_formats_decode(data_dir: Path, fmt: str) -> None:
    if fmt == "HEIF":
        pillow_heif = pytest.importorskip("pillow_heif", reason="pillow-heif not installed: HEIC is optional")
        pillow_heif.register_heif_opener()
    original = Image.open(data_dir / PHOTO)
    rgb = images.load_image(_encode(original, fmt, quality=90) if fmt != "PNG" else _encode(original, fmt))
    assert rgb.shape == (480, 360, 3)
    assert abs(float(rgb.mean()) - float(np.asarray(original).mean())) < 5
