"""Deep Learning Top-10: everything that is not a widget.

Data flows one way: registry card -> RunSpec -> store lookup -> (miss) job ->
algorithm.run(spec, report) -> store -> plots -> page. Nothing in this package
imports Streamlit except engine.ui.
"""
