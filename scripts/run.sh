#!/usr/bin/env bash
# The main job: set up, import the demo corpus into the default store and open the app on it
# (with no display, print what the store holds instead).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=1
emotrace import resources/demo --corpus demo || true
emotrace stats --corpus demo
