"""Uploads (issue 15, item 6): every unreadable file is one line; decoding is bounded in
memory and time; Streamlit's own upload limit matches the app's."""
from __future__ import annotations

import io
import random
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from engine.data.drawing import MAX_BYTES, BadImage, mnist_style, read_upload

ROOT = Path(__file__).resolve().parents[1]


def png(width: int, height: int, mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height)).save(out, "PNG")
    return out.getvalue()


MALFORMED = [b"P6\n-5 3\n255\n" + b"\0" * 100, b"P6 99999999 99999999 255\n", b"P5\n3 3\n0\n\0",
             b"P6\n3 3\n255\n", b"\x89PNG\r\n\x1a\n" + b"x" * 50, b"GIF89a" + b"\xff" * 30,
             b"", b"BM" + b"\0" * 60, b"\xff\xd8\xff" + b"\0" * 40]


@pytest.mark.parametrize("data", MALFORMED)
def test_malformed_files_are_one_line(data):
    with pytest.raises(BadImage) as error:
        read_upload(data)
    assert "\n" not in str(error.value)


def test_mangled_images_never_escape_as_another_error():
    rng = random.Random(0)
    good = io.BytesIO()
    Image.effect_noise((64, 64), 40).save(good, "PNG")
    base = bytearray(good.getvalue())
    for _ in range(300):
        data = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            mnist_style(read_upload(bytes(data)))
        except BadImage:
            pass


@pytest.mark.parametrize("side", [4096, 15000])
def test_huge_images_are_refused_by_size_before_decoding(side):
    with pytest.raises(BadImage, match="megapixels"):
        read_upload(png(side, side))


BOUNDED = """
import io, resource, time
from PIL import Image
from engine.data.drawing import mnist_style, read_upload
data = open({path!r}, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    mnist_style(read_upload(data))
except Exception as error:
    print("refused", error)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(time.perf_counter() - started, (peak - before) / 1024)
"""


@pytest.mark.parametrize("side", [2048, 4096])
def test_an_upload_costs_under_50_mib_and_half_a_second(tmp_path, side):
    path = tmp_path / "big.png"
    image = Image.effect_noise((side, side), 60) if side == 2048 else Image.new("L", (side, side))
    image.save(path)
    assert path.stat().st_size <= MAX_BYTES
    out = subprocess.run([sys.executable, "-c", BOUNDED.format(path=str(path))], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    seconds, mib = map(float, out.stdout.split()[-2:])
    assert seconds < 0.5 and mib < 50, out.stdout


def test_streamlit_upload_limit_matches_the_app():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == MAX_BYTES // 2**20


def _saved(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def _paper_digit():
    """A '1' of dark ink (grey 20, with a grey-128 edge) on white paper, 60x60 8-bit grey."""
    import numpy as np

    page = np.full((60, 60), 255, np.uint8)
    page[10:50, 27:33] = 20
    page[10:50, 25:27] = 128
    return page


@pytest.mark.parametrize("kind", ["palette GIF", "palette PNG", "1-bit PNG", "grey+alpha PNG",
                                  "16-bit PNG", "16-bit TIFF", "32-bit integer TIFF",
                                  "float TIFF", "CMYK JPEG"])
def test_every_image_mode_reads_as_its_8_bit_grey(kind):
    """Issue 26: palette, 1-bit, 16-bit, float and CMYK files give the digit their 8-bit grey
    twin gives (Pillow's own convert() clips 16-bit greys at 255: a 16-bit scan of dark ink
    on paper read as an empty white page)."""
    import numpy as np

    page = _paper_digit()
    grey = Image.fromarray(page)
    wide = page.astype(np.int32) * 257
    files = {
        "palette GIF": (grey.convert("P"), "GIF"),
        "palette PNG": (grey.convert("P", palette=Image.Palette.ADAPTIVE, colors=4), "PNG"),
        "1-bit PNG": (grey.point(lambda v: 255 if v > 200 else 0).convert("1"), "PNG"),
        "grey+alpha PNG": (grey.convert("LA"), "PNG"),
        "16-bit PNG": (Image.fromarray(wide.astype(np.uint16)), "PNG"),
        "16-bit TIFF": (Image.fromarray(wide.astype(np.uint16)), "TIFF"),
        "32-bit integer TIFF": (Image.fromarray(wide), "TIFF"),
        "float TIFF": (Image.fromarray(page.astype(np.float32) / 255), "TIFF"),
        "CMYK JPEG": (grey.convert("CMYK"), "JPEG"),
    }
    image, fmt = files[kind]
    got = mnist_style(read_upload(_saved(image, fmt))).astype(int)
    twin = np.asarray(image.convert("L")) if kind == "1-bit PNG" else page  # its own greys
    want = mnist_style(twin).astype(int)
    # lossy JPEG moves edge pixels a little; a clipped grey moves them all
    assert np.abs(got - want).max() <= (60 if kind == "CMYK JPEG" else 1)
    assert got.sum() == pytest.approx(want.sum(), rel=0.1)
