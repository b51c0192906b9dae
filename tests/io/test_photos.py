"""Public-report photos: metadata and position removed, upright, bounded; bombs, oversize and damage refused."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image

from mineaction.io.photos import ACCEPTED_FORMATS, PhotoRefused, clean_photo

LIMITS = {"max_bytes": 5_000_000, "max_pixels": 20_000_000, "max_side": 800}


def _jpeg_with_gps(size: tuple[int, int] = (1200, 600), orientation: int = 1) -> bytes:
    """A photo as a phone takes it: EXIF with GPS, make and model, an orientation, XMP, an ICC profile and a comment."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: shows which way is up
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Model 7"
    exif[ExifTags.Base.Artist] = "Olena Kovalenko"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 27.0, 53.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (35.0, 2.0, 46.0)
    out = io.BytesIO()
    srgb = b"fake-icc-profile-bytes" * 4
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
           b'exif:GPSLatitude="48,27.883N"/></x:xmpmeta>')
    image.save(out, "JPEG", exif=exif, icc_profile=srgb, comment=b"taken at 48.4647 35.0462", xmp=xmp)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input really has GPS
    assert b"http://ns.adobe.com/xap" in data and b"48,27.883N" in data  # ... and XMP
    return data


def test_exif_gps_and_every_other_metadata_is_removed() -> None:
    clean = clean_photo(_jpeg_with_gps(), **LIMITS)
    out = Image.open(io.BytesIO(clean.jpeg))
    assert out.format == "JPEG" and clean.source_format == "JPEG"
    assert len(out.getexif()) == 0 and not out.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert not {"exif", "icc_profile", "comment", "xmp"} & set(out.info)
    for marker in (b"Exif", b"PhoneMaker", b"Olena", b"fake-icc", b"48.4647", b"http://ns.adobe.com/xap", b"48,27.883N"):
        assert marker not in clean.jpeg


def test_the_photo_is_scaled_to_the_bounded_size() -> None:
    clean = clean_photo(_jpeg_with_gps((3000, 1500)), **LIMITS)
    assert (clean.width, clean.height) == (800, 400)


def test_exif_orientation_is_applied_before_it_is_stripped() -> None:
    # orientation 6: the camera was turned; viewers rotate 90° clockwise, so the left (blue) half goes on top
    clean = clean_photo(_jpeg_with_gps((400, 200), orientation=6), **LIMITS)
    out = Image.open(io.BytesIO(clean.jpeg)).convert("RGB")
    assert out.size == (200, 400)
    top, bottom = out.getpixel((100, 50)), out.getpixel((100, 350))
    assert top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_are_accepted_transparency_on_white(fmt: str) -> None:
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, fmt)
    clean = clean_photo(out.getvalue(), **LIMITS)
    assert clean.source_format == fmt and Image.open(io.BytesIO(clean.jpeg)).getpixel((50, 50)) >= (250, 250, 250)


def test_an_oversized_file_is_refused_by_its_bytes() -> None:
    data = _jpeg_with_gps()
    assert len(data) > 10_000
    with pytest.raises(PhotoRefused, match=r"the photo is \d+\.\d kB; at most 10\.0 kB is accepted"):
        clean_photo(data, max_bytes=10_000, max_pixels=20_000_000, max_side=800)


def test_too_many_pixels_are_refused_before_they_are_decoded() -> None:
    big = io.BytesIO()
    Image.new("RGB", (3000, 2000)).save(big, "PNG")
    with pytest.raises(PhotoRefused, match="more pixels than accepted: 3000 × 2000; at most 5 million"):
        clean_photo(big.getvalue(), max_bytes=5_000_000, max_pixels=5_000_000, max_side=800)


def test_a_decompression_bomb_is_refused() -> None:
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, "PNG")  # 144 million pixels in a file of some kilobytes
    data = bomb.getvalue()
    assert len(data) < 100_000
    with pytest.raises(PhotoRefused, match="more pixels than accepted"):
        clean_photo(data, **LIMITS)


def test_a_truncated_photo_is_refused_as_damaged() -> None:
    data = _jpeg_with_gps()
    with pytest.raises(PhotoRefused, match="damaged or incomplete"):
        clean_photo(data[: len(data) // 2], **LIMITS)


@pytest.mark.parametrize("data", [b"GIF89a" + b"\0" * 100, b"%PDF-1.7 not a photo", b"\xff\xd8\xff" + b"\0" * 50])
def test_other_formats_and_garbage_are_refused(data: bytes) -> None:
    with pytest.raises(PhotoRefused):
        clean_photo(data, **LIMITS)


def test_gif_is_not_among_the_accepted_formats() -> None:
    assert {"JPEG", "PNG", "WEBP"} <= set(ACCEPTED_FORMATS) and "GIF" not in ACCEPTED_FORMATS


def _saved(image: Image.Image, fmt: str, **kw: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize("data", [
    _saved(Image.new("CMYK", (300, 200), (0, 255, 255, 0)), "JPEG"),  # print-style JPEG
    _saved(Image.new("I;16", (300, 200), 40_000), "PNG"),  # 16-bit greyscale
    _saved(Image.new("RGB", (300, 200), "red"), "MPO", save_all=True,  # multi-picture JPEG, as some phones write
           append_images=[Image.new("RGB", (300, 200), "blue")]),
])
def test_unusual_but_real_photos_come_out_as_plain_rgb_jpeg(data: bytes) -> None:
    clean = clean_photo(data, **LIMITS)
    out = Image.open(io.BytesIO(clean.jpeg))
    assert (out.format, out.mode, out.size) == ("JPEG", "RGB", (300, 200))
