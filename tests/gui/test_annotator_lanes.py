"""The Annotators dock: one lane per rater, the consensus first, nothing shown to a blind annotator."""

from __future__ import annotations

from tests.helpers import msp_corpus


def test_annotator_lanes_put_consensus_first_and_respect_blind(store, tmp_path, qtbot):
    from emotrace.core.workflows.importing import import_folder
    from emotrace.gui.annotator_lanes import AnnotatorLanes
    from emotrace.gui.state.annotator_lanes import annotator_lanes

    msp_corpus(tmp_path / "msp", files=4)
    import_folder(store, tmp_path / "msp", "msp")
    f = store.corpora.files(store.corpora.corpus("msp").id)[1]
    lanes = annotator_lanes(store, f.id, "arousal")
    assert [lane.consensus for lane in lanes][:3] == [True, True, True]  # imported, mean, EWE
    raters = {c.annotator: c.values[0] for c in store.labels.human_labels(corpus_id=store.corpora.corpus("msp").id)
              if c.segment_id == store.segments.segments(f.id)[0].id}
    assert {lane.annotator: lane.spans[0][2] for lane in lanes if not lane.consensus} == raters
    store.raters.set_blind("newbie", True)
    assert annotator_lanes(store, f.id, "arousal", viewer="newbie") == []
    widget = AnnotatorLanes(store)
    qtbot.addWidget(widget)
    widget.show_file(f.id)
    assert len(widget.lanes) == len(lanes)
    widget.dimension.setCurrentText("dominance")
    assert widget.lanes[0].annotator.startswith("consensus")
