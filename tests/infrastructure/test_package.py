"""The sdist and the wheel (`make dist`, which `make test` runs first): metadata fit for
publishing, and a wheel that works on its own in a fresh virtualenv, outside the checkout.

Runs only when .build/dist holds them, like the built-layer checks with .aws-sam/build.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from tests.support import EVENTS, ROOT, clean_env
from tests.support.readme import library_example
from tiktok_relay import __version__

DIST = ROOT / ".build" / "dist"
WHEELS = sorted(DIST.glob("tiktok_relay-*.whl"))
SDISTS = sorted(DIST.glob("tiktok_relay-*.tar.gz"))
needs_dist = pytest.mark.skipif(not (WHEELS and SDISTS), reason="no .build/dist: run `make dist` first")
pytestmark = needs_dist


def wheel() -> Path:
    [path] = WHEELS
    return path


def metadata() -> dict[str, list[str]]:
    with zipfile.ZipFile(wheel()) as archive:
        text = archive.read(f"tiktok_relay-{__version__}.dist-info/METADATA").decode()
    message = Parser().parsestr(text)
    return {key: message.get_all(key) for key in set(message.keys())}


def test_the_version_is_single_sourced():
    assert wheel().name == f"tiktok_relay-{__version__}-py3-none-any.whl"
    assert metadata()["Version"] == [__version__]
    assert f'version = "{__version__}"' not in (ROOT / "pyproject.toml").read_text()  # read from the package


def test_the_metadata_is_fit_for_publishing():
    meta = metadata()
    assert meta["License-Expression"] == ["MIT"] and meta["License-File"] == ["LICENSE"]
    assert meta["Requires-Python"] == [">=3.11"]
    classifiers = set(meta["Classifier"])
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in (11, 12, 13)} <= classifiers
    assert {"Typing :: Typed", "Development Status :: 4 - Beta"} <= classifiers
    urls = dict(line.split(", ", 1) for line in meta["Project-URL"])
    assert {"Homepage", "Documentation", "Source", "Issues"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    assert "local" in meta["Provides-Extra"]
    assert meta["Description-Content-Type"] == ["text/markdown"]


def test_the_wheel_holds_the_package_and_its_handlers_and_nothing_else():
    with zipfile.ZipFile(wheel()) as archive:
        names = set(archive.namelist())
    for needed in ("tiktok_relay/py.typed", "tiktok_relay/handlers/receiver.py", "tiktok_relay/handlers/sender.py",
                   "tiktok_relay/compat/pytt_events/tiktok_events_api.py", "tiktok_relay/testing/fake_tiktok.py",
                   "tiktok_relay/storefront/shopify/tiktok-relay.liquid", "tiktok_relay/storefront/shopify/custom-pixel.js",
                   f"tiktok_relay-{__version__}.dist-info/licenses/LICENSE"):
        assert needed in names, needed
    assert {name.split("/")[0] for name in names} == {"tiktok_relay", f"tiktok_relay-{__version__}.dist-info"}


def test_the_sdist_holds_what_the_wheel_is_built_from():
    [sdist] = SDISTS
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml", "layers/tiktok_relay/tiktok_relay/handlers/receiver.py",
            "layers/tiktok_relay/tiktok_relay/compat/pytt_events/auth.py",
            "layers/tiktok_relay/tiktok_relay/storefront/shopify/custom-pixel.js"} <= names


# --- the wheel in a fresh virtualenv ------------------------------------------------------------------------------


def make_venv(where: Path, requirement: str) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    done = subprocess.run([str(where / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           requirement], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return where / "bin"


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel alone (no extras): its bin directory."""
    return make_venv(tmp_path_factory.mktemp("wheel-bare"), str(wheel()))


@pytest.fixture(scope="module")
def with_local(tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel and its `local` extra."""
    return make_venv(tmp_path_factory.mktemp("wheel-local"), f"tiktok-relay[local] @ {wheel().as_uri()}")


@pytest.fixture
def outside(tmp_path) -> Path:
    """A directory outside the checkout, holding one sample event: nothing of the repo is importable."""
    shutil.copy(EVENTS / "shopify" / "orders_paid.json", tmp_path / "orders_paid.json")
    return tmp_path


def run(bin_dir: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in clean_env(**env).items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    environment["PATH"] = f"{bin_dir}{os.pathsep}{environment.get('PATH', '')}"
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=environment, capture_output=True,
                          text=True, timeout=300)


def test_the_installed_package_is_the_wheel_not_the_checkout(bare, outside):
    done = run(bare, "python", "-c", "import tiktok_relay; print(tiktok_relay.__file__)", cwd=outside)
    assert Path(done.stdout.strip()).is_relative_to(bare.parent), done.stdout + done.stderr


def test_version(bare, outside):
    done = run(bare, "tiktok-relay", "--version", cwd=outside)
    assert (done.returncode, done.stdout.strip()) == (0, f"tiktok-relay {__version__}")


def test_the_readme_library_example_runs_against_the_wheel(bare, outside, fake_tiktok):
    (outside / "example.py").write_text(library_example())
    done = run(bare, "python", "example.py", cwd=outside, TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token,
               TIKTOK_API_BASE_URL=fake_tiktok.base_url, TIKTOK_PIXEL_ID="CWHEELPIXEL")
    assert done.returncode == 0, done.stderr
    assert fake_tiktok.accepted and fake_tiktok.accepted[0]["event_source_id"] == "CWHEELPIXEL"


def test_commands_that_need_no_extra_work_from_the_wheel(bare, outside):
    body = outside / "order.json"
    body.write_text(json.loads((outside / "orders_paid.json").read_text())["body"])
    signed = run(bare, "tiktok-relay", "sign", "--platform", "shopify", "--topic", "orders/paid", "order.json",
                 cwd=outside)
    assert signed.returncode == 0 and json.loads(signed.stdout)["headers"]["x-shopify-hmac-sha256"]
    mapped = run(bare, "tiktok-relay", "map", "--platform", "shopify", "--topic", "orders/paid", "order.json",
                 cwd=outside, TIKTOK_PIXEL_ID="CWHEELPIXEL")
    assert mapped.returncode == 0 and json.loads(mapped.stdout)["data"][0]["event"] == "Purchase"
    pixel = run(bare, "tiktok-relay", "snippet", "shopify", "--kind", "pixel", "--pixel-id", "CWHEELPIXEL", cwd=outside)
    assert pixel.returncode == 0 and 'var PIXEL_ID = "CWHEELPIXEL";' in pixel.stdout  # the package data is there


def test_replay_without_the_local_extra_names_it(bare, outside):
    done = run(bare, "tiktok-relay", "replay", "orders_paid.json", cwd=outside)
    assert done.returncode == 2 and done.stdout == ""
    assert "pip install 'tiktok-relay[local]'" in done.stderr and "Traceback" not in done.stderr


def test_replay_of_a_sample_event_runs_from_the_wheel(with_local, outside, fake_tiktok):
    done = run(with_local, "tiktok-relay", "replay", "--json", "orders_paid.json", cwd=outside,
               TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token, TIKTOK_API_BASE_URL=fake_tiktok.base_url)
    assert done.returncode == 0, done.stderr
    row, summary = (json.loads(line) for line in done.stdout.splitlines())
    assert row["status"] == 202 and summary["summary"]["delivered"] == 1
    assert fake_tiktok.received == []  # no --live: the embedded fake, even with a token in the environment
