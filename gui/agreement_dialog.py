"""Jobs > Annotator agreement: the statistics of emotrace.core.stats.agreement for a corpus and split, as read
by a reviewer.

One table of the headline figures per dimension (ICC(2,1) and ICC(2,k) with 95% CIs, Krippendorff's alpha,
median rater-vs-others CCC), one of rater-vs-others CCC, one of pairwise CCC, and the category kappas. The
report is computed on the GUI thread: it reads current labels once and takes well under a second for a corpus
of thousands of ratings (bench/README.md).
"""

from __future__ import annotations

import json

import numpy as np
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from emotrace.core.stats.agreement import agreement_report
from emotrace.core.store import Store
from emotrace.core.vocab import DIMENSIONS

ALL_SPLITS = "all splits"


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def _table(headers: list[str], rows: list[list[str]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(value))
    table.resizeColumnsToContents()
    return table


class AgreementDialog(QDialog):
    def __init__(self, store: Store, corpus: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.corpus = store, corpus
        self.setWindowTitle(f"Agreement between raters: {corpus}")
        self.split_box = QComboBox()
        corpus_id = store.corpora.corpus(corpus).id
        splits = sorted({s.split for s in store.segments.corpus_segments(corpus_id) if s.split}
                        | {f.split for f in store.corpora.files(corpus_id) if f.split})
        self.split_box.addItems([ALL_SPLITS, *splits])
        self.split_box.currentIndexChanged.connect(self.refresh)
        copy = QPushButton("Copy as JSON", clicked=self.copy_json)
        top = QHBoxLayout()
        top.addWidget(QLabel("Split:"))
        top.addWidget(self.split_box)
        top.addStretch(1)
        top.addWidget(copy)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.tabs = QTabWidget()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs)
        self.resize(820, 460)
        self.report: dict = {}
        self.refresh()

    def refresh(self) -> None:
        split = self.split_box.currentText()
        self.report = agreement_report(self.store, self.corpus, split=None if split == ALL_SPLITS else split)
        self.summary.setText(f"{self.report['raters']} human raters, {self.report['segments']} segments. Accepted "
                             "predictions and computed consensus are not raters. ICC is computed on the largest "
                             "block of segments that one set of raters all rated; Krippendorff's alpha uses every "
                             "rating.")
        self.tabs.clear()
        self.tabs.addTab(self._headline(), "Summary")
        self.tabs.addTab(self._vs_others(), "Rater vs others (CCC)")
        self.tabs.addTab(self._pairs(), "Pairs (CCC)")
        self.tabs.addTab(self._categories(), "Categories (kappa)")

    def _headline(self) -> QTableWidget:
        rows = []
        for dim in DIMENSIONS:
            e = self.report["dimensions"][dim]
            icc = e["icc"] or {}
            cells = []
            for form in ("ICC(2,1)", "ICC(2,k)"):
                f = icc.get(form)
                cells.append(f"{_fmt(f['icc'])} [{_fmt(f['ci95'][0])}, {_fmt(f['ci95'][1])}]" if f else "-")
            vs = [v["ccc"] for v in e["ccc_rater_vs_others"].values() if v["ccc"] is not None]
            rows.append([dim, str(e["ratings"]), *cells, f"{icc.get('segments', 0)} x {icc.get('raters', 0)}",
                         _fmt(e["krippendorff_alpha_interval"]), _fmt(float(np.median(vs)) if vs else None)])
        return _table(["dimension", "ratings", "ICC(2,1) [95% CI]", "ICC(2,k) [95% CI]", "ICC block",
                       "Krippendorff's alpha (interval)", "median CCC vs others"], rows)

    def _vs_others(self) -> QTableWidget:
        raters = sorted({r for e in self.report["dimensions"].values() for r in e["ccc_rater_vs_others"]})
        rows = []
        for rater in raters:
            cells = [self.report["dimensions"][d]["ccc_rater_vs_others"].get(rater) for d in DIMENSIONS]
            n = max((c["n"] for c in cells if c), default=0)
            rows.append([rater, str(n), *(_fmt(c["ccc"]) if c else "-" for c in cells)])
        return _table(["rater", "segments", *DIMENSIONS], rows)

    def _pairs(self) -> QTableWidget:
        pairs: dict[tuple, dict] = {}
        for dim in DIMENSIONS:
            for p in self.report["dimensions"][dim]["ccc_pairwise"]:
                pairs.setdefault(tuple(p["pair"]), {"n": p["n"]})[dim] = p["ccc"]
        rows = [[" vs ".join(k), str(v["n"]), *(_fmt(v.get(d)) for d in DIMENSIONS)] for k, v in sorted(pairs.items())]
        return _table(["raters", "shared segments", *DIMENSIONS], rows)

    def _categories(self) -> QTableWidget:
        cat = self.report["categories"]
        rows = [["Fleiss' kappa", f"{cat.get('fleiss_segments') or 0} segments x {cat['fleiss_raters'] or 0} raters",
                 _fmt(cat["fleiss_kappa"])]]
        rows += [[f"Cohen's kappa {p['pair'][0]} vs {p['pair'][1]}", f"{p['n']} segments", _fmt(p["kappa"])]
                 for p in cat["cohen_pairwise"]]
        return _table(["statistic", "over", "kappa"], rows)

    def copy_json(self) -> None:
        QApplication.clipboard().setText(json.dumps(self.report, indent=1))
