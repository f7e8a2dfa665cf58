"""Issue 15, item 7: user-supplied strings shown as Markdown are escaped and capped. Hostile
Compare links render no link, image, heading or colour; a 3,000-id link a short warning."""
from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from apptest_tools import open_page
from engine.markup import capped, escape_markdown

HOSTILE = ["[win a prize](https://evil.example)", "![x](https://evil.example/pixel.png)",
           "<https://evil.example>", "https://evil.example/a", "www.evil.example",
           "# HUGE", ":red[**alert**]", "`code`", "a\n\n## b", "<img src=x onerror=alert(1)>"]
MARKUP = ("<a", "<img", "<h1", "<h2", "<strong", "<code", "<em")


def rendered(text: str) -> str:
    return MarkdownIt("commonmark").render(text)


@pytest.mark.parametrize("value", HOSTILE)
def test_escaped_text_renders_as_plain_characters(value):
    html = rendered(escape_markdown(value))
    assert not any(tag in html for tag in MARKUP), html
    assert "\\:" in escape_markdown(":red[x]")


def test_escape_caps_length_and_lists():
    assert len(escape_markdown("x" * 10_000)) <= 120
    assert capped(list(range(3000))) == ["0", "1", "2", "3", "4", "and 2,995 more"]


@pytest.mark.parametrize("param", ["runs", "baseline", "metric", "x"])
def test_hostile_compare_links_show_no_markup(store, stored_run, param):
    run = stored_run("dnn", "mlp", {"hidden": 8}, {"test/acc": 0.5},
                     [(1, 0.5, "val/acc", 0.8)])
    for value in HOSTILE:
        at = open_page("compare")
        at.query_params.update({"runs": run["id"], param: value} if param != "runs"
                               else {"runs": f"{run['id']},{value}"})
        at.run()
        assert not at.exception
        for element in [*at.warning, *at.caption]:
            html = rendered(element.value)  # our own captions may use *emphasis*
            assert not any(tag in html for tag in ("<a", "<img", "<h1", "<h2")), (param, value)
            assert ":red[" not in element.value, (param, value)


def test_a_link_with_3000_ids_gives_a_short_warning(store):
    ids = ",".join(f"dnn-mlp-{i:012x}" for i in range(3000))
    at = open_page("compare")
    at.query_params["runs"] = ids
    at.run()
    assert not at.exception
    assert sum(len(w.value) for w in at.warning) < 1000


def test_an_overlong_compare_link_value_is_refused_in_one_line_without_reading_it():
    """Issue 26 item 1: a link value is not split, looked up and echoed at any length."""
    import tracemalloc

    from engine import compare

    link = {"runs": "dnn-mlp-000000000000," * 50_000, "metric": "m" * 10_000,
            "x": "x" * 10_000, "baseline": "b" * 10_000}
    tracemalloc.start()
    chosen, unknown, notes = compare.decode_selection(link, {})
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert chosen == compare.Selection() and unknown == []
    assert notes == [f"the link's '{key}' is too long (at most {most} characters)"
                     for key, most in [("runs", 20_000), ("x", 200), ("baseline", 200),
                                       ("metric", 200)]]
    assert peak < 1_000_000, peak  # the old code kept a list of 50,000 ids
    ids = ",".join(f"transformer-encoder-{i:012x}" for i in range(400))  # a sweep's link
    assert len(compare.decode_selection({"runs": ids}, {})[1]) == 400


@pytest.mark.parametrize("field, value", [
    ("seeds", "![x](https://evil.example/pixel.png)"),
    ("values:lr", "[win](https://evil.example/login),"),
    ("values:lr", "1," * 30_000),  # a trailing comma: the whole value is quoted back
])
def test_the_sweep_form_quotes_what_was_typed_as_short_text(store, field, value):
    """Issue 26 item 8: the Sweeps form's refusal quotes the typed value; it must render
    no image or link and not fill the page."""
    at = open_page("sweeps")
    at.run()
    at.text_input(key=f"sweep:dnn:{field}").set_value(value)
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception and len(at.error) == 1 and not store.list_runs()
    html = rendered(at.error[0].value)
    assert not any(tag in html for tag in ("<a", "<img")), html
    assert "https://" not in at.error[0].value  # the frontend would autolink it
    assert len(at.error[0].value) < 1000
