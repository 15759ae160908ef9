#!/usr/bin/env bash
# The installed product, tried as a user would: build the wheel, install it into a fresh venv, and from a folder
# outside the checkout run `emotrace --help` (checking that it imports no torch), import -> transcribe -> analyze
# on the packaged demo audio with the bundled model, and `emotrace gui` without PySide6 (one line, rc 2).
# Also checks that the wheel installs only `emotrace` (+ its dist-info and the console script).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/emotrace-wheel.XXXXXX)"
trap 'rm -rf "$work"' EXIT
PY=${PYTHON:-python3}
echo "== building the wheel"
"$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$work/dist" "$repo" 2>/dev/null \
  || "$PY" -m pip wheel -q --no-deps -w "$work/dist" "$repo"
wheel="$(ls "$work"/dist/emotrace-*.whl)"
echo "   $(basename "$wheel") ($(du -h "$wheel" | cut -f1))"
tops="$("$PY" - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
print(" ".join(sorted({n.split("/")[0] for n in names})))
PY
)"
echo "   top-level entries: $tops"
for t in $tops; do
  case "$t" in emotrace|emotrace-*.dist-info) ;; *) echo "FAIL: the wheel installs $t beside emotrace" >&2; exit 1 ;; esac
done
echo "== a fresh venv"
"$PY" -m venv "$work/venv"
. "$work/venv/bin/activate"
python -m pip install -q --upgrade pip 2>/dev/null
python -m pip install -q "torch==2.13.0"
python -m pip install -q "$wheel[offline-models]"
cd "$work"  # outside the checkout: nothing may come from the repository
export EMOTRACE_HOME="$work/home" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "== emotrace --help (no torch)"
start=$(date +%s.%N)
emotrace --help >/dev/null
echo "   $(python -c "print(round($(date +%s.%N) - $start, 2))") s"
python - <<'PY'
import sys
import emotrace.cli.main as m
m.build_parser()
heavy = [k for k in ("torch", "sqlalchemy", "PySide6", "transformers") if k in sys.modules]
assert not heavy, f"building the parser imported {heavy}"
import emotrace
assert "site-packages" in emotrace.__file__, emotrace.__file__
print("   parser built without", "torch, sqlalchemy, PySide6, transformers;", "emotrace from", emotrace.__file__)
PY
demo="$(python -c 'from importlib.resources import files; print(files("emotrace.resources") / "demo")')"
echo "== import -> transcribe -> analyze the packaged demo ($demo)"
emotrace -q import "$demo" --corpus demo
emotrace -q transcribe --corpus demo --model tiny.en
emotrace models list | tee "$work/models.txt"
grep -q '^\*.*default-ravdess' "$work/models.txt" || { echo "FAIL: the bundled model is not the active one" >&2; exit 1; }
emotrace -q analyze --corpus demo
emotrace trajectories --corpus demo --out "$work/traj.csv"
rows=$(($(wc -l < "$work/traj.csv") - 1))
echo "   $rows trajectory windows"
[ "$rows" -gt 10 ] || { echo "FAIL: no trajectories for the demo audio" >&2; exit 1; }
echo "== emotrace gui without PySide6"
set +e
out="$(emotrace gui 2>&1)"; rc=$?
set -e
echo "   rc $rc: $out"
[ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ "$out" == *"emotrace[gui]"* ]] \
  || { echo "FAIL: emotrace gui without PySide6 should say so in one line (rc 2)" >&2; exit 1; }
echo "== site-packages gained only emotrace"
python - <<'PY'
import importlib.metadata as md
files = md.distribution("emotrace").files
tops = sorted({str(f).split("/")[0] for f in files})
bad = [t for t in tops if t not in ("emotrace", "..") and not t.startswith("emotrace-")]
assert not bad, bad
print("  ", tops)
PY
echo "wheel check passed"
