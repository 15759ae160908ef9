"""The text branch learns what only the words say: a corpus whose valence is in the words, not in the audio."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from emotrace.core.workflows.importing import import_folder
from emotrace.training.trainer import TrainConfig, train

POSITIVE = ["wonderful", "delighted", "fantastic", "lovely", "great", "happy", "thrilled", "excellent"]
NEUTRAL = ["ordinary", "scheduled", "usual", "standard", "regular", "routine", "average", "typical"]
NEGATIVE = ["terrible", "awful", "miserable", "horrible", "dreadful", "sad", "disgusting", "hopeless"]
TOPICS = ["the meeting", "my week", "the weather", "the food", "this trip", "the results"]


def words_only_corpus(root, speakers: int = 8, per_speaker: int = 9, seed: int = 0):
    """Every file is the same kind of noise; valence follows the sentiment of its sentence and nothing else."""
    rng = np.random.default_rng(seed)
    rows = ["FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set"]
    texts = {}
    for spk in range(1, speakers + 1):
        for k in range(per_speaker):
            kind = k % 3
            word = [POSITIVE, NEUTRAL, NEGATIVE][kind][int(rng.integers(8))]
            valence = [6.0, 4.0, 2.0][kind] + float(rng.normal(0, 0.3))
            rel = f"spk{spk}/utt{k}.wav"
            (root / f"spk{spk}").mkdir(parents=True, exist_ok=True)
            sf.write(root / rel, (0.05 * rng.standard_normal(16000)).astype(np.float32), 16000)
            split = "Train" if spk <= 6 else "Development"
            rows.append(f"{rel},N,4.0,{valence:.2f},4.0,{spk},Female,{split}")
            texts[rel] = f"I think {TOPICS[int(rng.integers(len(TOPICS)))]} was {word} today"
    (root / "labels_consensus.csv").write_text("\n".join(rows) + "\n")
    return texts


def test_valence_carried_by_words_is_learnt_through_text(store, tmp_path):
    texts = words_only_corpus(tmp_path / "words")
    import_folder(store, tmp_path / "words", "words")
    corpus = store.corpora.corpus("words")
    for f in store.corpora.files(corpus.id):
        rel = f.path.split("/words/", 1)[1]
        seg = store.segments.segments(f.id)[0]
        store.segments.set_segment_texts(f.id, {seg.id: (texts[rel], ())})
    common = dict(corpus="words", epochs=40, batch_size=16, patience=40, device="cpu", mode="heads")
    both = train(store, TrainConfig(**common, modalities="both"))
    audio = train(store, TrainConfig(**common, modalities="audio"))
    assert both.metrics["ccc"]["valence"] > 0.6  # learnt from the words
    assert audio.metrics["ccc"]["valence"] < 0.3  # the audio cannot tell (and the comparison can fail)
