"""The relay's layer (layers/tiktok_relay/requirements.txt, what `sam build` installs) and
pyproject.toml's runtime dependencies agree.

Every layer requirement is a pyproject dependency with the same bounds; the only runtime
dependencies not in the layer are the ones the public Powertools layer brings
(aws-lambda-powertools[all], which includes pydantic v2).
"""

from __future__ import annotations

import tomllib

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tests.support import ROOT

LAYER_REQUIREMENTS = ROOT / "layers" / "tiktok_relay" / "requirements.txt"
PYPROJECT = ROOT / "pyproject.toml"
# Provided on Lambda by the public Powertools layer (template.yaml's PowertoolsLayerArn).
FROM_POWERTOOLS_LAYER = frozenset({"aws-lambda-powertools", "pydantic"})


def parse_requirements_txt(text: str) -> list[Requirement]:
    """Requirement lines; comments and blank lines skipped. Anything else (pip options, -r,
    editable installs, URLs) is refused: sam build would treat it differently from pyproject."""
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise ValueError(f"line {number}: pip options are not allowed in the layer's requirements: {line!r}")
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if requirement.url:
            raise ValueError(f"line {number}: URL requirements are not allowed: {line!r}")
        out.append(requirement)
    return out


def _key(requirement: Requirement) -> tuple:
    """What must be identical on both sides: extras, bounds and markers."""
    return (
        sorted(requirement.extras),
        sorted(str(spec) for spec in requirement.specifier),
        str(requirement.marker) if requirement.marker else None,
    )


def disagreements(layer: list[Requirement], project: list[Requirement]) -> list[str]:
    problems = []
    by_name: dict[str, Requirement] = {}
    for requirement in project:
        name = canonicalize_name(requirement.name)
        if name in by_name:
            problems.append(f"pyproject lists {name} twice")
        by_name[name] = requirement
    layer_names = set()
    for requirement in layer:
        name = canonicalize_name(requirement.name)
        if name in layer_names:
            problems.append(f"the layer's requirements.txt lists {name} twice")
        layer_names.add(name)
        if name in FROM_POWERTOOLS_LAYER:
            problems.append(f"{name} is in the layer's requirements.txt but comes from the Powertools layer")
        if not requirement.specifier:
            problems.append(f"{name} has no version bounds in the layer's requirements.txt")
        if name not in by_name:
            problems.append(f"{name} is in the layer's requirements.txt but not a pyproject dependency")
        elif _key(requirement) != _key(by_name[name]):
            problems.append(f"{name}: layer has {requirement}, pyproject has {by_name[name]}")
    not_in_layer = set(by_name) - layer_names
    if not_in_layer != FROM_POWERTOOLS_LAYER:
        if extra := sorted(not_in_layer - FROM_POWERTOOLS_LAYER):
            problems.append(f"runtime dependencies missing from the layer's requirements.txt: {', '.join(extra)}")
        if gone := sorted(FROM_POWERTOOLS_LAYER - set(by_name)):
            problems.append(f"pyproject no longer depends on {', '.join(gone)} (the Powertools layer's packages)")
    return problems


def project_dependencies() -> list[Requirement]:
    data = tomllib.loads(PYPROJECT.read_text())
    return [Requirement(line) for line in data["project"]["dependencies"]]


def test_layer_requirements_match_pyproject_dependencies():
    layer = parse_requirements_txt(LAYER_REQUIREMENTS.read_text())
    assert layer, "layers/tiktok_relay/requirements.txt lists nothing"
    assert disagreements(layer, project_dependencies()) == []


def test_the_powertools_layer_packages_are_runtime_dependencies():
    names = {canonicalize_name(r.name) for r in project_dependencies()}
    assert FROM_POWERTOOLS_LAYER <= names


# The comparison itself, on made-up inputs: each kind of drift is reported.
PROJECT = ["pydantic>=2.6,<3", "urllib3>=2.0,<3", "aws-lambda-powertools>=3.10,<4", "phonenumberslite>=8.13,<10"]
LAYER = ["phonenumberslite>=8.13,<10", "urllib3>=2.0,<3"]


def _reqs(lines):
    return [Requirement(line) for line in lines]


def test_agreeing_inputs_have_no_disagreements():
    assert disagreements(_reqs(LAYER), _reqs(PROJECT)) == []
    # Order, spacing and name spelling do not matter.
    assert disagreements(_reqs(["URLLib3 <3, >=2.0", "PhonenumbersLite>=8.13,<10"]), _reqs(PROJECT)) == []


@pytest.mark.parametrize(
    ("layer", "project", "expected"),
    [
        (["phonenumberslite>=8.13,<10", "urllib3>=2.1,<3"], PROJECT, "urllib3: layer has"),
        (["phonenumberslite>=8.13,<10", "urllib3>=2.0"], PROJECT, "urllib3: layer has"),
        (["phonenumberslite>=8.13,<10", "urllib3[socks]>=2.0,<3"], PROJECT, "urllib3: layer has"),
        (["phonenumberslite>=8.13,<10"], PROJECT, "missing from the layer's requirements.txt: urllib3"),
        (LAYER + ["requests>=2"], PROJECT, "requests is in the layer's requirements.txt but not a pyproject"),
        (LAYER + ["pydantic>=2.6,<3"], PROJECT, "pydantic is in the layer's requirements.txt but comes from"),
        (LAYER, PROJECT + ["jsonschema>=4"], "missing from the layer's requirements.txt: jsonschema"),
        (LAYER, [p for p in PROJECT if not p.startswith("pydantic")], "no longer depends on pydantic"),
        (["phonenumberslite", "urllib3>=2.0,<3"], ["phonenumberslite", *PROJECT[:3]], "has no version bounds"),
        (LAYER + ["urllib3>=2.0,<3"], PROJECT, "lists urllib3 twice"),
    ],
)
def test_each_kind_of_drift_is_reported(layer, project, expected):
    problems = disagreements(_reqs(layer), _reqs(project))
    assert any(expected in problem for problem in problems), problems


def test_requirements_txt_parsing():
    text = "# comment\n\nurllib3>=2.0,<3  # trailing comment\nphonenumberslite>=8.13,<10\n"
    assert [str(r) for r in parse_requirements_txt(text)] == ["urllib3<3,>=2.0", "phonenumberslite<10,>=8.13"]
    for bad in ("-e .", "--index-url https://example.com", "foo @ https://example.com/foo.whl", "not a req!"):
        with pytest.raises(ValueError):
            parse_requirements_txt(bad)
