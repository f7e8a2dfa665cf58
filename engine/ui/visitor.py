"""Who this visitor is, in a way that survives a reload: public mode's one-run rule and who
may cancel what depend on it (engine/public.py). A Streamlit session ends at every reload,
so its id alone let one tab queue the whole app's cap and lose Cancel on its own run.

The key is a hash (the store keeps no address) of, in this order:
- the client's address: the first of X-Forwarded-For, which a proxy such as Streamlit
  Community Cloud's sets, else the connection's (Streamlit gives none on localhost);
- else Streamlit's XSRF cookie, one per browser and kept across reloads (its token, not the
  cookie text: Streamlit masks the token afresh in every response);
- else this session.
Both can be forged by a determined visitor (a made-up header, a cleared cookie): the rule
keeps an honest visitor from tripping over a reload, and the app-wide cap, checked in the
queueing transaction, still holds against everyone.
"""
from __future__ import annotations

import hashlib
import secrets

import streamlit as st

XSRF_COOKIE = "_streamlit_xsrf"  # Streamlit's cookie name (server.enableXsrfProtection)


def xsrf_token(cookie: str) -> str:
    """The token inside an XSRF cookie, as hex: '2|mask|masked|time' holds mask XOR token
    (a fresh mask per response); any other form is taken as it is."""
    parts = cookie.split("|")
    if len(parts) == 4 and parts[0] == "2":
        try:
            mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
        except ValueError:
            return cookie
        return bytes(m ^ mask[i % len(mask)] for i, m in enumerate(masked)).hex() if mask else cookie
    return cookie


def visitor_key(forwarded_for: str | None, address: str | None, xsrf_cookie: str | None,
                session: str) -> str:
    """16 hex characters naming the visitor (see the module's note for the order)."""
    client = (forwarded_for or "").split(",")[0].strip() or (address or "").strip()
    if client:
        source = "address:" + client
    elif xsrf_cookie:
        source = "browser:" + xsrf_token(xsrf_cookie)
    else:
        source = "session:" + session
    return hashlib.sha256(source[:500].encode()).hexdigest()[:16]


def current() -> str:
    """This visitor's key, from the request that opened the session."""
    context = st.context
    session = st.session_state.setdefault("visitor_session", secrets.token_hex(8))

    def text(value) -> str | None:  # no request (AppTest, a bare script run): not strings
        return value if isinstance(value, str) else None

    return visitor_key(text(context.headers.get("X-Forwarded-For")), text(context.ip_address),
                       text(context.cookies.get(XSRF_COOKIE)), session)
