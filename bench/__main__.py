"""`python -m bench`: run the catalog, release-rush and payments tables, print them and a summary.

Exit code 0 whatever the targets say (it is a report); 1 only when the bench itself could not run.
Environment: BENCH_ONLY=catalog|rush|payments runs one table; BENCH_RUSH_THREADS="8,32" sets the
gunicorn threads settings tried in the rush (the first one is judged in the summary); the payments
table's knobs (BENCH_PAY_COUNT, BENCH_PAY_SEED, …) are in `bench.payments`; BENCH_KEEP=1 keeps
the temp dir with the databases and every server's log.
"""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator

from bench import catalog, payments, release_rush
from bench.common import ROOT, BenchError, ensure_wrk, log, table

RESULTS = os.path.join(ROOT, "bench", "results", "latest.txt")


def _threads_settings() -> tuple[int, ...]:
    raw = os.environ.get("BENCH_RUSH_THREADS", "")
    return tuple(int(t) for t in raw.split(",") if t.strip()) or release_rush.DEFAULT_THREADS


def _header() -> str:
    load = os.getloadavg()
    return (f"Yiqiao bench {time.strftime('%Y-%m-%d %H:%M:%S %z')} on {os.cpu_count()} CPUs, "
            f"load average before run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


@contextlib.contextmanager
def _workdir() -> Iterator[str]:
    """A temp dir for databases and server logs; kept (and named) when BENCH_KEEP=1."""
    if os.environ.get("BENCH_KEEP") == "1":
        path = tempfile.mkdtemp(prefix="yiqiao-bench-")
        log(f"keeping databases and server logs in {path}")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="yiqiao-bench-") as path:
        yield path


def run_tables(workdir: str, only: str) -> tuple[list[str], list[list[object]]]:
    """Run the selected tables; their texts and the summary rows."""
    texts, summary = [], []
    if only in ("", "catalog"):
        result = catalog.run(ensure_wrk(), workdir)
        texts.append(catalog.render(result))
        summary += catalog.targets(result)
        print(texts[-1] + "\n", flush=True)
    if only in ("", "rush"):
        runs = release_rush.run(workdir, _threads_settings())
        texts.append(release_rush.render(runs))
        summary += release_rush.targets(runs)
        print(texts[-1] + "\n", flush=True)
    if only in ("", "payments"):
        result = payments.run(workdir)
        texts.append(payments.render(result))
        summary += payments.targets(result)
        print(texts[-1] + "\n", flush=True)
    return texts, summary


def write_results(text: str) -> None:
    """bench/results/latest.txt (git-ignored)."""
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")


def main() -> int:
    """Run, print, write; 0 on a completed report, 1 when the bench could not run."""
    started = time.monotonic()
    header = _header()
    print(header + "\n", flush=True)
    try:
        with _workdir() as workdir:
            texts, summary = run_tables(workdir, os.environ.get("BENCH_ONLY", ""))
    except BenchError as error:
        log(f"bench could not run: {error}")
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    final = table("4. summary", ["target", "measured", "verdict"], summary,
                  [f"bench took {time.monotonic() - started:.0f}s; exit code 0 = report complete, not targets met"])
    print(final, flush=True)
    write_results("\n\n".join([header, *texts, final]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
