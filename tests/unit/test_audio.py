import av
import numpy as np
import pytest

from emotrace.core.audio.decode import TARGET_SR, AudioError, AudioSource, validate
from tests.conftest import tone, write_audio


@pytest.mark.parametrize("ext,sr,ch", [("wav", 44100, 2), ("flac", 22050, 1), ("ogg", 48000, 2), ("mp3", 44100, 1)])
def test_decodes_to_16k_mono(tmp_path, ext, sr, ch):
    path = write_audio(tmp_path / f"x.{ext}", 2.5, sr, ch)
    info, decoded = validate(path)
    assert info.sample_rate == sr and info.channels == ch
    assert decoded == pytest.approx(2.5, abs=0.06)
    x = AudioSource(path).decode_all()
    assert x.dtype == np.float32 and x.ndim == 1
    assert len(x) == pytest.approx(2.5 * TARGET_SR, abs=0.06 * TARGET_SR)
    assert 0.15 < np.abs(x).max() < 0.5  # the tone survives resampling and downmixing


def _write_m4a(path, seconds=2.0):
    x = tone(seconds, 44100)
    with av.open(str(path), "w") as c:
        stream = c.add_stream("aac", rate=44100)
        frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
        frame.sample_rate = 44100
        rs = av.AudioResampler(format=stream.format.name, layout=stream.layout.name, rate=44100)
        for f in rs.resample(frame):
            for p in stream.encode(f):
                c.mux(p)
        for p in stream.encode(None):
            c.mux(p)


def test_m4a_through_pyav(tmp_path):
    path = tmp_path / "x.m4a"
    _write_m4a(path)
    info, decoded = validate(path)
    assert info.backend == "av"
    assert decoded == pytest.approx(2.0, abs=0.1)


def test_chunks_cover_the_file_exactly(tmp_path):
    path = write_audio(tmp_path / "long.flac", 65.0, 44100, 2)
    source = AudioSource(path)
    chunks = list(source.iter_chunks(30.0))
    assert [len(c) for c in chunks[:2]] == [30 * TARGET_SR] * 2
    assert sum(len(c) for c in chunks) == pytest.approx(65 * TARGET_SR, abs=10)
    whole = source.read()
    np.testing.assert_allclose(np.concatenate(chunks), whole[: sum(len(c) for c in chunks)], atol=1e-3)


def test_read_a_stretch(tmp_path):
    path = write_audio(tmp_path / "x.wav", 5.0, 16000)
    part = AudioSource(path).read(1.0, 2.5)
    assert len(part) == int(1.5 * TARGET_SR)


def test_broken_files_have_clear_reasons(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    good = write_audio(tmp_path / "good.wav", 3.0)
    truncated = tmp_path / "cut.wav"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(AudioError, match="empty"):
        validate(empty)
    with pytest.raises(AudioError, match="cannot decode"):
        validate(text)
    with pytest.raises(AudioError, match="truncated"):
        validate(truncated)


@pytest.mark.parametrize("ext", ["wav", "m4a"])
def test_forward_reader_matches_read_from_one_decode(tmp_path, ext):
    path = tmp_path / f"long.{ext}"
    if ext == "m4a":
        _write_m4a(path, 70.0)
    else:
        write_audio(path, 70.0, 44100, 2)
    source = AudioSource(path)
    whole = source.decode_all()  # the same streaming decode, all at once
    reader = source.forward_reader(block_seconds=20.0)
    for start, end in [(0.0, 12.5), (7.5, 40.0), (30.0, 30.0), (35.0, 69.0), (66.0, 75.0)]:  # overlaps, never back
        first, last = round(start * TARGET_SR), round(end * TARGET_SR)
        np.testing.assert_array_equal(reader.read(start, end), whole[first:last])
    with pytest.raises(ValueError, match="forward"):
        reader.read(1.0, 2.0)


# issue 12, bug 9 (found in the app's import)
def test_import_errors_do_not_leak_ffmpeg_errnos(tmp_path):
    import av

    from emotrace.core.audio.decode import AudioError, _av_error, probe

    bad = tmp_path / "broken.m4a"
    bad.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x01" * 5000)
    with pytest.raises(AudioError) as info:
        probe(bad)
    assert "Errno" not in str(info.value) and "broken.m4a" in str(info.value)
    message = str(_av_error(bad, av.error.EOFError(541478725, "End of file", str(bad))))
    assert "541478725" not in message and "Errno" not in message and "truncated" in message
