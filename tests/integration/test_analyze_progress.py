"""Issue 24, item 8: analysis of one long file said "0%" for over a minute; it now reports how far it is inside
the file (the CLI's bar postfix and the app's task bar read the same message)."""

from __future__ import annotations

from emotrace.core.progress import fraction_in_file
from emotrace.core.workflows.importing import import_folder
from tests.conftest import write_audio


def test_analysis_reports_progress_within_a_long_file(trained, tmp_path):
    from emotrace.core.workflows.analyze import analyze_corpus

    store, _corpus, first = trained
    write_audio(tmp_path / "long" / "talk.wav", 240.0)
    import_folder(store, tmp_path / "long", "long")
    seen = []
    analyze_corpus(store, "long", model=first, device="cpu", progress=lambda d, t, m: seen.append((d, t, m)))
    within = [m for d, t, m in seen if d == 0 and t == 1 and "%" in m]
    assert len(within) >= 3, seen  # several steps inside the one file, not "0/1" until it is done
    assert within[0].startswith("talk.wav ") and " of 4:00" in within[-1]
    fractions = [fraction_in_file(m) for m in within]
    assert fractions == sorted(fractions) and 0 < fractions[0] < 1 and fractions[-1] == 1.0
