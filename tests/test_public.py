"""Public mode: each refusal is one clear line and queues nothing; off by default."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from apptest_tools import open_page
from engine import registry
from engine.core import ConfigError
from engine.public import Policy


def specs(preset="quick", variants=("mlp",)):
    return [registry.build_spec("dnn", v, preset) for v in variants]


def cards(specs_):
    return [registry.card(s.algorithm) for s in specs_]


def test_off_by_default(monkeypatch):
    monkeypatch.delenv("TOP10_PUBLIC", raising=False)
    rules = Policy.from_settings({})
    assert not rules.public and rules.limit is None
    full = specs("full", ("mlp", "deep"))
    assert rules.refuse_training(full, [True, True], cards(full), 5, 50) is None
    assert rules.refuse_action("delete", ["x"], set()) is None


def test_settings_from_env_or_secrets(monkeypatch):
    monkeypatch.delenv("TOP10_PUBLIC", raising=False)
    monkeypatch.delenv("TOP10_PUBLIC_QUEUE", raising=False)
    assert Policy.from_settings({"TOP10_PUBLIC": "true", "TOP10_PUBLIC_QUEUE": 5}) == \
        Policy(True, 5)
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    assert Policy.from_settings({"TOP10_PUBLIC": "0"}).public  # the environment wins
    monkeypatch.setenv("TOP10_PUBLIC_QUEUE", "lots")
    with pytest.raises(ConfigError, match="TOP10_PUBLIC_QUEUE"):
        Policy.from_settings({})


RULES = Policy(public=True, queue_cap=2)


def refuse(specs_, new, mine=0, everyone=0):
    return RULES.refuse_training(specs_, new, cards(specs_), mine, everyone)


def test_a_config_is_judged_by_its_cost_not_its_label():
    why = refuse(specs("full"), [True])
    assert why == ("Public mode: mlp would cost more than the standard preset allows here: "
                   "epochs 30 (at most 5), hidden 1024 (at most 256). Lower these, or train "
                   "it on your own machine.")
    assert refuse(specs("standard"), [True]) is None
    # a changed learning rate costs nothing more: its label is custom, and it is allowed
    custom = registry.build_spec("dnn", "mlp", "standard", {"lr": "0.01", "epochs": "3"})
    assert custom.preset == "custom" and refuse([custom], [True]) is None
    bigger = registry.build_spec("dnn", "mlp", "standard", {"epochs": "6"})
    assert "epochs 6 (at most 5)" in refuse([bigger], [True])


@pytest.mark.parametrize("key, overrides, named", [
    ("dqn", {"eval_every": "500"}, "eval_every 500 (at least 1000)"),  # smaller costs more
    ("resnet", {"epochs": "3"}, "epochs 3 (at most 2)"),
    ("gnn", {"projection": "tsne"}, "projection tsne (standard: pca)"),  # a choice
])
def test_each_cost_direction(key, overrides, named):
    card = registry.card(key)
    spec = registry.build_spec(key, next(iter(card.variants)), "standard", overrides)
    assert named in refuse([spec], [True])


def test_zero_images_means_all_of_them_the_most():
    from engine import public
    from engine.core import COSTS_MORE_ZERO_ALL

    assert public._size(0, COSTS_MORE_ZERO_ALL) > public._size(55000, COSTS_MORE_ZERO_ALL)
    assert public._size(4000, COSTS_MORE_ZERO_ALL) < public._size(15000, COSTS_MORE_ZERO_ALL)


def test_one_run_per_visitor():
    assert "one run at a time" in refuse(specs(variants=("mlp", "deep")), [True, True])
    assert "one run at a time" in refuse(specs(), [True], 1, 1)
    # what is served from the store (or shared with a live run) trains nothing: allowed
    assert refuse(specs("full", ("mlp", "deep")), [False, False], 1, 2) is None


def test_global_queue_cap():
    assert "queue is full (2 of 2)" in refuse(specs(), [True], 0, 2)


def test_actions_only_on_own_runs():
    assert "only runs you started" in RULES.refuse_action("delete", ["a", "b"], {"a"})
    assert RULES.refuse_action("cancel", ["a"], {"a"}) is None


def test_the_queue_limit_holds_in_the_transaction(store):
    """Twelve visitors' requests at once, from threads each with its own connection: the
    check and the insert are one transaction, so never more than the cap are queued."""
    import threading

    from engine.store import QueueFull, QueueLimit

    limit, outcomes = QueueLimit(per_visitor=1, total=3), []
    barrier = threading.Barrier(12)

    def ask(i):
        spec = registry.build_spec("dnn", "mlp", "quick", {"hidden": str(10 + i)})
        barrier.wait()
        try:
            store.enqueue(registry.run_id(spec), spec, visitor=f"v{i % 6}", limit=limit)
            outcomes.append("queued")
        except QueueFull as full:
            outcomes.append(Policy.refuse_queue(full))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("queued") == 3 == len(store.list_runs(status="queued"))
    assert all("one run at a time" in o or "queue is full" in o for o in outcomes if o != "queued")
    visitors = [v for v in (f"v{i}" for i in range(6)) if store.requested_by(v)]
    assert len(visitors) == 3  # one run each: never two for one visitor


def test_a_visitor_key_survives_a_reload():
    """A reload is a new Streamlit session: the key comes from the address, else the XSRF
    cookie's token (masked afresh in every response), never the session when either is there."""
    from engine.ui.visitor import visitor_key, xsrf_token

    token = bytes(range(16))

    def cookie(mask: bytes) -> str:
        masked = bytes(t ^ mask[i % 4] for i, t in enumerate(token))
        return f"2|{mask.hex()}|{masked.hex()}|1700000000"

    first, again = cookie(b"\x01\x02\x03\x04"), cookie(b"\xaa\xbb\xcc\xdd")
    assert first != again and xsrf_token(first) == xsrf_token(again) == token.hex()
    assert visitor_key(None, None, first, "s1") == visitor_key(None, None, again, "s2")
    assert visitor_key(None, None, None, "s1") != visitor_key(None, None, None, "s2")
    assert visitor_key("203.0.113.9, 10.0.0.1", "10.0.0.1", first, "s1") == \
        visitor_key("203.0.113.9", None, None, "s3")  # the proxy's forwarded client wins
    assert visitor_key(None, "198.51.100.7", first, "s1") != visitor_key(None, None, first, "s1")


