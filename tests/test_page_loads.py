"""Every algorithm page loads in an empty store: its card's title, no exception, and each
variant says it is not trained yet (the LSTM and Transformer pages also offer the other
family's run on the same task)."""
from __future__ import annotations

import pytest

from apptest_tools import open_page
from engine import registry

RIVAL = {"lstm": "Train the Transformer on charlm", "transformer": "Train the LSTM on charlm"}


@pytest.mark.parametrize("key", registry.KEYS)
def test_page_loads_without_runs(key, store_dir):
    at = open_page(key).run()
    assert not at.exception, at.exception
    assert at.title[0].value == registry.card(key).title
    assert any("not trained yet" in c.value for c in at.caption)
    if key in RIVAL:
        assert any(b.label.startswith(RIVAL[key]) for b in at.button)
