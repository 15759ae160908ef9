"""Round trips are the identity (issue 21): random annotators (spaces, unicode, commas), segments (some split,
so a labelled source stays superseded beside the new ones) and labels with open dimensions go out through ELAN,
TextGrid, audformat and the per-rater CSV and back into a fresh store, which must hold the same current labels per
annotator; the ELAN and TextGrid exports carry the same intervals per tier, ELAN, TextGrid and CSV the same
intervals per annotator and dimension, and no tier holds overlapping annotations. (Every rater kind through the
CSV: tests/unit/test_formats.py::test_per_rater_csv_round_trips_every_rater_kind.)"""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emotrace.core.store import LabelSpec, Store
from tests.conftest import write_audio

NAME_CHARS = st.sampled_from(list("abcxyzÅéö中 ,.-'_") + ["ß"])
names = st.text(NAME_CHARS, min_size=1, max_size=12).map(str.strip).filter(
    lambda n: n and not n.startswith("consensus") and "+" not in n)
value = st.one_of(st.none(), st.integers(4, 28).map(lambda k: k / 4))  # 1.0 .. 7.0 in quarter steps
label = st.tuples(value, value, value, st.sampled_from([None, "H", "N", "A"])).filter(
    lambda v: any(x is not None for x in v[:3]))


@st.composite
def corpora(draw):
    raters = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    starts = sorted(draw(st.lists(st.integers(0, 36), min_size=1, max_size=5, unique=True)))
    spans = [(s / 2, min(s / 2 + draw(st.integers(1, 4)) / 2, (starts[i + 1] / 2 if i + 1 < len(starts) else 19.5)))
             for i, s in enumerate(starts)]
    labels = {(k, r): draw(label) for k in range(len(spans)) for r in raters if draw(st.booleans())}
    split = draw(st.one_of(st.none(), st.integers(0, len(spans) - 1)))
    return raters, spans, labels, split


def _build(root: Path, corpus) -> Store:
    from emotrace.core.workflows.importing import import_folder

    raters, spans, labels, split = corpus
    store = Store(f"sqlite:///{root / 'a.sqlite'}")
    import_folder(store, root / "c", "c")
    f = store.corpora.files(store.corpora.corpus("c").id)[0]
    specs = [LabelSpec(f.id, spans[k][0], spans[k][1], rater, v[:3], v[3]) for (k, rater), v in sorted(labels.items())]
    store.labels.import_labels(specs)
    if split is not None:
        seg = next((s for s in store.segments.segments(f.id) if (s.start, s.end) == spans[split]), None)
        if seg is not None and seg.end - seg.start >= 0.5:
            edit = store.segments.split_segment(seg.id, seg.start + (seg.end - seg.start) / 2)  # a labelled source stays
            first = next(g for g in store.segments.segments(f.id) if g.start == seg.start and g.id != seg.id)
            if edit is not None and labels:  # one part labelled anew: it overlaps the labelled source
                store.labels.record_label(first.id, annotator=raters[0], arousal=7.0, valence=None, dominance=2.5)
    return store


def _current(store: Store) -> list:
    corpus_id = store.corpora.corpus("c").id
    bounds = {s.id: (round(s.start, 3), round(s.end, 3)) for s in store.segments.corpus_segments(corpus_id)}
    return sorted((bounds[c.segment_id], c.annotator, c.values, c.category)
                  for c in store.labels.current_labels(corpus_id=corpus_id) if c.segment_id in bounds)


def _tiers(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    if path.suffix == ".eaf":
        import pympi

        eaf = pympi.Elan.Eaf(str(path))
        return {t: sorted((a / 1000, b / 1000, str(x)) for a, b, x, *_ in eaf.get_annotation_data_for_tier(t))
                for t in eaf.get_tier_names()}
    from praatio import textgrid

    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    return {n: sorted((round(e.start, 3), round(e.end, 3), e.label) for e in tg.getTier(n).entries) for n in tg.tierNames}


def _per_rater_dimension(path: Path) -> dict[tuple[str, str], list[tuple[float, float, str]]]:
    """Intervals per (annotator, dimension or category): an EAF/TextGrid's layered tiers merged, or the CSV's rows."""
    import csv

    from emotrace.core.formats.tiers import CATEGORY, parse_tier, value_text
    from emotrace.core.vocab import DIMENSIONS

    out: dict[tuple[str, str], list] = {}
    if path.suffix == ".csv":
        for row in csv.DictReader(open(path, encoding="utf-8")):
            for field in (*DIMENSIONS, CATEGORY):
                if row[field]:
                    text = row[field] if field == CATEGORY else value_text(float(row[field]))
                    out.setdefault((row["annotator"], field), []).append((float(row["start"]), float(row["end"]), text))
    else:
        for tier, entries in _tiers(path).items():
            if (parsed := parse_tier(tier)) is not None:
                out.setdefault(parsed, []).extend((round(a, 3), round(b, 3), t) for a, b, t in entries)
    return {k: sorted(v) for k, v in out.items()}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(corpus=corpora())
def test_every_format_round_trips_the_current_labels(tmp_path_factory, corpus):
    from emotrace.core.formats.batch import export_corpus, import_annotation_file
    from emotrace.core.formats.label_tables import export_raters
    from emotrace.core.workflows.importing import import_folder, import_labels

    root = tmp_path_factory.mktemp("rt")
    write_audio(root / "c" / "talk.wav", 20.0)
    store = _build(root, corpus)
    want = _current(store)
    exported, intervals = {}, {}
    for fmt in ("eaf", "textgrid", "audformat", "csv"):
        out = root / fmt
        if fmt == "csv":
            out.mkdir()
            files = [out / "raters.csv"] if export_raters(store, "c", out / "raters.csv") else []
        else:
            files = export_corpus(store, "c", out, fmt)
        if not files:  # no segment at all: nothing is written, nothing to compare
            assert want == []
            continue
        fresh_root = root / f"fresh-{fmt}"
        shutil.copytree(root / "c", fresh_root / "c")
        fresh = Store(f"sqlite:///{fresh_root / 'b.sqlite'}")
        import_folder(fresh, fresh_root / "c", "c")
        if fmt == "csv":
            import_labels(fresh, "c", files[0])
        else:
            import_annotation_file(fresh, "c", out if fmt == "audformat" else files[0])
        assert _current(fresh) == want, fmt
        assert {a for _b, a, _v, _c in _current(fresh)} == {a for _b, a, _v, _c in want}
        annotators = {a for _b, a, _v, _c in want}
        assert {a: fresh.raters.rater_kind(a) for a in annotators} == {a: store.raters.rater_kind(a) for a in annotators}
        fresh.close()
        if fmt in ("eaf", "textgrid"):
            exported[fmt] = _tiers(files[0])
        if fmt != "audformat":
            intervals[fmt] = _per_rater_dimension(files[0])
    assert exported.get("eaf") == exported.get("textgrid")
    assert intervals.get("eaf") == intervals.get("textgrid") == intervals.get("csv")
    for tier, entries in exported.get("eaf", {}).items():
        assert all(a[1] <= b[0] + 1e-9 for a, b in zip(entries, entries[1:])), f"{tier} overlaps"
    store.close()
