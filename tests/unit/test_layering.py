"""The package's layers, enforced: what Lambda runs never imports the local tools, the fakes or
the command line, not even lazily inside a function.

    library     tiktok/, errors, config, retry: the Events API library, which stands alone
                (never imports the stores, the pipeline or anything above them)
    production  sources/, pipeline/, handlers/, functions/*/app.py (and the library)
    testing/    the public fakes (may import production, never local/ or cli/)
    local/      the harness behind replay and serve (may import testing/)
    cli/        the commands (may import anything)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGE = ROOT / "layers" / "tiktok_relay" / "tiktok_relay"
HANDLERS = sorted((ROOT / "functions").glob("*/app.py"))

LOCAL, TESTING, CLI = "tiktok_relay.local", "tiktok_relay.testing", "tiktok_relay.cli"
ABOVE_THE_LIBRARY = ("tiktok_relay.sources", "tiktok_relay.pipeline", "tiktok_relay.handlers", "tiktok_relay.compat")
LIBRARY = ("tiktok", "errors.py", "config.py", "retry.py")
FORBIDDEN = {
    "library": (*ABOVE_THE_LIBRARY, LOCAL, TESTING, CLI),
    "production": (LOCAL, TESTING, CLI),
    "testing": (LOCAL, CLI),
    "local": (CLI,),
    "cli": (),
    "entry point": (),
}


def layer_of(path: Path) -> str:
    if path.is_relative_to(PACKAGE):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] == "__main__.py":
            return "entry point"
        if parts[0] in LIBRARY:
            return "library"
        return {"local": "local", "testing": "testing", "cli": "cli"}.get(parts[0], "production")
    return "production"  # functions/*/app.py


def package_of(path: Path) -> str:
    """The package relative imports in `path` start from (the file's own folder)."""
    return ".".join(path.relative_to(PACKAGE.parent).parent.parts)


def imported_modules(source: str, package: str | None = None) -> list[tuple[int, str]]:
    """Every module `source` imports, anywhere (lazy imports inside functions included), plus
    string literals naming a tiktok_relay module (importlib.import_module, lazy export tables)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and package:  # relative: `.` is the file's package, each more dot one up
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("tiktok_relay."):
            found.append((node.lineno, node.value.split(":")[0]))
    return found


def violations(path: Path, source: str | None = None) -> list[str]:
    layer = layer_of(path)
    text = path.read_text() if source is None else source
    package = package_of(path) if path.is_relative_to(PACKAGE) else None
    out = []
    for line, name in imported_modules(text, package):
        for forbidden in FORBIDDEN[layer]:
            if name == forbidden or name.startswith(forbidden + "."):
                out.append(f"{path.relative_to(ROOT)}:{line} ({layer}) imports {name}")
    return out


def python_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py")) + HANDLERS


def test_the_layers_are_kept():
    files = python_files()
    assert len(files) > 30 and len(HANDLERS) == 4
    problems = [problem for path in files for problem in violations(path)]
    assert problems == []


@pytest.mark.parametrize(("path", "source"), [
    (PACKAGE / "pipeline" / "runtime.py", "def f():\n    from tiktok_relay.local.memory import MemoryQueue\n"),
    (PACKAGE / "tiktok" / "client.py", "import tiktok_relay.testing.fake_tiktok\n"),
    (PACKAGE / "sources" / "shopify" / "receiver.py", "from tiktok_relay import cli\n"),
    (PACKAGE / "pipeline" / "aws.py", "import importlib\nimportlib.import_module('tiktok_relay.local.harness')\n"),
    (HANDLERS[0], "from tiktok_relay.testing.lambda_context import FakeLambdaContext\n"),
    (PACKAGE / "testing" / "fake_tiktok.py", "from tiktok_relay.local.apigw import http_api_event\n"),
    (PACKAGE / "local" / "harness.py", "from tiktok_relay.cli.common import say\n"),
    (PACKAGE / "sources" / "shopify" / "mapping" / "__init__.py", "from ....local import memory\n"),
    (PACKAGE / "tiktok" / "models.py", "from tiktok_relay.sources.common.privacy import click_id\n"),
    (PACKAGE / "config.py", "def f():\n    from tiktok_relay.pipeline.runtime import StaticSecret\n"),
])
def test_a_forbidden_import_is_found_wherever_it_hides(path, source):
    assert violations(path, source), source


@pytest.mark.parametrize(("path", "source"), [
    (PACKAGE / "local" / "harness.py", "from tiktok_relay.testing.fake_tiktok import FakeTikTok\n"),
    (PACKAGE / "cli" / "replay.py", "from tiktok_relay.local.replay import replay\n"),
    (PACKAGE / "pipeline" / "runtime.py", "from tiktok_relay.pipeline.aws import SqsQueue\n"),
    (PACKAGE / "__main__.py", "from tiktok_relay.cli import main\n"),
])
def test_allowed_imports_pass(path, source):
    assert violations(path, source) == []
