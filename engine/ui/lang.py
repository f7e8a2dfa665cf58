"""The visitor's language, kept in the URL (`?lang=zh` / `?lang=en`), and the sidebar switch.

Order: an explicit `?lang=` in the URL, else the language this session chose last (page
links may drop the query), else the browser's locale (`st.context.locale`: zh* -> zh),
else English. Whatever wins is written back into the URL, so a reload or a shared link
keeps it.
"""
from __future__ import annotations

import streamlit as st

from engine import i18n

PARAM = "lang"
_CHOSEN = "top10:lang"  # session state: the language this session settled on
_SWITCH = "top10:lang_switch"  # session state: the sidebar widget


def current() -> str:
    """The language of this run, one of i18n.LANGS; also puts it into the URL."""
    lang = (i18n.match(st.query_params.get(PARAM))
            or st.session_state.get(_CHOSEN)
            or i18n.match(st.context.locale)
            or i18n.ENGLISH)
    st.session_state[_CHOSEN] = lang
    if st.query_params.get(PARAM) != lang:
        st.query_params[PARAM] = lang
    return lang


def _switched() -> None:
    chosen = st.session_state[_SWITCH]
    st.session_state[_CHOSEN] = chosen
    st.query_params[PARAM] = chosen


def switch() -> str:
    """The sidebar's English / 简体中文 switch; returns the language of this run."""
    lang = current()
    st.session_state[_SWITCH] = lang  # follows the URL when someone edits it by hand
    st.sidebar.radio(i18n.t("ui.language", lang), i18n.LANGS, key=_SWITCH,
                     format_func=i18n.LANG_NAMES.__getitem__, horizontal=True,
                     on_change=_switched)
    return lang
