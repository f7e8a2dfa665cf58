"""Showing strings we did not write (URL parameters, typed words and prompts, file names) in
Streamlit's Markdown: escaped so they render as the characters typed, never as a link, an
image, a heading or a colour directive, and cut so a hostile value cannot fill the page.
Plain Python: no Streamlit."""
from __future__ import annotations

import re
import string

SHOWN_CHARS = 120  # one user value in a message
SHOWN_ITEMS = 5  # items of a user-supplied list in a message

# Every ASCII punctuation character can be backslash-escaped in CommonMark; escaping them
# all also breaks autolinks (https\:\/\/…, www\.…) and Streamlit's :colour[...] directives.
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


# Streamlit's frontend (GitHub-flavoured Markdown) autolinks http://, www. and a@b.c even
# when escaped, as it reads the unescaped text: an invisible word joiner inside each breaks
# the pattern and leaves what is shown unchanged.
_AUTOLINK = re.compile(r"(?i)(?<=h)(?=ttps?)|(?<=f)(?=tp)|(?<=w)(?=ww)|(?=@)|(?<=mailt)(?=o)")
WORD_JOINER = "\u2060"


def escape_markdown(text: object, limit: int = SHOWN_CHARS) -> str:
    """str(text) cut to `limit` characters, on one line, with Markdown's meaning removed
    (links, images, headings, colour directives and the frontend's autolinks)."""
    text = " ".join(str(text).split())  # newlines would start new blocks
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _PUNCTUATION.sub(r"\\\1", _AUTOLINK.sub(WORD_JOINER, text))


def capped(items: list, limit: int = SHOWN_ITEMS) -> list[str]:
    """The first `limit` items as strings, then 'and 2,997 more' if there are more."""
    rest = len(items) - limit
    return [str(i) for i in items[:limit]] + ([f"and {rest:,} more"] if rest > 0 else [])
