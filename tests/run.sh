#!/usr/bin/env bash
# The one test command (README "Tests", and what CI runs): installs what the tests need on a
# fresh machine (Debian's chromium and a CJK font for the browser tests, the pinned Python
# packages), then runs ruff and the suite. Extra arguments go to pytest, e.g. -m "not slow".
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
if ((${#missing[@]})); then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python -m pip install -q -r requirements.txt -r tests/requirements.txt -r requirements-ray.txt \
  -r requirements-export.txt

export TOP10_CHROMIUM="${TOP10_CHROMIUM:-$(command -v chromium)}"
python -m ruff check .
python -m pytest -q "$@"
