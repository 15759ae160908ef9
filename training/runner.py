"""Run the trainer in its own process, so a crash or an out-of-memory error cannot take the app down.

The GUI (or any caller) starts a `TrainingRun`, polls its events (epoch, loss, development CCC), and may
cancel it; the child commits nothing unless training completes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import time
import traceback
from dataclasses import asdict

from emotrace.core.progress import Cancelled
from emotrace.core.store import Store
from emotrace.training.trainer import TrainConfig, train


def _worker(db_url: str, cfg: dict, events, cancel_flag, home: str | None) -> None:
    if home:
        os.environ["EMOTRACE_HOME"] = home
    try:
        store = Store(db_url)
        result = train(store, TrainConfig(**cfg), on_event=events.put, cancel=cancel_flag.is_set)
        events.put({"type": "finished", "model_version_id": result.model_version_id, "metrics": result.metrics,
                    "parent_metrics": result.parent_metrics, "activation": result.activation,
                    "seconds": result.seconds})
    except Cancelled:
        events.put({"type": "cancelled"})
    except MemoryError:
        events.put({"type": "failed", "error": "out of memory: try a smaller batch size"})
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the app as an event
        message = str(exc)
        if "out of memory" in message.lower():
            message = f"out of memory on the device: {message.splitlines()[0]}; try a smaller batch size"
        events.put({"type": "failed", "error": message, "traceback": traceback.format_exc()})


class TrainingRun:
    """One training job in a spawned process: `start()`, `poll()` for events, `cancel()`, `join()`."""

    def __init__(self, db_url: str, cfg: TrainConfig) -> None:
        ctx = mp.get_context("spawn")  # no fork: the parent may hold Qt, CUDA or SQLite state
        self.events = ctx.Queue()
        self._cancel = ctx.Event()
        self.process = ctx.Process(target=_worker, daemon=True,
                                   args=(db_url, asdict(cfg), self.events, self._cancel, os.environ.get("EMOTRACE_HOME")))
        self.final: dict | None = None

    def start(self) -> TrainingRun:
        self.process.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def poll(self) -> list[dict]:
        """Events so far (non-blocking). A child that died without a word yields one 'failed' event."""
        out = []
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            out.append(event)
            if event["type"] in ("finished", "failed", "cancelled"):
                self.final = event
        if self.final is None and not self.process.is_alive() and self.process.exitcode is not None:
            self.final = {"type": "failed", "error": f"the training process ended unexpectedly "
                                                      f"(exit code {self.process.exitcode})"}
            out.append(self.final)
        return out

    @property
    def done(self) -> bool:
        return self.final is not None

    def join(self, timeout: float | None = None) -> dict | None:
        """Wait for the end and return the final event."""
        deadline = None if timeout is None else time.monotonic() + timeout
        events = []
        while not self.done:
            events += self.poll()
            if deadline is not None and time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.process.join(timeout=5)
        return self.final
