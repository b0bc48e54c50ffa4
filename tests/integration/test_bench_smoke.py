"""tests/bench/bench_relay.py still runs: `--quick` in a subprocess, end to end.

Not a timed test. It checks that the benchmark completes and prints every row of its table,
never what the figures are: this machine's speed is not something the suite can assert.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT

BENCH = ROOT / "tests" / "bench" / "bench_relay.py"

ROWS = (
    "| Receiver warm p99, 1-item order |",
    "| Receiver warm p99, 10-item order |",
    "| Receiver warm p99, 250-item order |",
    "| Cold start, receiver (ours / bare) |",
    "| Cold start, sender (ours / bare) |",
    "| Receiver peak memory, 250-item order |",
    "| Sender throughput, batches of 100 |",
    "| Built layer size (unzipped) |",
)


@pytest.mark.slow
def test_bench_relay_quick_run_prints_its_table():
    proc = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)

    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for row in ROWS:
        assert row in out, f"{row!r} missing from:\n{out}"
    assert "| what | measured | target | verdict |" in out
    assert "cold start, receiver: ours / bare = " in out and "cold start, sender: ours / bare = " in out
    assert "sender, batches of 100: ours / raw POST of the same bytes = " in out
