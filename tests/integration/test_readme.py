"""The README's promises that code can check: its library example runs as written, and CI runs
exactly the README's test command."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start: end if end != -1 else None]


def test_library_example_runs_against_the_fake(fake_tiktok, tmp_path):
    [code] = re.findall(r"```python\n(.*?)```", section("Using the library on its own"), re.S)[:1]
    script = tmp_path / "example.py"
    script.write_text(code)
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
    commands = re.findall(r"```sh\n(.*?)\n```", quick_start, re.S)
    assert commands[:2] == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
