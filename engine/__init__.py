"""Deep Learning Top-10: everything that is not a widget.

Training flows one way: registry card -> RunSpec -> store lookup -> (miss) job ->
algorithm.run(spec, report) -> store. Inspection flows the other way, kept apart:
store -> ui.restored(run) -> inspect.restore(run, artifacts) -> model -> plots -> page.
Nothing in this package imports Streamlit except engine.ui.
"""
from engine import settings as _settings

_settings.apply_wait_policy()  # before anything imports torch: see settings.WAIT_POLICY
