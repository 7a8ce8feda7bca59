"""A bench-only look inside the served app's memory (bench/bench_load.py --probe).

bench_load starts the server with this folder first on PYTHONPATH and BONDLINE_RSS_PROBE
naming a folder, so Python imports this module at start-up: the product's code is not
changed, and a server started without the variable never sees it. A daemon thread waits
for `ask-<label>` files there and answers each with `<label>.json`: RSS, glibc's heap
(mallinfo2: in use, free but kept), pymalloc's arenas, the live objects by type, the page
cache, the published norms/expected caches, Streamlit's sessions and caches, and (when
Python traces allocations, PYTHONTRACEMALLOC=<frames>) a tracemalloc snapshot beside
it. An ask file whose text names "collect" then runs a full garbage collection, and
"trim" then calls malloc_trim(0), each followed by the RSS it left: how much of what
stays is garbage not yet collected, or free memory glibc kept.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
import types
from pathlib import Path
from typing import Any

POLL_S = 0.25


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def _status() -> dict[str, float]:
    wanted = ("VmRSS", "RssAnon", "RssFile", "VmHWM")
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name = line.split(":", 1)[0]
        if name in wanted:
            out[f"{name}_mb"] = int(line.split()[1]) / 1024
    return out


def _mallinfo(libc: ctypes.CDLL) -> dict[str, float]:
    info = libc.mallinfo2()
    mb = 1024 * 1024
    return {
        "heap_mb": info.arena / mb,  # main arena + thread arenas, from sbrk/mmap'd heaps
        "mmapped_mb": info.hblkhd / mb,  # big blocks given their own mapping
        "in_use_mb": info.uordblks / mb,
        "free_kept_mb": info.fordblks / mb,  # freed, still held by glibc
        "trimmable_top_mb": info.keepcost / mb,
    }


def _pymalloc() -> dict[str, Any]:
    """sys._debugmallocstats() writes to C's stderr: caught through a temporary file."""
    with tempfile.TemporaryFile(mode="w+b") as out:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(out.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read().decode(errors="replace")
    wanted = {
        "# arenas allocated current": "arenas_current",
        "# arenas highwater mark": "arenas_highwater",
        "# bytes in allocated blocks": "bytes_in_blocks",
        "# bytes in available blocks": "bytes_available",
        "Total": "total_bytes",
    }
    stats: dict[str, Any] = {}
    for line in text.splitlines():
        for prefix, key in wanted.items():
            if line.startswith(prefix) and "=" in line:
                stats[key] = int(line.rsplit("=", 1)[1].strip().replace(",", ""))
    stats["blocks"] = sys.getallocatedblocks()
    return stats


def _frame_bytes(value: Any, seen: set[int]) -> int:
    """Bytes a cached result holds, roughly: pandas by memory_usage(deep), containers and
    dataclasses walked, anything else by sys.getsizeof."""
    if id(value) in seen:
        return 0
    seen.add(id(value))
    import dataclasses

    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return int(value.memory_usage(deep=True).sum())
    if pd is not None and isinstance(value, pd.Series | pd.Index):
        return int(value.memory_usage(deep=True))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(_frame_bytes(k, seen) + _frame_bytes(v, seen) for k, v in value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        size += sum(_frame_bytes(v, seen) for v in value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        size += sum(_frame_bytes(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    elif hasattr(value, "__dict__") and not isinstance(value, type | types.ModuleType):
        size += _frame_bytes(vars(value), seen)
    return size


def _census(top: int = 60) -> tuple[int, dict[str, list[int]]]:
    """The objects the collector tracks (the heap frozen at start left out), counted by
    type: [count, shallow bytes] of the `top` types by bytes."""
    found: dict[str, list[int]] = {}
    objects = gc.get_objects()
    for obj in objects:
        kind = type(obj)
        name = f"{kind.__module__}.{kind.__qualname__}"
        counts = found.setdefault(name, [0, 0])
        counts[0] += 1
        counts[1] += sys.getsizeof(obj)
    biggest = sorted(found.items(), key=lambda item: -item[1][1])[:top]
    return len(objects), dict(biggest)


def _ours() -> dict[str, Any]:
    out: dict[str, Any] = {}
    memo = sys.modules.get("dashboard.services.memo")
    if memo is not None:
        entries = list(memo.PAGES._entries.items())
        seen: set[int] = set()
        kinds: dict[str, int] = {}
        for key, _ in entries:
            kinds[str(key[1])] = kinds.get(str(key[1]), 0) + 1
        out["pages_entries"] = len(entries)
        out["pages_by_view"] = kinds
        out["pages_mb"] = sum(_frame_bytes(v, seen) for _, (_, v) in entries) / 2**20
    for module, name in (
        ("dashboard.services.norms", "NORMS_CACHE"),
        ("dashboard.services.expected", "COURSES_CACHE"),
    ):
        found = sys.modules.get(module)
        if found is not None:
            cache = getattr(found, name)
            out[f"{name.lower()}_entries"] = len(cache._entries)
            out[f"{name.lower()}_mb"] = _frame_bytes(cache._entries, set()) / 2**20
    return out


def _streamlit() -> dict[str, Any]:
    out: dict[str, Any] = {}
    runtime_module = sys.modules.get("streamlit.runtime.runtime")
    if runtime_module is None or runtime_module.Runtime._instance is None:
        return out
    runtime = runtime_module.Runtime._instance
    manager = runtime._session_mgr
    out["sessions_active"] = len(manager._active_session_info_by_id)
    storage = manager._session_storage
    cache = getattr(storage, "_cache", None)
    out["sessions_kept"] = len(cache) if cache is not None else None
    out["dataframe_sources"] = len(runtime._dataframe_source_mgr._sources)
    files = getattr(runtime._media_file_mgr._storage, "_files_by_id", None)
    out["media_files"] = len(files) if files is not None else None
    families: dict[str, int] = {}
    for family, stats in runtime.stats_mgr.get_stats().items():
        for stat in stats:
            length = getattr(stat, "byte_length", None)
            if length is None:
                length = getattr(stat, "value", 0)
            families[family] = families.get(family, 0) + int(length or 0)
    out["stats_bytes"] = families
    return out


def _answer(folder: Path, ask: Path, libc: ctypes.CDLL) -> None:
    label = ask.name.removeprefix("ask-")
    then = ask.read_text().split()
    report: dict[str, Any] = {"label": label, "at": time.time()}
    report["rss"] = _status()
    report["malloc"] = _mallinfo(libc)
    report["pymalloc"] = _pymalloc()
    report["objects"], report["census"] = _census()
    report["frozen"] = gc.get_freeze_count()
    report["threads"] = sorted(t.name for t in threading.enumerate())
    for name, part in (("ours", _ours), ("streamlit", _streamlit)):
        try:
            report[name] = part()
        except Exception as exc:  # noqa: BLE001 - a probe reports what it could not read
            report[name] = {"error": repr(exc)}
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(str(folder / f"{label}.tracemalloc"))
        report["traced_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
    if "collect" in then:
        report["collected_objects"] = gc.collect()
        report["after_collect"] = {"rss": _status(), "malloc": _mallinfo(libc)}
        report["after_collect"]["pymalloc"] = _pymalloc()
    if "trim" in then:
        libc.malloc_trim(0)
        report["after_trim"] = {"rss": _status(), "malloc": _mallinfo(libc)}
    partial = folder / f".{label}.json"
    partial.write_text(json.dumps(report, indent=1))
    os.replace(partial, folder / f"{label}.json")
    ask.unlink()


def _watch(folder: Path) -> None:
    libc = _libc()
    while True:
        for ask in sorted(folder.glob("ask-*")):
            try:
                _answer(folder, ask, libc)
            except Exception as exc:  # noqa: BLE001 - said to the bench, never raised
                (folder / f"{ask.name.removeprefix('ask-')}.json").write_text(
                    json.dumps({"error": repr(exc)})
                )
                ask.unlink(missing_ok=True)
        time.sleep(POLL_S)


# Taken out of the environment: a Python process the server starts (it inherits the
# environment) must not answer the asks meant for the server.
_FOLDER = os.environ.pop("BONDLINE_RSS_PROBE", "")
if _FOLDER:
    threading.Thread(target=_watch, args=(Path(_FOLDER),), name="rss-probe", daemon=True).start()
