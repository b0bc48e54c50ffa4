"""The command line explains itself: --version, help for every flag, the environment each
command reads, and hints that name only flags that exist."""

from __future__ import annotations

import argparse
import ast
import re
import subprocess

import pytest

from tests.support import ROOT, clean_env, console_script
from tiktok_relay import __version__
from tiktok_relay.cli import COMMAND_ENVIRONMENT, ENVIRONMENT, make_parser

PACKAGE = ROOT / "layers" / "tiktok_relay" / "tiktok_relay"


def subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> dict[str, argparse.ArgumentParser]:
    """Every (nested) command's parser, by its name as typed: 'replay', 'register shopify'."""
    found = {}
    for action in parser._actions:  # argparse offers no public way to walk subparsers
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[f"{prefix}{name}"] = sub
                found.update(subcommands(sub, f"{prefix}{name} "))
    return found


COMMANDS = subcommands(make_parser())


def test_version_is_the_package_version():
    done = subprocess.run(console_script() + ["--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"tiktok-relay {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_every_command_is_listed():
    assert set(COMMANDS) == {"build", "send", "fake-tiktok", "fake-shopify", "map", "sign", "register",
                             "register shopify", "replay", "serve", "snippet", "snippet shopify", "snippet woocommerce",
                             "tenants", "tenants check", "reconcile", "reconcile shopify", "quality", "redrive"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_flag_and_argument_has_help(name):
    missing = [action.dest for action in COMMANDS[name]._actions
               if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help]
    assert missing == []


@pytest.mark.parametrize("name", sorted(COMMAND_ENVIRONMENT))
def test_every_command_names_the_variables_it_reads_in_its_help(name):
    done = subprocess.run(console_script() + name.split() + ["--help"], capture_output=True, text=True, timeout=60,
                          env=clean_env())
    assert done.returncode == 0
    assert "environment:" in done.stdout
    for variable in COMMAND_ENVIRONMENT[name]:
        assert variable in done.stdout, variable


def test_every_variable_the_help_names_is_one_the_code_reads():
    source = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py") if "cli" not in path.parts)
    for variable in ENVIRONMENT:
        assert f'"{variable}"' in source, f"{variable} is documented in --help but read nowhere"


def string_literals() -> list[tuple[str, str]]:
    out = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append((str(path.relative_to(PACKAGE)), node.value))
    return out


def test_every_flag_a_message_names_exists():
    flags = {option for parser in [make_parser(), *COMMANDS.values()] for action in parser._actions
             for option in action.option_strings}
    named = {(where, flag) for where, text in string_literals() for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]+", text)}
    unknown = sorted((where, flag) for where, flag in named if flag not in flags)
    # curl's own flags, in the command `sign --curl` prints
    assert [item for item in unknown if item[1] not in ("--data-binary",)] == []
