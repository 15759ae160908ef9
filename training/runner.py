"""Run the trainer in its own process, so a crash or an out-of-memory error cannot take the app down; keep that
process warm between retrains, so the second retrain costs the training, not the start-up.

A `TrainingWorker` is a spawned process that serves training requests one after another. It keeps what is
expensive to get back in memory between them: torch and transformers imported, the frozen encoders loaded
(`trainer.loaded_encoders`), the store opened, and the features read from the cache (`core/ser/feature_cache.py`
keeps them). The app holds one (`shared_worker()`, started when the Retrain dialog opens, which `warm_up`s it
for the backbone while the user picks options); a worker that died (out of memory, killed) is replaced by the
next request. A `TrainingRun` is one request: `poll()` its events (stage, features, epoch, ...), `cancel()` it;
the worker commits nothing unless training completes. `TrainingRun(url, cfg).start()` without a worker uses a
process of its own that ends with the run (the CLI's and the benchmarks' cold path).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import queue
import time
import traceback
from dataclasses import asdict

from emotrace.core.progress import Cancelled
from emotrace.training.trainer import TrainConfig

_IDS = itertools.count(1)


def _train_once(stores: dict, db_url: str, cfg: dict, put, cancel) -> None:
    # lazy: the store and the trainer's torch are imported in the worker, not in whoever starts it
    from emotrace.core.store import Store
    from emotrace.training.trainer import train

    try:
        store = stores.get(db_url) or stores.setdefault(db_url, Store(db_url))
        result = train(store, TrainConfig(**cfg), on_event=put, cancel=cancel)
        put({"type": "finished", "model_version_id": result.model_version_id, "metrics": result.metrics,
             "parent_metrics": result.parent_metrics, "activation": result.activation, "seconds": result.seconds})
    except Cancelled:
        put({"type": "cancelled"})
    except MemoryError:
        put({"type": "failed", "error": "out of memory: try a smaller batch size"})
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the app as an event
        message = str(exc)
        if "out of memory" in message.lower():
            message = f"out of memory on the device: {message.splitlines()[0]}; try a smaller batch size"
        put({"type": "failed", "error": message, "traceback": traceback.format_exc()})


def _warm_up(spec: dict) -> None:
    """Import the trainer and load the encoders a retrain with these backbones will ask for."""
    # lazy: see _train_once
    from emotrace.core.ser.config import EmoTraceConfig
    from emotrace.core.ser.pipeline import pick_device
    from emotrace.training.trainer import loaded_encoders

    loaded_encoders(EmoTraceConfig(audio_backbone=spec["audio_backbone"], text_backbone=spec["text_backbone"],
                                   modalities=spec["modalities"]), pick_device(spec["device"]))


def _serve(requests, events, cancelled, home: str | None) -> None:
    """The worker's loop: one request at a time until None. `cancelled` holds the id of a run to stop."""
    if home:
        os.environ["EMOTRACE_HOME"] = home
    stores: dict = {}
    while True:
        request = requests.get()
        if request is None:
            return
        run_id = request["run"]
        if request.get("home"):  # the caller's user folders at the time of the request (models, feature cache)
            os.environ["EMOTRACE_HOME"] = request["home"]
        if request["type"] == "warm":
            try:
                _warm_up(request["spec"])
            except Exception:  # noqa: BLE001 - a warm-up that fails costs nothing: the run reports the reason
                pass
            continue

        def put(event: dict, run_id: int = run_id) -> None:
            events.put({**event, "run": run_id})

        _train_once(stores, request["db_url"], request["cfg"], put, lambda run_id=run_id: cancelled.value == run_id)


class TrainingWorker:
    """A warm training process: `submit(db_url, cfg)` queues a run; `warm_up(...)` loads encoders ahead."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")  # no fork: the parent may hold Qt, CUDA or SQLite state
        self.requests = ctx.Queue()
        self.events = ctx.Queue()
        self.cancelled = ctx.Value("q", 0)
        self.process = ctx.Process(target=_serve, daemon=True, args=(self.requests, self.events, self.cancelled,
                                                                     os.environ.get("EMOTRACE_HOME")))
        self.process.start()
        self.pending: dict[int, list[dict]] = {}

    @property
    def alive(self) -> bool:
        return self.process.is_alive()

    def warm_up(self, audio_backbone: str, text_backbone: str, modalities: str = "audio", device: str = "auto") -> None:
        self.requests.put({"type": "warm", "run": 0, "spec": {"audio_backbone": audio_backbone, "device": device,
                                                               "text_backbone": text_backbone,
                                                               "modalities": modalities}})

    def submit(self, db_url: str, cfg: TrainConfig) -> int:
        run_id = next(_IDS)
        self.pending[run_id] = []
        self.requests.put({"type": "train", "run": run_id, "db_url": db_url, "cfg": asdict(cfg),
                           "home": os.environ.get("EMOTRACE_HOME")})
        return run_id

    def cancel(self, run_id: int) -> None:
        self.cancelled.value = run_id

    def events_of(self, run_id: int) -> list[dict]:
        """Events of `run_id` so far (non-blocking); other runs' events wait for their own poll."""
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            self.pending.setdefault(event.pop("run"), []).append(event)
        out, self.pending[run_id] = self.pending.get(run_id, []), []
        return out

    def close(self, timeout: float = 5) -> None:
        if self.alive:
            self.requests.put(None)
            self.process.join(timeout)
        if self.alive:
            self.process.terminate()


_SHARED: TrainingWorker | None = None


def shared_worker() -> TrainingWorker:
    """The app's warm worker, started on first use and again after it died."""
    global _SHARED
    if _SHARED is None or not _SHARED.alive:
        _SHARED = TrainingWorker()
    return _SHARED


class TrainingRun:
    """One training job in a worker process: `start()`, `poll()` for events, `cancel()`, `join()`. Without a
    `worker` it gets a process of its own, which ends with the run."""

    def __init__(self, db_url: str, cfg: TrainConfig, worker: TrainingWorker | None = None) -> None:
        self.db_url, self.cfg, self.worker = db_url, cfg, worker
        self.own = worker is None
        self.run_id: int | None = None
        self.final: dict | None = None

    def start(self) -> TrainingRun:
        if self.worker is None or not self.worker.alive:
            self.worker = TrainingWorker() if self.own else shared_worker()
        self.run_id = self.worker.submit(self.db_url, self.cfg)
        return self

    def cancel(self) -> None:
        if self.worker is not None and self.run_id is not None:
            self.worker.cancel(self.run_id)

    def poll(self) -> list[dict]:
        """Events so far (non-blocking). A worker that died without a word yields one 'failed' event."""
        if self.final is not None or self.worker is None:
            return []
        out = []
        for event in self.worker.events_of(self.run_id):
            out.append(event)
            if event["type"] in ("finished", "failed", "cancelled"):
                self.final = event
                break
        if self.final is None and not self.worker.alive:
            self.final = {"type": "failed", "error": f"the training process ended unexpectedly "
                                                      f"(exit code {self.worker.process.exitcode})"}
            out.append(self.final)
        if self.final is not None and self.own:
            self.worker.close()
        return out

    @property
    def done(self) -> bool:
        return self.final is not None

    def join(self, timeout: float | None = None) -> dict | None:
        """Wait for the end and return the final event."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            self.poll()
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return self.final
