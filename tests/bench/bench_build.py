"""Benchmark of `tiktok-relay build` against pytt-events-api 0.1.10 and a no-validation floor.

    .venv/bin/python tests/bench/bench_build.py            # or: make bench-build
    .venv/bin/python tests/bench/bench_build.py --events 10000 --repeat 7 --single-repeat 21

Each measured run is a whole process (fresh interpreter, imports, reading the input file,
writing the output file), so start-up and import costs count, as they do for a user:
  ours   .venv/bin/tiktok-relay build --pixel-id P FILE > out
  pytt   pytt_build.py in its own virtualenv (.venv-bench-pytt: pytt pins pydantic==1.10.4),
         created on the first run with `python3 -m venv` + pip (PyPI must be reachable)
  floor  floor_build.py: json.loads, three SHA-256 and json.dumps, no validation
The input is generated (seeded, gen_events.py) into a temporary directory and deleted after.
Runs are interleaved (ours, pytt, floor, ours, ...) so that machine noise hits all three alike.
Then the same for a file of one event, ours against the floor only: there start-up is all.
Goals (issue 16): pytt / ours >= 10x and ours / floor <= 1.5x for 10,000 events; ours / floor
<= 3x for one event. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_BIN = Path(sys.executable).parent  # run with the project's .venv/bin/python
PYTT_VENV = ROOT / ".venv-bench-pytt"
PYTT_REQUIREMENT = "pytt-events-api==0.1.10"
PIXEL = "CBENCHPIXEL0000000001"
PYTT_GOAL, FLOOR_GOAL, SINGLE_GOAL = 10.0, 1.5, 3.0  # issue 16's targets

sys.path.insert(0, str(HERE))
from gen_events import write_events  # noqa: E402


def pytt_python() -> Path:
    """The pytt virtualenv's interpreter, creating the virtualenv on first use."""
    python = PYTT_VENV / "bin" / "python"
    marker = PYTT_VENV / ".installed"
    if not marker.exists():
        print(f"creating {PYTT_VENV.name} with {PYTT_REQUIREMENT} (first run only) ...", file=sys.stderr)
        # The interpreter the project's venv was made from, so both sides run the same Python.
        base = getattr(sys, "_base_executable", None) or shutil.which("python3") or sys.executable
        subprocess.run([base, "-m", "venv", "--clear", str(PYTT_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", PYTT_REQUIREMENT],
            check=True,
        )
        marker.write_text(PYTT_REQUIREMENT + "\n")
    return python


def tiktok_relay_command() -> list[str]:
    script = VENV_BIN / "tiktok-relay"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tiktok_relay"]  # the same program, if the script is missing


def run_once(command: list[str], out_path: Path) -> tuple[float, float]:
    """(wall-clock, CPU user+sys) seconds of one whole process, stdout to a file.

    CPU time is reported too because it is steadier than wall time on a busy machine.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_")}
    # Installed packages come with .pyc files; the project's editable install gets them from
    # the untimed first run, unless bytecode writing is off (then every run would compile it).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with open(out_path, "wb") as out:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace")[-2000:]
        raise SystemExit(f"{command[0]} failed ({proc.returncode}):\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def count_events(out_path: Path, key: str) -> tuple[int, int]:
    """(request bodies, events) in an output file of concatenated JSON documents."""
    text = out_path.read_text()
    decoder, index, bodies, events = json.JSONDecoder(), 0, 0, 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return bodies, events
        body, index = decoder.raw_decode(text, index)
        bodies += 1
        events += len(body[key])


def check_same_hashes(ours: Path, pytt: Path) -> None:
    """Both tools must hash the same identifiers the same way (first event of the first body)."""
    our_user = json.loads(ours.open().readline())["data"][0]["user"]
    pytt_user = json.JSONDecoder().raw_decode(pytt.read_text())[0]["batch"][0]["context"]["user"]
    pairs = [("email", "email"), ("phone", "phone_number"), ("external_id", "external_id")]
    for our_name, pytt_name in pairs:
        if our_user[our_name] != [pytt_user[pytt_name]]:
            raise SystemExit(f"ours and pytt hash {our_name} differently; the comparison would be unfair")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="events in the input (default 10000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each program (default 7)")
    parser.add_argument("--single-repeat", type=int, default=21,
                        help="timed runs of ours and the floor on one event (default 21; 0: skip)")
    parser.add_argument("--only", choices=("ours", "pytt", "floor"), action="append",
                        help="run only these programs (repeatable); ratios need all three")
    args = parser.parse_args()
    chosen = args.only or ["ours", "pytt", "floor"]

    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        tmp_path = Path(tmp)
        events_path = tmp_path / "events.ndjson"
        write_events(str(events_path), args.events)
        programs = {
            "ours": lambda: [*tiktok_relay_command(), "build", "--pixel-id", PIXEL, str(events_path)],
            "pytt": lambda: [str(pytt_python()), str(HERE / "pytt_build.py"), PIXEL, str(events_path)],
            "floor": lambda: [sys.executable, str(HERE / "floor_build.py"), PIXEL, str(events_path)],
        }
        commands = {name: programs[name]() for name in chosen}
        outputs = {name: tmp_path / f"out-{name}" for name in commands}
        keys = {"ours": "data", "pytt": "batch", "floor": "data"}

        # One untimed run each: warms the page cache and .pyc files, and checks the outputs.
        for name in chosen:
            run_once(commands[name], outputs[name])
            bodies, events = count_events(outputs[name], keys[name])
            if events != args.events:
                raise SystemExit(f"{name} wrote {events} events, expected {args.events}")
            print(f"{name}: {bodies} request bodies, {events} events, "
                  f"{outputs[name].stat().st_size:,} bytes", file=sys.stderr)
        if "ours" in chosen and "pytt" in chosen:
            check_same_hashes(outputs["ours"], outputs["pytt"])

        times, cpu = timed_runs(commands, outputs, args.repeat)
        single = None
        singles = [name for name in chosen if name != "pytt"]
        if args.single_repeat and singles:
            one_path = tmp_path / "one.ndjson"
            one_path.write_bytes(events_path.read_bytes().split(b"\n", 1)[0] + b"\n")
            one = {name: [arg if arg != str(events_path) else str(one_path) for arg in commands[name]]
                   for name in singles}
            for name in singles:  # untimed, as above
                run_once(one[name], outputs[name])
            single = timed_runs(one, outputs, args.single_repeat)

    report(args, chosen, times, cpu, single)
    return 0


def timed_runs(commands: dict[str, list[str]], outputs: dict[str, Path], repeat: int
               ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(wall, CPU) seconds of `repeat` runs of each command, interleaved."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name in commands:
            wall, used = run_once(commands[name], outputs[name])
            times[name].append(wall)
            cpu[name].append(used)
    return times, cpu


def report(args: argparse.Namespace, chosen: list[str], times: dict[str, list[float]], cpu: dict[str, list[float]],
           single: tuple[dict[str, list[float]], dict[str, list[float]]] | None) -> None:
    print(f"\n`build` of {args.events:,} events, whole process each, {args.repeat} runs "
          f"(Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs)\n")
    labels = {
        "ours": "tiktok-relay build",
        "pytt": "pytt-events-api 0.1.10",
        "floor": "floor (parse + hash + dumps)",
    }
    print(f"| {'program':<30} | {'median ms':>9} | {'min ms':>7} | {'events/s (median)':>17} "
          f"| {'CPU ms (median)':>15} |")
    print(f"|{'-' * 32}|{'-' * 10}:|{'-' * 8}:|{'-' * 18}:|{'-' * 16}:|")
    medians = {}
    for name in chosen:
        medians[name] = statistics.median(times[name])
        print(f"| {labels[name]:<30} | {medians[name] * 1000:>9.0f} | {min(times[name]) * 1000:>7.0f} "
              f"| {args.events / medians[name]:>17,.0f} | {statistics.median(cpu[name]) * 1000:>15.0f} |")
    if {"ours", "pytt"} <= medians.keys():
        ratio = medians["pytt"] / medians["ours"]
        print(f"\npytt / ours  = {ratio:.2f}x  (goal >= {PYTT_GOAL:g}x: {'met' if ratio >= PYTT_GOAL else 'MISSED'})")
    if {"ours", "floor"} <= medians.keys():
        ratio = medians["ours"] / medians["floor"]
        print(f"ours / floor = {ratio:.2f}x  (goal <= {FLOOR_GOAL:g}x: {'met' if ratio <= FLOOR_GOAL else 'MISSED'})")
    if single is not None:
        one_times, one_cpu = single
        print(f"\n`build` of one event, whole process each, {len(next(iter(one_times.values())))} runs")
        print(f"| {'program':<30} | {'median ms':>9} | {'min ms':>7} | {'CPU ms (median)':>15} |")
        print(f"|{'-' * 32}|{'-' * 10}:|{'-' * 8}:|{'-' * 16}:|")
        for name, values in one_times.items():
            print(f"| {labels[name]:<30} | {statistics.median(values) * 1000:>9.1f} | {min(values) * 1000:>7.1f} "
                  f"| {statistics.median(one_cpu[name]) * 1000:>15.1f} |")
        if {"ours", "floor"} <= one_times.keys():
            ratio = statistics.median(one_times["ours"]) / statistics.median(one_times["floor"])
            pairs = statistics.median(o / f for o, f in zip(one_times["ours"], one_times["floor"]))
            verdict = "met" if ratio <= SINGLE_GOAL else "MISSED"
            print(f"\nours / floor, one event = {ratio:.2f}x (median of per-run ratios {pairs:.2f}x; "
                  f"goal <= {SINGLE_GOAL:g}x: {verdict})")


if __name__ == "__main__":
    sys.exit(main())
