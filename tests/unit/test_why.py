""""Why this value" in words (issue 26, item 5): the parameters furthest from the speaker's median, in units."""

from __future__ import annotations

import numpy as np

from emotrace.gui.state.why import differences, modality_line

NAMES = ["F0semitoneFrom27.5Hz_sma3nz_amean", "equivalentSoundLevel_dBp", "jitterLocal_sma3nz_amean", "other"]


def test_the_largest_differences_against_the_speakers_spread_in_words():
    rng = np.random.default_rng(0)
    speaker = np.stack([30 + rng.normal(0, 0.5, 12), -30 + rng.normal(0, 1.0, 12), 0.02 + rng.normal(0, 0.001, 12),
                        rng.normal(0, 1, 12)], axis=1)
    median = np.median(speaker, axis=0)
    segment = median + np.array([3.1, 5.0, 0.0, 50.0])
    phrases = differences(NAMES, segment, speaker, "S2")
    assert phrases[0] == "pitch +3.1 st (above S2's median)"  # 3.1 st is ~9 spreads; 5 dB ~6
    assert phrases[1] == "loudness +5.0 dB (above S2's median)"
    assert len(phrases) == 2  # jitter did not move; "other" is no parameter a reader knows
    assert differences(NAMES, segment, speaker[:2], "S2") == []  # two segments: no median worth a word
    segment[2] = median[2] * 1.5
    assert "jitter x1.50 (above S2's median)" in differences(NAMES, segment, speaker, "S2")


def test_modality_lines():
    assert modality_line((5.0, 4.0, 4.0), [5.5, 3.0, 4.0], None) == ["model: A 5.00  V 4.00  D 4.00",
                                                                      "audio only: A 5.50  V 3.00  D 4.00"]
