"""The trust indicator's statistics (issue 26, item 3): calibrated coverage, far points outside, stored as
safetensors, and a damaged file read as "no indicator" rather than an error."""

from __future__ import annotations

import numpy as np
import pytest

from emotrace.core.ser.trust import TRUST_FILE, TrustModel


def _domain(rng, n: int, dim: int = 48) -> np.ndarray:
    basis = np.linspace(0.2, 2.0, dim)
    return rng.standard_normal((n, dim)) * basis + 3.0


def test_calibrated_so_95_percent_of_held_out_fall_inside_and_far_points_outside(tmp_path):
    rng = np.random.default_rng(0)
    trust = TrustModel.fit(_domain(rng, 400), _domain(rng, 400))
    fresh = trust.score(_domain(rng, 2000))  # more of the same domain, never seen
    assert 0.91 <= float(np.mean(fresh <= 1.0)) <= 0.98
    far = trust.score(_domain(rng, 200) + 4.0)  # shifted: another recording condition
    assert float(np.mean(far > 1.0)) > 0.95
    assert trust.info["coverage"] == 0.95 and trust.info["held_out"] == 400

    trust.save(tmp_path)
    again = TrustModel.load(tmp_path)
    assert again is not None and again.info == trust.info
    probe = _domain(np.random.default_rng(3), 5)
    assert np.allclose(again.score(probe), trust.score(probe), rtol=1e-4)


@pytest.mark.parametrize("content", [b"", b"not safetensors at all", b"\x08\x00\x00\x00\x00\x00\x00\x00{}"])
def test_a_damaged_or_missing_file_is_no_indicator(tmp_path, content):
    assert TrustModel.load(tmp_path) is None
    (tmp_path / TRUST_FILE).write_bytes(content)
    assert TrustModel.load(tmp_path) is None
