"""Each annotator's labels of a file as a lane of its own, beside the model's trajectory: what the per-annotator
view draws. Plain data, no Qt, so the file view (or any other view) can draw it however it lays out.

Lane order: the computed consensus first (highlighted), then people by name, then annotators whose labels are
accepted model predictions. What a blind viewer may see is the one blind rule,
emotrace.core.workflows.annotation_jobs `Sight`: others' spans in segments blind to the viewer are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from emotrace.core.store import Store
from emotrace.core.vocab import CONSENSUS_PREFIX, DIMENSIONS, LabelOrigin, RaterKind
from emotrace.core.workflows.annotation_jobs import Sight, file_sight


@dataclass
class Lane:
    annotator: str
    kind: RaterKind
    consensus: bool
    spans: list[tuple[float, float, float]] = field(default_factory=list)  # start, end, value (1-7)


def annotator_lanes(store: Store, file_id: int, dimension: str, *, viewer: str | None = None,
                    sight: Sight | None = None) -> list[Lane]:
    dim = DIMENSIONS.index(dimension)
    segments = {s.id: s for s in store.segments.segments(file_id)}
    kinds = store.raters.rater_kinds()
    sight = sight if sight is not None else file_sight(store, viewer, file_id)
    lanes: dict[str, Lane] = {}
    for c in store.labels.current_labels(file_id=file_id, include_computed=True):
        if not sight.shows_label(c.segment_id, c.annotator):
            continue
        value = c.values[dim]
        if value is None or c.segment_id not in segments:
            continue
        consensus = c.annotator.startswith(CONSENSUS_PREFIX) or kinds.get(c.annotator) is RaterKind.COMPUTED
        kind = (RaterKind.COMPUTED if consensus else
                RaterKind.MODEL_ASSISTED if c.origin is LabelOrigin.ACCEPTED else RaterKind.HUMAN)
        lane = lanes.setdefault(c.annotator, Lane(c.annotator, kind, consensus))
        seg = segments[c.segment_id]
        lane.spans.append((seg.start, seg.end, value))
    order = {RaterKind.COMPUTED: 0, RaterKind.HUMAN: 1, RaterKind.MODEL_ASSISTED: 2}
    return sorted(lanes.values(), key=lambda lane: (order[lane.kind], lane.annotator))
