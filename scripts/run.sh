#!/usr/bin/env bash
# The main job: set up, import the demo corpus into the default store, transcribe it, analyze it with the
# active model (a store without models gets the bundled resources/models/emotrace-ravdess as its first
# version), and open the app on it. With no display it prints what the store holds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
emotrace -q import resources/demo --corpus demo
emotrace -q transcribe --corpus demo --model base
if emotrace models list | grep -q '^\*'; then
  emotrace -q analyze --corpus demo
else
  echo "No trained model yet: train one on a labelled corpus (emotrace import DIR --corpus NAME;" \
       "emotrace train --corpus NAME), then analyze. See README." >&2
fi
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec emotrace gui --corpus demo
fi
echo "No display: showing the store instead of opening the app (emotrace gui --corpus demo opens it)."
emotrace stats --corpus demo
