"""Screenshots of the agreement view and a blind annotation job (issue 14), in a real window under Xvfb.

Builds a small MSP-style corpus in a temporary folder (40 generated clips, 5 of 12 raters each, two of them
careless; labels_detailed.csv + labels_consensus.csv), imports it, and shoots Jobs > Annotator agreement and
Jobs > Annotation jobs (a blind job, the first segment before the annotator saved) and the per-annotator lanes
of one file (consensus highlighted).

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots_raters.py --out docs/screenshots
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_corpus(root: Path, files: int = 40, raters: int = 12, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    (root / "Labels").mkdir(parents=True, exist_ok=True)
    detailed = [["FileName", "WorkerID", "EmoClass", "EmoAct", "EmoVal", "EmoDom"]]
    consensus = [["FileName", "EmoClass", "EmoAct", "EmoVal", "EmoDom", "SpkrID", "Gender", "Split_Set"]]
    for i in range(files):
        name = f"MSP-PODCAST_0042_{i:04d}.wav"
        t = np.arange(int(16000 * rng.uniform(2, 4))) / 16000
        sf.write(root / name, (0.2 * np.sin(2 * np.pi * (150 + 7 * i) * t)).astype(np.float32), 16000)
        truth = rng.uniform(2, 6, 3)
        given = []
        for r in rng.choice(raters, 5, replace=False):
            noise = 1.6 if r < 2 else 0.5
            v = np.clip(np.round(truth + rng.normal(0, noise, 3)), 1, 7)
            detailed.append([name, f"WORKER{r:05d}", rng.choice(["N", "H", "A", "S"], p=[.5, .2, .2, .1]),
                             *(f"{x:.0f}" for x in v)])
            given.append(v)
        mean = np.mean(given, axis=0)
        consensus.append([name, "N", *(f"{x:.4f}" for x in mean), str(i % 6), "Female",
                          "Train" if i < 28 else "Development" if i < 34 else "Test1"])
    for fname, rows in (("labels_detailed.csv", detailed), ("labels_consensus.csv", consensus)):
        with open(root / "Labels" / fname, "w", newline="") as fh:
            csv.writer(fh).writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    os.environ.setdefault("EMOTRACE_HOME", str(tmp / "home"))
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from emotrace.core.store import Store
    from emotrace.core.workflows.annotation_jobs import create_job
    from emotrace.core.workflows.importing import import_folder
    from emotrace.gui.agreement_dialog import AgreementDialog
    from emotrace.gui.annotation_jobs import AnnotationJobsDialog
    from emotrace.gui.annotator_lanes import AnnotatorLanes
    from scripts.screenshots import shoot

    make_corpus(tmp / "msp")
    store = Store(f"sqlite:///{tmp / 'store.sqlite'}")
    print(import_folder(store, tmp / "msp", "msp-demo").summary())
    dialog = AgreementDialog(store, "msp-demo")
    dialog.resize(980, 420)
    dialog.show()
    shoot(app, dialog, out / "agreement.png")
    dialog.tabs.setCurrentIndex(1)
    shoot(app, dialog, out / "agreement_raters.png")
    lanes = AnnotatorLanes(store)
    lanes.resize(900, 330)
    lanes.show()
    lanes.show_file(store.corpora.files(store.corpora.corpus("msp-demo").id)[3].id)
    shoot(app, lanes, out / "annotator_lanes.png")
    create_job(store, "msp-demo", "round 1", ["alice", "bob", "carol"], how="split", split="Train", overlap=2,
               blind=True)
    jobs = AnnotationJobsDialog(store, "msp-demo", "alice")
    jobs.show()
    shoot(app, jobs, out / "annotation_job_blind.png")
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
