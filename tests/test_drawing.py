"""MNIST-style preprocessing of drawn and uploaded digits (engine.data.drawing)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from engine.data.drawing import BadImage, mnist_style, read_upload


def bar(size=200, top=40, bottom=160, left=90, right=110):
    """A white vertical stroke on black, (size, size) uint8."""
    image = np.zeros((size, size), np.uint8)
    image[top:bottom, left:right] = 255
    return image


def centre_of_mass(image):
    weights = image.astype(float)
    ys, xs = np.indices(image.shape)
    return (ys * weights).sum() / weights.sum(), (xs * weights).sum() / weights.sum()


def test_centred_stroke_becomes_a_20_pixel_tall_digit_in_the_middle():
    out = mnist_style(bar())
    assert out.shape == (28, 28) and out.dtype == np.uint8 and out.max() == 255
    rows = np.nonzero(out.any(1))[0]
    cols = np.nonzero(out.any(0))[0]
    assert list(rows) == list(range(4, 24))  # 120 px tall -> 20 px: rows 4..23, 4 px margins
    assert 2 <= len(cols) <= 5 and cols.min() >= 11 and cols.max() <= 16  # 20 px wide -> ~3
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_position_and_size_do_not_matter():
    small_in_corner = mnist_style(bar(size=300, top=10, bottom=70, left=250, right=260))
    large_in_middle = mnist_style(bar(size=300, top=30, bottom=270, left=110, right=150))
    assert small_in_corner.shape == large_in_middle.shape == (28, 28)
    assert list(np.nonzero(small_in_corner.any(1))[0]) == list(range(4, 24))
    cy, cx = centre_of_mass(small_in_corner)
    assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_dark_ink_on_paper_and_transparent_canvas_match_white_on_black():
    reference = mnist_style(bar())
    paper = np.stack([255 - bar()] * 3, -1)  # black stroke on white, RGB
    canvas = np.zeros((200, 200, 4), np.uint8)  # transparent, white opaque stroke
    canvas[..., :3] = 255
    canvas[..., 3] = bar()
    assert np.array_equal(mnist_style(paper), reference)
    assert np.array_equal(mnist_style(canvas), reference)


def test_off_centre_mass_is_moved_to_the_centre():
    image = np.zeros((100, 100), np.uint8)
    image[10:90, 10:20] = 255  # a heavy left stroke ...
    image[10:20, 10:90] = 255  # ... and a top bar: mass sits up and left of the box centre
    out = mnist_style(image)
    cy, cx = centre_of_mass(out)
    assert abs(cy - 14) <= 0.6 and abs(cx - 14) <= 0.6  # whole-pixel shifts, resampled edges
    assert (out > 0).sum() >= (mnist_style(bar()) > 0).sum()


def png(array) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_upload_round_trip_and_bad_uploads_get_one_line():
    assert np.array_equal(mnist_style(read_upload(png(bar()))), mnist_style(bar()))
    with pytest.raises(BadImage, match="not an image"):
        read_upload(b"%PDF-1.4 this is no picture")
    with pytest.raises(BadImage, match="under 5 MB"):
        read_upload(b"\0" * (6 * 1024 * 1024))
    with pytest.raises(BadImage, match="at most 4.2 megapixels"):  # checked before decoding
        read_upload(png(np.zeros((2100, 2100), np.uint8)))
    assert read_upload(png(np.zeros((10, 5000), np.uint8))).shape[1] <= 512  # reduced at once
    with pytest.raises(BadImage, match="empty"):
        mnist_style(np.zeros((50, 50), np.uint8))
