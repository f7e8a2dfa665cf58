"""AppTest for the DQN page: it loads, a quick run started from the page finishes in the
worker process, and the table, the seed bands, the solve table and a replayed episode
(GIF, Q-values, policy map) show."""
from __future__ import annotations

import pytest

from apptest_tools import open_page, wait_for_results

PAGE = "dqn"


@pytest.mark.slow
def test_quick_run_from_the_page_shows_results_and_a_replay(store_dir):
    at = open_page(PAGE, 60).run()
    at.segmented_control(key="dqn:preset").set_value("quick").run()
    at.multiselect(key="dqn:variants").set_value(["random", "dqn"])
    at.button[0].click().run()  # the form's Train button
    assert not at.exception
    wait_for_results(at)
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["random", "dqn"]
    assert (table["eval/return"] > 5).all()
    solve = at.dataframe[1].value
    assert solve["seeds solved"].iloc[0] == "0/2"  # the random policy never gets to 475
    assert solve["seeds solved"].iloc[1].endswith("/2")
    assert any(s.value == "Replay one greedy episode" for s in at.subheader)
    # The learner's replay: a GIF with its step count and return, its Q-values, its policy.
    picker = at.selectbox(key="dqn:replay_run")
    picker.set_value(next(o for o in picker.options if o.startswith("dqn"))).run()
    assert not at.exception
    assert at.image and "steps, return" in at.image[0].captions[0]
    assert at.image[0].value[0]  # the GIF's media URL
    charts = at.get("plotly_chart")
    assert len(charts) >= 6  # curves, bands, loss, Q, Q along the episode, policy map

    # The random policy's replay has no Q-values to show.
    at.selectbox(key="dqn:replay_run").set_value(
        next(o for o in at.selectbox(key="dqn:replay_run").options if o.startswith("random")))
    at.run()
    assert not at.exception
    assert any("no Q-values" in i.value for i in at.info)
