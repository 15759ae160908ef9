"""EmoTrace: see, correct and retrain arousal, valence and dominance over hours of speech audio.

The notebook API, small on purpose (faster-whisper's and pyannote's style)::

    import emotrace

    df = emotrace.predict("talk.wav")                  # no store: A/V/D per 4 s window, 1 s hop
    store = emotrace.open_store()                      # the store the app and the CLI use
    labels = emotrace.labels(store, "demo")            # every rater's current label, one row each
    traj = emotrace.trajectories(store, "demo")        # the active model's windows

Every value is on MSP-Podcast's 1-7 scale (4 neutral); `scale="unit"` or `"signed"` gives 0..1 or -1..1.

This file is the root of the installed `emotrace` package (the repository keeps `core/`, `training/`, `gui/`,
`cli/` and `resources/` as top-level folders; pyproject.toml maps them to `emotrace.core`, ...). It must stay
light: `emotrace --help` imports it, so nothing here imports torch, Qt or the store at module level; each
function imports what it needs when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from emotrace.core.store import Store

__version__ = "0.2.0"


def open_store(url: str | None = None) -> Store:
    """Open a store as the app and the CLI do: a SQLAlchemy URL or a SQLite path, or None for the default store
    in the user data folder (EMOTRACE_HOME moves it). A store with no model gets the bundled one."""
    from emotrace.training.default_model import open_store as _open  # lazy: SQLAlchemy, Alembic

    return _open(url)


def labels(store: Store, corpus: str, *, include_accepted: bool = False, scale: str = "1-7") -> pd.DataFrame:
    """Every rater's current label per segment of a corpus: file, start, end, annotator, rater kind, origin,
    arousal, valence, dominance, category, and per dimension whose value it is (`arousal_origin`, ...). Accepted
    model predictions are left out unless asked for (they are the model's judgement, not a person's): per
    dimension, so a label typed in part keeps only its typed values."""
    import pandas as pd  # lazy: the notebook API alone needs pandas

    from emotrace.core.vocab import DIMENSIONS, LabelOrigin, rescale

    corpus_row = store.corpora.corpus(corpus)
    segments = {s.id: s for s in store.segments.corpus_segments(corpus_row.id)}
    paths = {f.id: f.path for f in store.corpora.files(corpus_row.id)}
    kinds = store.raters.rater_kinds()  # who is a person and who is computed: the registry, not the label's origin
    rows = []
    for c in store.labels.current_labels(corpus_id=corpus_row.id, include_accepted=include_accepted):
        seg = segments[c.segment_id]
        kind = c.rater_kind if c.origin is LabelOrigin.ACCEPTED else kinds.get(c.annotator, c.rater_kind)
        rows.append({"file": paths[seg.file_id], "start": seg.start, "end": seg.end, "segment_id": seg.id,
                     "annotator": c.annotator, "rater_kind": kind.value, "origin": c.origin.value,
                     **{d: rescale(v, scale) for d, v in zip(DIMENSIONS, c.values)}, "category": c.category,
                     **{f"{d}_origin": o.value if o is not None else None for d, o in zip(DIMENSIONS, c.origins)}})
    columns = ["file", "start", "end", "segment_id", "annotator", "rater_kind", "origin", *DIMENSIONS, "category",
               *(f"{d}_origin" for d in DIMENSIONS)]
    return pd.DataFrame(rows, columns=columns).sort_values(["file", "start", "annotator"], ignore_index=True)


def trajectories(store: Store, corpus: str, *, model: int | None = None, scale: str = "1-7") -> pd.DataFrame:
    """The windows a model version (default: the active one) predicted for a corpus: file (relative to the
    corpus folder), start, end, A/V/D, uncertainty, flag and trust; the table `emotrace trajectories` writes."""
    import pandas as pd  # lazy: the notebook API alone needs pandas

    from emotrace.core.formats.trajectories import COLUMNS, trajectory_rows

    return pd.DataFrame(trajectory_rows(store, corpus, model, scale), columns=COLUMNS)


def predict(audio: str | Path, *, model: str | Path | None = None, window: float = 4.0, hop: float = 1.0,
            device: str = "auto", scale: str = "1-7") -> pd.DataFrame:
    """A/V/D over time for one audio file, with no store: windows of `window` seconds every `hop` seconds,
    predicted by a model folder (default: the bundled model). Audio only: no transcript is made, so a model that
    reads text predicts from the audio branch. Columns: start, end, arousal, valence, dominance, uncertainty, trust
    (the trust indicator: above 1, the window is outside the model's training domain; NaN for a model without
    trust statistics)."""
    # lazy: the package root is imported by every emotrace module; it stays light
    import numpy as np
    import pandas as pd

    from emotrace.core.audio.decode import AudioSource
    from emotrace.core.errors import ModelNotAvailable
    from emotrace.core.ser.pipeline import SERPipeline
    from emotrace.core.vocab import DIMENSIONS, rescale
    from emotrace.core.workflows.analyze import check_spans, predict_spans, window_spans
    from emotrace.training.default_model import bundled_folder

    check_spans(window, hop)
    folder = Path(model) if model is not None else bundled_folder()
    if folder is None:
        raise ModelNotAvailable("no model folder given and the bundled model is missing")
    duration = AudioSource(str(audio)).duration
    spans = window_spans(duration, window, hop)
    preds, missing = predict_spans(SERPipeline(str(folder), device=device), str(audio), spans)
    values = np.where(np.isin(np.arange(len(spans)), list(missing))[:, None], np.nan, preds.fused)
    frame = pd.DataFrame({"start": spans[:, 0], "end": spans[:, 1]})
    for k, dim in enumerate(DIMENSIONS):
        frame[dim] = [rescale(float(v), scale) if np.isfinite(v) else None for v in values[:, k]]
    frame["uncertainty"] = preds.uncertainty
    frame["trust"] = preds.trust if preds.trust is not None else np.nan  # > 1: outside the training domain
    return frame


__all__ = ["__version__", "labels", "open_store", "predict", "trajectories"]
