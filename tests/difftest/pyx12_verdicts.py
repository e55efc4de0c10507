#!/usr/bin/env python3
"""Run pyx12 4.0.0 (in-process) on the difftest mutants and record its verdicts.

Usage:
    python pyx12_verdicts.py DIR [EXTRA_FILE ...] [--jobs N]

Reads DIR/manifest.json (written by generate.py), validates every listed file
plus any extra files given on the command line, and writes DIR/pyx12.json:

    {file: {"ok": bool, "crashed": bool, "error": str|null, "ack": {...}|null,
            "messages": [pyx12 ERROR log lines]}}

Manifest files are keyed by their manifest name, extra files by their base name.
The raw ack text pyx12 produced is also written to DIR/pyx12_acks/<key>.997.

* "ok" is pyx12's own verdict (what x12valid prints as "FILE: OK" / "FILE: Failure").
* "crashed" is true when pyx12 raised (e.g. "Map not found", UnicodeDecodeError on a
  BOM) or failed while generating the 999 (it logs "Failed to create 999 response").
  "error" then holds the exception text. A file pyx12 refuses to read at all
  ("does not look like an X12 data file", e.g. an ISA that is not 106 characters)
  is not a crash: ok=false, ack=null, error=the reason.
* "ack" is the 999/TA1 pyx12 wrote, normalized by ack999.normalize().

All external code sets are skipped (the -x names of x12valid). pyx12 is run
in-process with its map files parsed once per process and shared between files,
in a pool of worker processes (default 2). The script re-executes itself with
PYTHONHASHSEED=0 because pyx12 iterates over sets when writing IK3 and TA1
codes, which would otherwise make its ack order vary between runs.

The module also exposes Pyx12Runner for other scripts (generate.py uses it to
check that its base files are clean).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import multiprocessing
import os
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import ack999  # noqa: E402

# Every external code set pyx12 4.0.0 knows (codes.xml ids == x12valid -x names).
EXTERNAL_CODE_SETS = [
    "states",
    "country",
    "currency",
    "entity_id",
    "remark_code",
    "service_type",
    "claim_status_cat",
    "claim_status",
    "pos",
]


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Pyx12Runner:
    """Validate X12 files with pyx12 in-process, reusing parsed maps between files."""

    def __init__(self) -> None:
        import pyx12
        import pyx12.codes
        import pyx12.map_if
        import pyx12.map_index
        import pyx12.params
        import pyx12.x12n_document

        if not pyx12.__version__.startswith("4.0"):
            sys.stderr.write(f"warning: pyx12 {pyx12.__version__} found, 4.0.0 expected\n")
        self.version = pyx12.__version__
        self._x12n_document = pyx12.x12n_document.x12n_document
        self.param = pyx12.params.params()
        self.param.set("exclude_external_codes", ",".join(EXTERNAL_CODE_SETS))
        known = {cid for cid, _ in pyx12.codes.list_external_codesets()}
        missing = set(EXTERNAL_CODE_SETS) - known
        if missing or known - set(EXTERNAL_CODE_SETS):
            sys.stderr.write(f"warning: pyx12 external code sets differ: {sorted(known)}\n")

        # Share parsed maps: x12n_document() calls pyx12.map_if.load_map_file and
        # pyx12.map_index.map_index for every file; both are pure functions of
        # (file name, params) and the resulting objects are not mutated during
        # validation (the walker keeps its own counters), so cache them.
        self._map_cache: dict[tuple[str, str | None], Any] = {}
        self._orig_load = pyx12.map_if.load_map_file
        self._orig_index = pyx12.map_index.map_index
        self._index_obj = None

        def cached_load(map_file: str, param: Any, map_path: str | None = None) -> Any:
            key = (map_file, map_path)
            m = self._map_cache.get(key)
            if m is None:
                m = self._orig_load(map_file, self.param, map_path)
                self._map_cache[key] = m
            return m

        def cached_index(map_path: str | None = None) -> Any:
            if self._index_obj is None:
                self._index_obj = self._orig_index(map_path)
            return self._index_obj

        pyx12.map_if.load_map_file = cached_load
        pyx12.map_index.map_index = cached_index

        self.logger = logging.getLogger("pyx12")
        self.logger.setLevel(logging.ERROR)
        self.logger.propagate = False
        for h in list(self.logger.handlers):
            self.logger.removeHandler(h)
        # error_999 sets its own logger to DEBUG; keep it quiet but let ERRORs through
        logging.getLogger("pyx12.error_999").setLevel(logging.ERROR)

    def warm(self, map_files: list[str]) -> None:
        """Parse the given map files now (before forking workers)."""
        import pyx12.map_if
        import pyx12.map_index

        pyx12.map_index.map_index(None)
        for mf in map_files:
            pyx12.map_if.load_map_file(mf, self.param, None)

    def run(self, path: str) -> dict[str, Any]:
        """Validate one file. Returns {ok, crashed, error, ack, ack_text, messages}."""
        handler = _ListHandler()
        self.logger.addHandler(handler)
        fd_997 = io.StringIO()
        res: dict[str, Any] = {"ok": False, "crashed": False, "error": None}
        try:
            ok = self._x12n_document(
                param=self.param,
                src_file=path,
                fd_997=fd_997,
                fd_html=None,
                fd_xmldoc=None,
                fd_json=None,
                map_path=None,
            )
            res["ok"] = bool(ok)
        except Exception as e:  # pyx12 crash (x12valid would die with a traceback)
            res["crashed"] = True
            res["error"] = f"{type(e).__name__}: {e}"
        finally:
            self.logger.removeHandler(handler)
        messages = []
        for r in handler.records:
            msg = r.getMessage().replace(path, os.path.basename(path))
            if r.exc_info and r.exc_info[1] is not None:
                exc = r.exc_info[1]
                msg += f" ({type(exc).__name__}: {exc})"
                if "Failed to create" in r.getMessage():
                    res["crashed"] = True
                    res["error"] = f"{r.getMessage()}: {type(exc).__name__}: {exc}"
            messages.append(msg)
        if not res["crashed"] and res["error"] is None:
            for m in messages:
                if "does not look like an X12 data file" in m:
                    res["error"] = m
                    break
        text = fd_997.getvalue()
        res["ack_text"] = text
        res["ack"] = ack999.normalize(text) if text.strip() and not res["crashed"] else None
        res["messages"] = messages
        return res


# --- worker pool -----------------------------------------------------------

_RUNNER: Pyx12Runner | None = None


def _worker_init() -> None:
    global _RUNNER
    if _RUNNER is None:
        _RUNNER = Pyx12Runner()


def _worker_run(item: tuple[str, str]) -> tuple[str, dict[str, Any]]:
    key, path = item
    assert _RUNNER is not None
    return key, _RUNNER.run(path)


WARM_MAPS = [
    "x12.control.00501.xml",
    "837.5010.X222.A1.xml",
    "837Q3.I.5010.X223.A1.xml",
    "834.5010.X220.A1.xml",
]


def run_many(items: list[tuple[str, str]], jobs: int = 2) -> dict[str, dict[str, Any]]:
    """Run pyx12 on (key, path) items with `jobs` worker processes."""
    global _RUNNER
    results: dict[str, dict[str, Any]] = {}
    if jobs <= 1 or len(items) < 2:
        _worker_init()
        for it in items:
            k, r = _worker_run(it)
            results[k] = r
        return results
    ctx = None
    if "fork" in multiprocessing.get_all_start_methods():
        # parse the maps once in the parent; forked workers inherit them
        ctx = multiprocessing.get_context("fork")
        _worker_init()
        assert _RUNNER is not None
        _RUNNER.warm(WARM_MAPS)
    else:
        ctx = multiprocessing.get_context()
    chunk = max(1, min(16, len(items) // (jobs * 8) or 1))
    with ctx.Pool(processes=jobs, initializer=_worker_init) as pool:
        for k, r in pool.imap_unordered(_worker_run, items, chunksize=chunk):
            results[k] = r
    return results


def _reexec_with_fixed_hashseed() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", help="directory with manifest.json (from generate.py)")
    ap.add_argument("extra", nargs="*", help="extra X12 files to validate as well")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--no-raw", action="store_true", help="do not write DIR/pyx12_acks/")
    args = ap.parse_args(argv)

    man_path = os.path.join(args.dir, "manifest.json")
    items: list[tuple[str, str]] = []
    if os.path.exists(man_path):
        with open(man_path, encoding="utf-8") as f:
            manifest = json.load(f)
        for ent in manifest:
            items.append((ent["file"], os.path.join(args.dir, ent["file"])))
    elif not args.extra:
        sys.stderr.write(f"error: {man_path} not found\n")
        return 2
    keys = {k for k, _ in items}
    for p in args.extra:
        k = os.path.basename(p)
        if k in keys:
            sys.stderr.write(f"error: duplicate key {k!r} (extra file name clashes)\n")
            return 2
        keys.add(k)
        items.append((k, p))

    t0 = time.monotonic()
    results = run_many(items, args.jobs)
    elapsed = time.monotonic() - t0

    out: dict[str, Any] = {}
    raw_dir = os.path.join(args.dir, "pyx12_acks")
    if not args.no_raw:
        os.makedirs(raw_dir, exist_ok=True)
    for k, _ in items:
        r = results[k]
        if not args.no_raw and r["ack_text"]:
            with open(os.path.join(raw_dir, k + ".997"), "w", encoding="ascii", errors="replace") as f:
                f.write(r["ack_text"])
        out[k] = {
            "ok": r["ok"],
            "crashed": r["crashed"],
            "error": r["error"],
            "ack": r["ack"],
            "messages": r["messages"],
        }
    with open(os.path.join(args.dir, "pyx12.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    n_ok = sum(1 for v in out.values() if v["ok"])
    n_crash = sum(1 for v in out.values() if v["crashed"])
    sys.stderr.write(
        f"pyx12: {len(out)} files, {n_ok} OK, {len(out) - n_ok - n_crash} failure, "
        f"{n_crash} crashed; {elapsed:.1f} s with {args.jobs} worker(s)\n"
    )
    return 0


if __name__ == "__main__":
    _reexec_with_fixed_hashseed()
    sys.exit(main())
