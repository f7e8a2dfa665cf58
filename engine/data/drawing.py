"""Turn a drawn or uploaded digit into an MNIST-style 28x28 image.

MNIST digits were prepared this way (LeCun et al.): the digit's bounding box is scaled to
fit a 20x20 box keeping its aspect ratio (anti-aliasing gives grey edges), then placed in
a 28x28 field so that its centre of mass sits at pixel (14, 14). White ink on black. A drawing
that skips these steps (a small digit in a corner, black on white) is misread by every
model, however good, so the page always runs them.
"""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image

from engine.i18n import Said

MAX_BYTES = 5 * 1024 * 1024  # .streamlit/config.toml sets server.maxUploadSize to match (5 MB)
# Decoding is bounded: the pixel count is read from the header and checked before any pixel
# is decoded (a 19 KB PNG can hold 4096x4096 pixels = 64 MiB of RGBA); a JPEG is decoded
# at a reduced scale first (draft). 2048x2048 RGBA is 16 MiB and decodes in well under 0.5 s.
MAX_PIXELS = 2048 * 2048
WORK_SIDE = 512  # decoded images are reduced to this before any float work (a digit is 28x28)
INK_THRESHOLD = 0.1  # fraction of the brightest ink value that counts as ink


class BadImage(Said, ValueError):
    """An upload or drawing that cannot become a digit; text(lang) is one line for the page."""


def read_upload(data: bytes) -> np.ndarray:
    """Bytes of an uploaded file -> (H, W, 4) uint8 RGBA with both sides <= WORK_SIDE, or
    BadImage with the reason (one line for every file that cannot be read)."""
    if len(data) > MAX_BYTES:
        raise BadImage("error.upload_too_big", mb=f"{len(data) / 2**20:.1f}",
                       most=MAX_BYTES // 2**20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image.draft("RGB", (WORK_SIDE, WORK_SIDE))  # JPEG: decode at 1/2..1/8 scale
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise BadImage("error.image_too_large", width=width, height=height,
                                   most=f"{MAX_PIXELS / 1e6:.1f}")
                image.load()
                factor = -(-max(width, height) // WORK_SIDE)  # ceil: both sides end <= WORK_SIDE
                small = image.reduce(factor) if factor > 1 else image
                return np.asarray(_eight_bit(small).convert("RGBA"))
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage("error.image_too_many_pixels", most=f"{MAX_PIXELS / 1e6:.1f}") from None
    except Exception:  # hostile bytes fail in many ways (ValueError, SyntaxError, OSError...)
        raise BadImage("error.not_an_image") from None


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and float greys as 8-bit grey. Pillow's convert() clips them at 255 instead of
    scaling: a 16-bit scan of dark ink on paper (ink 5,000 of 65,535) came out all white."""
    if image.mode not in ("I", "F") and not image.mode.startswith("I;16"):
        return image
    values = np.asarray(image, dtype=np.float64)
    if image.mode == "F" and values.max() <= 1.0:
        scale = 255.0  # float images in [0, 1]
    elif image.mode.startswith("I;16") or values.max() > 255:
        scale = 1 / 257  # 0..65,535 -> 0..255
    else:
        scale = 1.0  # 32-bit integers that hold 8-bit values
    return Image.fromarray((values * scale).round().clip(0, 255).astype(np.uint8))


def ink(image: np.ndarray) -> np.ndarray:
    """(H, W), (H, W, 3) or (H, W, 4) uint8 -> (H, W) float ink in [0, 1], white on black.

    A transparent background (a canvas, a PNG with alpha) means ink = opacity. Otherwise
    the grey level is used, inverted when the border is light (dark ink on paper)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 4 and image[..., 3].min() < 255:
        return image[..., 3].astype(np.float64) / 255.0
    grey = image[..., :3].mean(-1) if image.ndim == 3 else image.astype(np.float64)
    grey = grey / 255.0
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return 1.0 - grey if border.mean() > 0.5 else grey


def mnist_style(image: np.ndarray) -> np.ndarray:
    """Any-size digit image -> (28, 28) uint8 laid out like an MNIST digit."""
    strength = ink(image)
    if strength.max() <= 0.05:
        raise BadImage("error.image_empty")
    rows, cols = np.nonzero(strength > INK_THRESHOLD * strength.max())
    crop = strength[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    crop = crop / crop.max()  # the strongest ink is full white, as in MNIST
    h, w = crop.shape
    scale = 20.0 / max(h, w)  # the longer side becomes 20 pixels
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL wants (width, height)
    box = Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS)
    box = np.asarray(box, dtype=np.float64)  # (h', w'), both <= 20
    total = box.sum()
    if total == 0:
        raise BadImage("error.image_empty")
    # Centre of mass of the box, then the offset that moves it to pixel (14, 14), where
    # MNIST's digits have theirs (checked against the test set: 13.5 is off by one pixel).
    com_y = (box.sum(1) * np.arange(box.shape[0])).sum() / total
    com_x = (box.sum(0) * np.arange(box.shape[1])).sum() / total
    top = int(np.clip(round(14 - com_y), 0, 28 - box.shape[0]))  # never cut ink off
    left = int(np.clip(round(14 - com_x), 0, 28 - box.shape[1]))
    field = np.zeros((28, 28))
    field[top:top + box.shape[0], left:left + box.shape[1]] = box
    return np.clip(field, 0, 255).round().astype(np.uint8)
