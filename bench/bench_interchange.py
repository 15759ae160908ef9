"""Big annotation files through the real `emotrace` command (issue 21): peak RSS (`/usr/bin/time -v`) and wall time
of refusing `/dev/zero`, importing a CARMA CSV and a NOVA file of 3.6 million samples into an hour of audio, and
rejecting a 1,000,001-row label CSV at its last row. One JSON line per case.

    python bench/bench_interchange.py [WORKDIR]
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf


def timed(db: Path, *args: str) -> dict:
    r = subprocess.run(["/usr/bin/time", "-v", "emotrace", "--db", str(db), "-q", *args], capture_output=True, text=True)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time .*: (\S+)", r.stderr).group(1)
    said = (r.stderr.split("\tCommand being timed")[0].strip().splitlines() or r.stdout.strip().splitlines() or [""])
    return {"rc": r.returncode, "peak_rss_mb": round(rss), "wall": wall, "said": said[0][:120]}


def main(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    (work / "c").mkdir(parents=True)
    sf.write(str(work / "c" / "long.wav"), np.full(16000 * 3600, 0.01, np.float32), 16000)
    db = work / "s.sqlite"
    cases = {"import an hour of audio": ["import", str(work / "c"), "--corpus", "c"],
             "import --labels /dev/zero": ["import", str(work / "c"), "--corpus", "c", "--labels", "/dev/zero"]}
    n = 3_600_000
    with open(work / "big.csv", "w") as fh:
        fh.write("time,value\n")
        fh.writelines(f"{k / 1000:.3f},{(k % 200) - 99.5}\n" for k in range(n))
    trace = ["traces", "import", "--corpus", "c", "--file", "long", "--annotator", "big", "--dimension", "valence"]
    cases[f"CARMA CSV {(work / 'big.csv').stat().st_size / 1e6:.0f} MB, {n} samples"] = \
        [*trace, "--path", str(work / "big.csv")]
    (work / "big.annotation").write_text('<?xml version="1.0"?><annotation ssi-v="3"><info ftype="ASCII" size="3599000"/>'
                                         '<scheme name="valence" type="CONTINUOUS" sr="1000" min="0" max="1"/>'
                                         '</annotation>')
    with open(work / "big.annotation~", "w") as fh:
        fh.writelines(f"{(k % 1000) / 1000:.3f};1\n" for k in range(3_599_000))
    cases[f"NOVA {(work / 'big.annotation~').stat().st_size / 1e6:.0f} MB, 3599000 frames"] = \
        [*trace, "--format", "nova", "--path", str(work / "big.annotation")]
    with open(work / "labels.csv", "w") as fh:
        fh.write("file,start,end,arousal,valence,dominance,annotator\n")
        fh.writelines(f"long.wav,{k * 0.01:.2f},{k * 0.01 + 0.01:.2f},4,4,4,rater{k % 7}\n" for k in range(1_000_000))
        fh.write("long.wav,1,2,9,4,4,rater1\n")
    cases[f"label CSV {(work / 'labels.csv').stat().st_size / 1e6:.0f} MB, bad last row"] = \
        ["import", str(work / "c"), "--corpus", "c", "--labels", str(work / "labels.csv")]
    for name, args in cases.items():
        print(json.dumps({"case": name, **timed(db, *args)}), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/bench_interchange"))
