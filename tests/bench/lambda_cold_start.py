"""Child process of bench_relay.py: one cold start, the way Lambda's Python runtime does it.
Both functions (an API Gateway event for the receiver, an SQS batch for the sender) and the
bare baseline go through it alike.

    python lambda_cold_start.py HANDLER_FILE EVENTS_FILE RESULT_FILE

Puts the handler's directory first on sys.path (Lambda's /var/task) and BENCH_LAYER_PATH
after it if set (Lambda's /opt/python), imports the handler module by its file name (INIT),
then invokes `lambda_handler` with each event of the JSON list in EVENTS_FILE, in order: the
first is the cold start's first delivery, any others are warm invocations of the same
process. Writes time.monotonic() stamps (a system-wide clock on Linux, so the parent can
subtract its own spawn time), the responses and memory figures to RESULT_FILE as JSON, then
leaves without interpreter teardown, which is not part of a cold start.

Only the standard library is imported before the handler, and nothing the handler would not
import anyway (json, os, time); both sides of the comparison use this same driver.
With `-X tracemalloc` the Python heap peak is reported for INIT and for each invocation.
With BENCH_CPROFILE=FILE the first invocation is profiled (cProfile) into FILE.
"""

import sys
import time

STARTED = time.monotonic()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402


class Context:
    """What Lambda passes as `context` (the attributes Powertools reads)."""

    function_name = "tiktok-relay-receiver"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:tiktok-relay-receiver"
    aws_request_id = "00000000-0000-4000-8000-000000000001"
    log_group_name = "/aws/lambda/tiktok-relay-receiver"
    log_stream_name = "2026/11/26/[$LATEST]00000000000000000000000000000000"

    def __init__(self) -> None:
        # The function's timeout (template.yaml: 10 s for the receiver, 60 s for the sender, whose
        # deadline keeps 10 s for its own writes).
        self._deadline = time.monotonic() + float(os.environ.get("BENCH_FUNCTION_TIMEOUT", "10"))

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def main() -> None:
    handler_file, events_file, result_file = sys.argv[1:4]
    sys.path.insert(0, os.path.dirname(os.path.abspath(handler_file)))
    if os.environ.get("BENCH_LAYER_PATH"):
        sys.path.insert(1, os.environ["BENCH_LAYER_PATH"])
    with open(events_file, encoding="utf-8") as handle:
        events = json.load(handle)

    tracemalloc = None
    if "tracemalloc" in sys._xoptions or os.environ.get("PYTHONTRACEMALLOC"):
        import tracemalloc
    init_started = time.monotonic()
    module = importlib.import_module(os.path.splitext(os.path.basename(handler_file))[0])
    init_done = time.monotonic()
    result = {"started": STARTED, "init_started": init_started, "init_done": init_done,
              "init_max_rss_kib": max_rss_kib(), "calls": []}
    if tracemalloc:
        result["init_heap_peak"] = tracemalloc.get_traced_memory()[1]

    for number, event in enumerate(events):
        heap_before = 0
        if tracemalloc:
            tracemalloc.reset_peak()
            heap_before = tracemalloc.get_traced_memory()[0]
        started = time.monotonic()
        if number == 0 and os.environ.get("BENCH_CPROFILE"):
            import cProfile

            profiler = cProfile.Profile()
            response = profiler.runcall(module.lambda_handler, event, Context())
            profiler.dump_stats(os.environ["BENCH_CPROFILE"])
        else:
            response = module.lambda_handler(event, Context())
        call = {"started": started, "done": time.monotonic(), "status": response.get("statusCode"),
                "body": response.get("body"), "item_failures": response.get("batchItemFailures"),
                "max_rss_kib": max_rss_kib()}
        if tracemalloc:
            call["heap_before"] = heap_before
            call["heap_peak"] = tracemalloc.get_traced_memory()[1]
        result["calls"].append(call)
    result["first_done"] = result["calls"][0]["done"]
    result["status"] = result["calls"][0]["status"]
    result["body"] = result["calls"][0]["body"]
    result["max_rss_kib"] = max_rss_kib()
    with open(result_file, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