def test_page_refuses_full_and_queues_nothing(store, store_dir, monkeypatch):
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    monkeypatch.setattr("engine.jobs.ProcessExecutor.wake", lambda self: None)  # no worker
    at = open_page("dnn").run()
    at.segmented_control(key="dnn:preset").set_value("full").run()
    at.button[0].click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        ("Public mode: logreg would cost more than the standard preset allows here: "
         "epochs 30 (at most 5), hidden 1024 (at most 256). Lower these, or train it on "
         "your own machine.")]
    assert store.list_runs() == []
    at.segmented_control(key="dnn:preset").set_value("quick").run()
    at.button[0].click().run()  # three variants at once: still one run per visitor
    assert "one run at a time" in at.error[0].value and store.list_runs() == []
    at.multiselect(key="dnn:variants").set_value(["mlp"])
    at.button[0].click().run()
    assert not at.error, at.error[0].value
    assert [r["variant"] for r in store.list_runs(status="queued")] == ["mlp"]
    assert any(b.label == "Cancel" for b in at.button)  # their own run: cancel offered


def test_runs_page_refuses_others_runs(store, store_dir, stored_run, monkeypatch):
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    run = stored_run("dnn", "mlp", {"hidden": 8}, {"test/acc": 0.5})

    def app():
        import streamlit as st

        from engine import ui

        manager = ui.manager()
        summary, *lines = ui.apply_action(manager, "delete", manager.store.list_runs())
        st.text("\n".join(lines) if not summary else "a success: " + summary)

    at = AppTest.from_function(app, default_timeout=60).run()
    assert not at.exception
    assert at.text[0].value == ("Public mode: you can delete only runs you started "
                                "(1 selected were not).")
    assert store.get(run["id"]) is not None


def test_homes_train_all_refusal_stays_on_screen(store, store_dir, monkeypatch):
    monkeypatch.setenv("TOP10_PUBLIC", "1")
    monkeypatch.setattr("engine.jobs.ProcessExecutor.wake", lambda self: None)  # no worker
    from apptest_tools import HOME

    at = AppTest.from_file(HOME, default_timeout=60).run()
    next(b for b in at.button if b.label == "Train all (quick)").click().run()
    assert not at.exception
    assert any("one run at a time" in e.value for e in at.error)  # a rerun used to wipe it
    assert store.list_runs() == []
