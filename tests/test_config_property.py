"""Property test (issue 15): for every card, CLI-like strings given to registry.build_spec
give either a valid spec (every field in range and finite, the run id round-trips through
JSON) or a one-line ConfigError; never any other exception."""
from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import registry
from engine.core import ConfigError, RunSpec, config_fields

TRICKY = ["", " ", "0", "-1", "1e3", "1e-3", "1E999", "-0", "nan", "inf", "-inf", "1_0", "٣",
          "１２", "0x10", "1/2", "true", "False", "yes", "none", "None", "1.5", ".5", "5.",
          "+3", "  7  ", "2**8", "x" * 300, "\x00", "10,000"]


ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def spellings(number: int):
    """An in-range number as a person might type it, or as a hostile link might."""
    text = str(number)
    return st.sampled_from([text, text.translate(ARABIC), text.translate(FULLWIDTH),
                            "_".join(text) if len(text) > 1 else text + "_0", f" {text} "])


def values_for(field):
    meta = field.metadata
    numbers = st.one_of(st.integers(-10**7, 10**7).map(str),
                        st.floats(allow_nan=True, allow_infinity=True).map(repr))
    near = []
    if meta.get("lo") is not None:
        near = [str(meta["lo"]), str(meta["hi"]), str(meta["lo"] - 1), str(meta["hi"] + 1)]
    choices = [str(c) for c in meta.get("choices") or ()]
    if meta.get("lo") is not None and math.ceil(meta["lo"]) <= math.floor(meta["hi"]):
        numbers = st.one_of(numbers, st.integers(math.ceil(meta["lo"]), math.floor(meta["hi"]))
                            .flatmap(spellings))
    return st.one_of(numbers, st.sampled_from(TRICKY + near + choices), st.text(max_size=12))


@st.composite
def requests(draw):
    key = draw(st.sampled_from(registry.KEYS))
    card = registry.card(key)
    fields = config_fields(card.config_cls)
    chosen = draw(st.lists(st.sampled_from(fields), max_size=3, unique_by=lambda f: f.name))
    overrides = {f.name: draw(values_for(f)) for f in chosen}
    hostile = draw(st.integers(0, 9)) == 0  # now and then a bad key, variant or preset
    if hostile:
        overrides[draw(st.sampled_from(["nope", "Epochs", "epochs ", ""]))] = "1"
    variant = draw(st.sampled_from([*card.variants, *["nope"] * hostile]))
    preset = draw(st.sampled_from([*card.presets, *["huge"] * hostile]))
    seed = draw(st.integers(0, 2**31))
    return key, variant, preset, overrides, seed


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_build_spec_gives_a_valid_spec_or_a_config_error(request):
    key, variant, preset, overrides, seed = request
    try:
        spec = registry.build_spec(key, variant, preset, overrides, seed)
    except ConfigError as error:
        message = str(error)
        assert message and "\n" not in message and len(message) < 400, message
        return
    card = registry.card(key)
    assert spec.variant in card.variants
    for field in config_fields(card.config_cls):
        value, meta = spec.config[field.name], field.metadata
        assert type(value) is type(field.default), field.name
        if isinstance(value, float):
            assert math.isfinite(value), field.name
        if meta.get("lo") is not None:
            assert meta["lo"] <= value <= meta["hi"], field.name
        if meta.get("choices") is not None:
            assert value in meta["choices"], field.name
    numeric = {f.name for f in config_fields(card.config_cls)
               if type(f.default) in (int, float) and f.metadata.get("choices") is None}
    for name, text in overrides.items():  # a number is typed in ASCII digits, without '_'
        if name in numeric:
            assert text.isascii() and "_" not in text, (name, text)
    again = RunSpec.from_json(spec.to_json())
    assert registry.run_id(again) == registry.run_id(spec)
    assert registry.build_spec(key, variant, preset, spec.config, seed).config == spec.config
