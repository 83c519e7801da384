"""gunicorn configuration for `benches/load_test.py`: each worker writes, when it exits,
how many requests it handled (`load_app.HANDLED`) to `$BENCH_COUNT_DIR/<pid>`."""

from __future__ import annotations

import os
from typing import Any


def worker_exit(server: Any, worker: Any) -> None:
    import sys

    app = sys.modules.get("benches.load_app")
    directory = os.environ.get("BENCH_COUNT_DIR")
    if app is None or not directory:
        return
    with open(os.path.join(directory, str(os.getpid())), "w") as out:
        out.write(str(app.HANDLED))
