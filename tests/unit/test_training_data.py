"""The trainer's data: examples follow the imported Train/Development/Test1 sets and keep speakers apart
(training itself, on the real offline backbone: tests/integration/test_training.py)."""

import pytest

from emotrace.core.workflows.importing import import_folder
from emotrace.training.data import load_examples
from tests.conftest import labelled_corpus


@pytest.fixture
def corpus(store, tmp_path):
    import_folder(store, labelled_corpus(tmp_path / "gen"), "gen")
    return "gen"


def test_splits_follow_imported_sets_and_keep_speakers_apart(store, corpus):
    examples = load_examples(store, corpus)
    splits = {}
    for e in examples:
        splits.setdefault(e.speaker, set()).add(e.split)
    assert all(len(s) == 1 for s in splits.values())
    assert {e.split for e in examples} == {"Train", "Development", "Test1"}
