"""Issue 27 item 5: the messages a visitor's own input gets read in the visitor's language:
Word2Vec's unknown or empty word (on the page, with the shipped runs) and every reason an
upload or a drawing cannot become a digit."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from apptest_tools import ROOT, open_page
from engine import i18n
from engine.data.drawing import MAX_BYTES, BadImage, mnist_style, read_upload
from engine.markup import escape_markdown


@pytest.fixture
def shipped(monkeypatch, store_dir):
    monkeypatch.setenv("TOP10_STORE_MIRROR", str(ROOT / "results"))


def test_word2vec_unknown_and_empty_word_in_chinese(shipped):
    at = open_page("word2vec", 120)
    at.query_params["lang"] = "zh"
    # typed before the one run: AppTest cannot rerun a page whose radio shows translated
    # options (it looks the English value up among the shown names)
    at.session_state["word2vec:word"] = "xyzzy"
    at.session_state["word2vec:a"] = " "
    at.run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    unknown = [m for m in warnings if "xyzzy" in m]
    assert unknown and all("不在这次训练的词表里" in m and "vocabulary" not in m
                           for m in unknown), warnings
    assert escape_markdown("“xyzzy”") in unknown[0]
    assert "请先输入一个词" in warnings, warnings


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("make, english", [
    (lambda: read_upload(b"not an image"), "not an image we can read"),
    (lambda: read_upload(b"\0" * (MAX_BYTES + 1)), "upload an image under 5 MB"),
    (lambda: read_upload(png(4096, 4096)), "4096x4096 pixels"),
    (lambda: mnist_style(read_upload(png(40, 40))), "the image is empty"),
])
def test_every_bad_image_reason_reads_in_chinese(make, english):
    i18n.reset_fallbacks()
    with pytest.raises(BadImage) as error:
        make()
    assert english in str(error.value)  # the English line, for logs and the CLI
    chinese = error.value.text("zh")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese) and english not in chinese
    assert not i18n.fallbacks()
