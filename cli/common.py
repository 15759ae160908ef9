"""What every subcommand shares: opening the command's store and running a corpus job under a progress bar.

Kept light on purpose: `emotrace --help` builds the whole parser, which imports this module and every
subcommand module, so nothing here imports torch, Qt or the store at module level."""

from __future__ import annotations

import sys

from emotrace.cli.bars import FileBars


def open_store(args, *, repair_triggers: bool = True):
    """Open the command's store (`--db`, else the default one) the way the app does
    (`emotrace.training.default_model.open_store`); `args.store_opened` tells the error handler whether anything
    may have been committed. `repair_triggers=False` (for `emotrace check`) leaves missing triggers missing."""
    from emotrace.training.default_model import open_store as open_user_store  # lazy: the store pulls SQLAlchemy

    store = open_user_store(args.db, repair_triggers=repair_triggers)
    args.store_opened = True
    if store.notice:
        print(f"note: {store.notice}", file=sys.stderr)
    return store


def run_with_bar(desc: str, quiet: bool, job) -> int:
    """Run a corpus job under a progress bar (one per file, with its rate and time left: `cli/bars.py`), print its
    report; exit code 1 when some files failed."""
    bar = FileBars(desc, disable=quiet)
    try:
        report = job(bar)
    finally:
        bar.close()
    print(report.summary())
    return 1 if report.failed else 0
