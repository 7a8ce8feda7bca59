"""The bench's side of the server's memory probe (bench/bench_load.py --probe): the
server side is sitecustomize.py beside this file, imported by a server started with
this folder on its PYTHONPATH."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

PROBE_PATH = Path(__file__).resolve().parent  # its sitecustomize.py answers the probe's asks
PROBE_WAIT_S = 300.0  # a tracemalloc snapshot of a busy server takes a while


class Probe:
    """Asks the server, started with bench/rss_probe on its PYTHONPATH, what its memory
    holds (`--probe`); without a folder every ask is a no-op."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.answers: dict[str, dict[str, object]] = {}

    async def ask(self, label: str, *, collect: bool = False, trim: bool = False) -> None:
        """The server's answer for `label`; then a full collection and malloc_trim(0),
        if asked, each with the RSS it left."""
        if self.folder is None:
            return
        answer = self.folder / f"{label}.json"
        then = [word for word, wanted in (("collect", collect), ("trim", trim)) if wanted]
        (self.folder / f"ask-{label}").write_text(" ".join(then))
        deadline = time.monotonic() + PROBE_WAIT_S
        while not answer.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server's probe did not answer {label}")
            await asyncio.sleep(0.2)
        self.answers[label] = found = json.loads(answer.read_text())
        print(f"  probe {label}: {json.dumps(found)}", file=sys.stderr, flush=True)
