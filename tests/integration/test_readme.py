"""The README's promises that code can check: its library example and its redrive recipe run as
written, every file an example names exists, its first screen holds the Quick start, and CI
runs exactly the README's test command."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.support import ROOT, clean_env, console_script
from tests.support.readme import code_blocks, library_example, readme, section

README = readme()
PACKAGE = ROOT / "layers" / "tiktok_relay" / "tiktok_relay"
# Files the examples make rather than read: what the command writes, or what the user writes.
WRITTEN = {"dead-letters.ndjson": "replay and serve write it", "samconfig.toml": "sam deploy --guided writes it",
           "tenants.json": "the agency writes it (examples/tenants.json shows one)",
           "ledger.ndjson": "reconcile --ledger writes it"}
FILE = re.compile(r"(?<![\w/:.*-])((?:[\w.-]+/)*[\w.-]+\.(?:json|ndjson|toml|txt|py|ya?ml|liquid|sh))\b")


def test_library_example_runs_against_the_fake(fake_tiktok, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(library_example())
    env = {**os.environ, "TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token, "TIKTOK_API_BASE_URL": fake_tiktok.base_url,
           "TIKTOK_PIXEL_ID": "CREADMEPIXEL", "TIKTOK_TEST_EVENT_CODE": "TEST123"}

    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "'delivered': 1" in result.stdout and "'delivered': 2500" in result.stdout
    first = fake_tiktok.accepted[0]
    assert first["test_event_code"] == "TEST123" and first["event_source_id"] == "CREADMEPIXEL"
    user = first["data"][0]["user"]
    assert "Jane.Doe" not in str(first) and len(user["email"][0]) == 64 and user["ip"] == "2001:db8::1"
    assert [len(body["data"]) for body in fake_tiktok.accepted[1:]] == [1000, 1000, 500]


def test_ci_runs_the_readme_test_command():
    quick_start = section("Quick start")
    commands = code_blocks(quick_start, "sh")
    assert [c.strip() for c in commands[:2]] == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_the_first_screen_says_what_it_is_and_holds_the_quick_start():
    first_screen = "\n".join(README.splitlines()[:45])
    assert "## Quick start" in first_screen and "make demo" in first_screen and "make test" in first_screen
    quick_start = section("Quick start")
    assert "Python 3.11 or newer" in quick_start and "Python 3.13" in quick_start
    assert "source .venv/bin/activate" in quick_start
    assert "--live" in quick_start  # why the demo cannot reach TikTok


def example_files() -> list[tuple[str, str]]:
    """(file, the block it is in) for every file a shell or Python example names."""
    out = []
    for language in ("sh", "bash", "python"):
        for block in code_blocks(README, language):
            out += [(match, block) for match in FILE.findall(block)]
    return out


BASES = (ROOT, PACKAGE, PACKAGE.parent)  # paths are given from the root, or the package's folders


def inline_paths() -> list[str]:
    """Repository paths the prose names in `code`: with an extension, under a folder of the
    repository (a theme's layout/theme.liquid or another project's src/ are not ours)."""
    paths = [p.removeprefix("./") for p in re.findall(r"`([\w.-]+/[\w./-]+\.\w+)`", README) if "*" not in p]
    return [p for p in paths if p not in WRITTEN and any((base / p.split("/")[0]).is_dir() for base in BASES)]


def test_every_file_an_example_names_exists():
    missing = []
    for name, block in example_files():
        written = re.search(rf">\s*{re.escape(name)}\b", block)  # made by the example itself
        if not (written or name in WRITTEN or (ROOT / name).exists()):
            missing.append(name)
    assert example_files() and missing == []


def test_every_repository_path_the_prose_names_exists():
    missing = [p for p in inline_paths() if not any((base / p).exists() for base in BASES)]
    assert inline_paths() and missing == []


def test_the_file_check_catches_a_made_up_file():
    assert FILE.findall("tiktok-relay map --topic orders/paid order.json > out.json") == ["order.json", "out.json"]
    assert not (ROOT / "order.json").exists()


def test_the_redrive_recipe_sends_what_may_go_back_and_keeps_the_refused(fake_tiktok, tmp_path):
    [recipe] = [block.strip() for block in code_blocks(section("Troubleshooting"), "sh")
                if "dead-letters.ndjson" in block]
    # A dead-letter file as replay writes it: one event rejected by TikTok, one record that kept failing.
    fake_tiktok.reject_events({"shopify-order-5829310123456"})
    env = clean_env(TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token, TIKTOK_API_BASE_URL=fake_tiktok.base_url,
                    TIKTOK_PIXEL_ID="CRESENDPIXEL", TIKTOK_MAX_EVENT_AGE="3650d")  # the samples date from 2026-11
    replayed = subprocess.run(console_script() + ["replay", "--live", "--max-receives", "1", "--dead-letter",
                                                  str(tmp_path / "dead-letters.ndjson"),
                                                  str(ROOT / "events/shopify/orders_paid.json")],
                              env=env, capture_output=True, text=True, timeout=120)
    assert replayed.returncode == 1, replayed.stderr
    fake_tiktok.reset()
    fake_tiktok.fail_next("40001")  # the checkout's record fails its one receive: dead-lettered as queued
    subprocess.run(console_script() + ["replay", "--live", "--max-receives", "1", "--dead-letter",
                                       str(tmp_path / "dead-letters.ndjson"),
                                       str(ROOT / "events/shopify/checkouts_create.json")],
                   env=env, capture_output=True, timeout=120)
    letters = [json.loads(line) for line in (tmp_path / "dead-letters.ndjson").read_text().splitlines()]
    assert [("request" in letter, "body" in letter) for letter in letters] == [(True, False), (False, True)]
    fake_tiktok.reset()

    path = os.pathsep.join([str(console_script()[0].rsplit("/", 1)[0]), env["PATH"]])
    resent = subprocess.run(["sh", "-c", recipe], cwd=tmp_path, env={**env, "PATH": path}, capture_output=True,
                            text=True, timeout=120)

    assert resent.returncode == 0, resent.stderr
    out = resent.stdout
    assert out.index("dry run, nothing moved: would redrive 1 of 2 event(s) from dead-letters.ndjson") \
        < out.index("\nredriven 1 of 2 event(s) from dead-letters.ndjson")
    assert out.count("1 refused by TikTok for their data: kept") == 2
    # The checkout went out as it was queued; the refused order stays in the file, unchanged.
    assert fake_tiktok.accepted_ids() == ["shopify-checkout-f3a9c2d1e0b4a5968778695a4b3c2d1e"]
    kept = [json.loads(line) for line in (tmp_path / "dead-letters.ndjson").read_text().splitlines()]
    assert kept == letters[:1]


def test_the_migration_section_gives_the_import_change_and_the_renames():
    migration = section("Moving from pytt-events-api")
    [snippet] = code_blocks(migration, "python")
    done = subprocess.run([sys.executable, "-c", snippet], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for old, new in (("timestamp", "event_time"), ("phone_number", '"phone"'), ("Ad(callback=...)", '"ttclid"'),
                     ("Context(ip=..., user_agent=...)", '"ip"'), ("ContentType.PRODUCT", '"product"')):
        row = next(line for line in migration.splitlines() if line.startswith("|") and old in line)
        assert new in row, row


def test_the_reconcile_recipe_reports_the_sample_order_old_then_sends_it_with_force(fake_tiktok, tmp_path):
    """The "Trying it without a shop" commands of Reconciliation, as written, against the fakes
    (on ports of this test's own: the recipe's 8765 and 8766 may be taken on a shared machine)."""
    from tiktok_relay.testing.fake_shopify_admin import FakeShopifyAdmin
    from tiktok_relay.testing.fake_shopify_orders import read_orders

    [recipe] = [b for b in code_blocks(section("Reconciliation: what the webhooks missed, sent, and the proof"), "sh")
                if "fake-shopify --orders" in b]
    commands = [c.strip() for c in recipe.replace("\\\n", " ").splitlines() if c.startswith("tiktok-relay reconcile")]
    exports = dict(part.split("=", 1) for line in recipe.splitlines() if line.startswith("export ")
                   for part in line.removeprefix("export ").split())
    orders = read_orders((ROOT / "examples/shopify/orders_paid.json").read_text(), "the sample")
    with FakeShopifyAdmin(exports["SHOPIFY_ADMIN_ACCESS_TOKEN"], orders=orders) as admin:
        env = clean_env(**{**exports, "SHOPIFY_ADMIN_BASE_URL": admin.base_url,
                           "TIKTOK_API_BASE_URL": fake_tiktok.base_url, "TIKTOK_ACCESS_TOKEN": fake_tiktok.access_token})
        runs = [subprocess.run(console_script() + command.split()[1:] + ["--json"], env=env, cwd=tmp_path,
                               capture_output=True, text=True, timeout=120) for command in commands]
    assert len(runs) == 2 and [r.returncode for r in runs] == [1, 0], [r.stderr for r in runs]
    first, forced = (json.loads(r.stdout) for r in runs)
    assert (first["old"], first["sent"], forced["sent"], forced["old"]) == (1, 0, 1, 0)
    assert fake_tiktok.accepted_ids() == ["shopify-order-5829310123456"]
    assert (tmp_path / "ledger.ndjson").exists()


def test_the_match_quality_weights_are_the_ones_the_estimate_uses():
    from tiktok_relay.tiktok.matching import EMQ_WEIGHTS

    text = section("Raising match quality")
    rows = re.findall(r"^\| `(\w+)` \| ([0-9.]+) \|", text, re.M)
    assert {key: float(weight) for key, weight in rows} == EMQ_WEIGHTS


def test_the_match_quality_example_runs_and_reports_the_samples(tmp_path):
    [example] = [block for block in code_blocks(section("Raising match quality"), "sh") if "quality" in block]
    (tmp_path / "events").symlink_to(ROOT / "events")
    path = os.pathsep.join([str(console_script()[0].rsplit("/", 1)[0]), clean_env()["PATH"]])
    done = subprocess.run(["sh", "-ec", example], cwd=tmp_path, env=clean_env(PATH=path), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("7 event(s) in 1 file(s)") and "estimated Event Match Quality: 5.6 of 10" in done.stdout


def test_the_redrive_json_example_has_the_keys_redrive_prints():
    from tiktok_relay.local.redrive import RedriveReport

    [example] = code_blocks(section("Redriving dead letters safely"), "json")
    assert list(json.loads(example)) == list(RedriveReport("f", "t", dry_run=False).as_dict())
