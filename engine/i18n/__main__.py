"""python -m engine.i18n         how complete each catalogue is (exit 1 if zh lacks something)
python -m engine.i18n stamp   record the English each Chinese string renders (after editing zh.toml)"""
from __future__ import annotations

import sys

from engine import i18n
from engine.i18n import audit


def main(argv: list[str]) -> int:
    if argv == ["stamp"]:
        print(f"stamped {audit.stamp()} keys into {audit.SOURCES}")
        return 0
    if argv:
        print(__doc__)
        return 2
    for lang in i18n.LANGS:
        print(f"{lang}.toml: {len(i18n.catalogue(lang))} strings")
    problems = {"missing in zh": audit.missing_keys("zh"), "stale in zh": audit.stale_keys("zh"),
                "English changed since the Chinese was written": audit.changed_keys(),
                "{fields} differ from English": audit.placeholder_mismatches("zh")}
    for what, keys in problems.items():
        if keys:
            print(f"{what} ({len(keys)}): " + ", ".join(keys))
    return 1 if any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
