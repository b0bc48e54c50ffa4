"""`make demo` and the Makefile's first check, run for real: the demo stays on this machine
whatever the environment holds, its output says which samples are refused on purpose, and an
old Python is stopped with a message before pip starts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import EVENTS, ROOT, clean_env

MAKEFILE = (ROOT / "Makefile").read_text()


def make(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=clean_env(**env), capture_output=True,
                          text=True, timeout=600)


def test_make_demo_never_posts_to_the_configured_events_api(fake_tiktok):
    """A user of pytt-events-api has TIKTOK_ACCESS_TOKEN exported (and here the API pointed at a
    fake we watch): the demo must not send it anything."""
    done = make("demo", TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token, TIKTOK_API_BASE_URL=fake_tiktok.base_url,
                TIKTOK_PIXEL_ID="CREALPIXEL")
    assert done.returncode == 0, done.stderr
    assert fake_tiktok.received == []
    assert "sent to the embedded fake TikTok (http://127.0.0.1:" in done.stdout
    assert "nothing goes to TikTok without --live" in done.stderr
    assert '"_aws"' not in done.stderr  # no metric JSON


def test_the_demo_names_the_samples_refused_on_purpose_and_they_are():
    done = make("demo")
    note = done.stdout[done.stdout.index("Refused on purpose:"):]
    named = re.findall(r"(negative_\w+\.json) \((\d{3})", note)
    assert sorted(name for name, _ in named) == sorted(p.name for p in (EVENTS / "shopify").glob("negative_*.json"))
    for name, status in named:
        assert re.search(rf"^{status}  rejected +events/shopify/{name}", done.stdout, re.M), name
    assert done.stderr.count('"level":"WARNING"') == len(named)  # "the two WARNING log lines on stderr are theirs"


def old_python(tmp_path: Path) -> str:
    """A Python 3.10 (pyenv's, when there is one), else a stand-in that answers like one."""
    for candidate in sorted(Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")).glob(
            "versions/3.10*/bin/python3.10")):
        return str(candidate)
    stand_in = tmp_path / "python3.10"
    stand_in.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo "Python 3.10.13"; exit 0; }\n'
                        'exec python3 -c "import sys; sys.exit(sys.version_info < (3, 99))"\n')
    stand_in.chmod(0o755)
    return str(stand_in)


def test_an_old_python_is_stopped_first_with_what_is_needed(tmp_path):
    python = old_python(tmp_path)
    done = make("demo", f"PYTHON={python}")
    assert done.returncode != 0 and done.stdout == ""
    assert f"tiktok-relay's tools need Python 3.11 or newer, and {python} is Python 3.10" in done.stderr
    assert "make demo PYTHON=python3.12" in done.stderr and "python3.13 for sam build" in done.stderr


@pytest.mark.skipif(shutil.which("python3") is None, reason="no python3")
def test_a_recent_python_passes_the_check_silently():
    done = make("check-python")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_the_demo_recipe_replays_without_live():
    recipe = MAKEFILE[MAKEFILE.index("\ndemo:"):].split("\n\n")[0]
    assert "tiktok-relay replay events/shopify/*.json" in recipe and "--live" not in recipe.split("@echo")[0]
