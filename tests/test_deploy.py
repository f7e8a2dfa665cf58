"""The Streamlit Community Cloud install list (Pipfile) against the local one (requirements.txt):
same packages, same pins, and only torch and torchvision taken from PyTorch's CPU index."""
from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
FROM_CPU_INDEX = {"torch", "torchvision"}


def pins(requirements: list[Requirement]) -> dict[str, tuple]:
    """{canonical name: (extras, version specifier, marker)}; a name listed twice is an error."""
    table: dict[str, tuple] = {}
    for req in requirements:
        name = canonicalize_name(req.name)
        assert name not in table, f"{req.name} is listed twice"
        table[name] = (sorted(req.extras), str(req.specifier), str(req.marker or ""))
    return table


def requirements_txt(path: Path) -> list[Requirement]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def pipfile_requirement(name: str, entry: str | dict) -> Requirement:
    """A Pipfile [packages] entry ("==1.0" or {version, extras, markers, index}) as a PEP 508 line."""
    entry = {"version": entry} if isinstance(entry, str) else entry
    version = entry.get("version", "*")
    extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
    markers = f"; {entry['markers']}" if entry.get("markers") else ""
    return Requirement(f"{name}{extras}{'' if version == '*' else version}{markers}")


def load_pipfile() -> dict:
    return tomllib.loads((ROOT / "Pipfile").read_text())


def test_cloud_pins_match_local_pins():
    cloud = pins([pipfile_requirement(n, e) for n, e in load_pipfile()["packages"].items()])
    local = pins(requirements_txt(ROOT / "requirements.txt"))
    differ = {name: {"Pipfile": cloud.get(name), "requirements.txt": local.get(name)}
              for name in cloud.keys() | local.keys() if cloud.get(name) != local.get(name)}
    assert not differ, f"Pipfile and requirements.txt disagree: {differ}"
    assert all(spec.startswith("==") for _, spec, _ in local.values()), "pin every package exactly"


def test_only_torch_and_torchvision_come_from_the_cpu_index():
    pipfile = load_pipfile()
    sources = {source["name"]: source["url"].rstrip("/") for source in pipfile["source"]}
    assert pipfile["source"][0]["url"].rstrip("/") == "https://pypi.org/simple", \
        "the first source is pipenv's default index and must stay PyPI"
    indexed = {canonicalize_name(name): entry["index"] for name, entry in pipfile["packages"].items()
               if isinstance(entry, dict) and "index" in entry}
    assert set(indexed) == FROM_CPU_INDEX
    assert all(sources.get(index) == CPU_INDEX for index in indexed.values()), (indexed, sources)


def test_cloud_reads_the_pipfile():
    """Cloud takes the first of uv.lock, Pipfile, environment.yml, requirements.txt,
    pyproject.toml beside the entrypoint (Home.py, at the root), so the Pipfile must sit there
    and no uv.lock may come before it."""
    assert (ROOT / "Home.py").exists() and (ROOT / "Pipfile").exists()
    assert not (ROOT / "uv.lock").exists(), "Cloud would install from uv.lock, not the Pipfile"
