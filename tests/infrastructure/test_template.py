"""template.yaml and the code agree; and what `sam build` made is a layer Lambda can use.

The checks are functions that return a list of problems, so that each one can be shown to fail:
`test_each_check_catches_its_mistake` breaks a copy of the template in one way per check and
expects that check to say so. Nothing here needs AWS or Docker: the template is read with a YAML
loader that knows CloudFormation's short tags, and transformed offline with samtranslator (the
library behind `sam`'s own transform) to look at the IAM roles and the SQS event source mapping
that SAM generates.

The built-layer tests run only when .aws-sam/build exists (`make test` runs `sam build` first).
"""

from __future__ import annotations

import ast
import copy
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import jmespath
import pytest
import yaml

from tests.support import ROOT
from tiktok_relay.local.apigw import WEBHOOK_PATH, shopify_event
from tiktok_relay.pipeline import runtime
from tiktok_relay.sources.shopify.receiver import IDEMPOTENCY_KEY_PATH, WEBHOOK_ID_HEADER

TEMPLATE = ROOT / "template.yaml"
PACKAGE = ROOT / "layers" / "tiktok_relay" / "tiktok_relay"
EVENT_FILES = sorted((ROOT / "events" / "shopify").glob("*.json"))
BUILD = ROOT / ".aws-sam" / "build"

RECEIVER, SENDER, LAYER = "ReceiverFunction", "SenderFunction", "RelayLayer"
RUNTIME, ARCHITECTURE = "python3.13", "arm64"
POWERTOOLS_PARAMETER = "PowertoolsLayerArn"
POWERTOOLS_SSM_PREFIX = f"/aws/service/powertools/python/{ARCHITECTURE}/{RUNTIME}/"
LAYER_BUDGET_BYTES = 10 * 1024 * 1024
# Every environment variable the deployed code reads is read in one of these files.
ENV_SOURCES = [
    PACKAGE / "pipeline" / "runtime.py",
    PACKAGE / "config.py",
    PACKAGE / "sources" / "shopify" / "settings.py",
    PACKAGE / "pipeline" / "aws.py",
    PACKAGE / "pipeline" / "receive.py",
    PACKAGE / "pipeline" / "send.py",
    PACKAGE / "handlers" / "__init__.py",
    PACKAGE / "handlers" / "receiver.py",
    PACKAGE / "handlers" / "sender.py",
    ROOT / "functions" / "receiver" / "app.py",
    ROOT / "functions" / "sender" / "app.py",
]
# Set by Lambda itself, or Powertools settings (template Globals, or Powertools' defaults).
PLATFORM_ENV = re.compile(r"^(AWS_|LAMBDA_|_X_AMZN_|_HANDLER$|POWERTOOLS_)")
# AWS managed policies SAM attaches: basic logging, X-Ray (Tracing: Active), SQS polling (the SQS
# event). They are AWS's, scoped by AWS, and their Resource is "*"; nothing else may be attached.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole",
}


# --------------------------------------------------------------------------------------------
# Reading the template


class CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader for CloudFormation: !Ref, !GetAtt, !Sub, !If, !Not, !Equals, ... become
    their long forms ({"Ref": ...}, {"Fn::GetAtt": [resource, attribute]}, {"Fn::Sub": ...})."""


def _construct_short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: Path = TEMPLATE) -> dict:
    return yaml.load(path.read_text(), Loader=CloudFormationLoader)


@pytest.fixture(scope="module")
def _loaded_template() -> dict:
    return load_template()


@pytest.fixture
def template(_loaded_template) -> dict:
    return copy.deepcopy(_loaded_template)


def test_the_loader_reads_short_tags():
    text = """
    A: !Ref X
    B: !GetAtt Q.Arn
    C: !Sub "${A}-b"
    D: !If [Cond, [!Ref Y], !Ref AWS::NoValue]
    E: !Not [!Equals [!Ref P, ""]]
    F: !Sub ["${x}", {x: !GetAtt T.Name}]
    """
    assert yaml.load(text, Loader=CloudFormationLoader) == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["Q", "Arn"]},
        "C": {"Fn::Sub": "${A}-b"},
        "D": {"Fn::If": ["Cond", [{"Ref": "Y"}], {"Ref": "AWS::NoValue"}]},
        "E": {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]},
        "F": {"Fn::Sub": ["${x}", {"x": {"Fn::GetAtt": ["T", "Name"]}}]},
    }


def resources(template: dict, type_: str | None = None) -> dict[str, dict]:
    return {name: r for name, r in template.get("Resources", {}).items() if type_ is None or r.get("Type") == type_}


def props(template: dict, name: str) -> dict:
    return template["Resources"][name].get("Properties", {})


def global_function(template: dict) -> dict:
    return template.get("Globals", {}).get("Function", {})


def fn_property(template: dict, fn: str, name: str, default=None):
    """A function's property, with SAM Globals applied (the function's own value wins)."""
    own = props(template, fn)
    return own[name] if name in own else global_function(template).get(name, default)


def fn_environment(template: dict, fn: str) -> dict:
    """Globals' variables merged with the function's own (SAM merges maps)."""
    merged = dict(global_function(template).get("Environment", {}).get("Variables", {}))
    merged.update(props(template, fn).get("Environment", {}).get("Variables", {}))
    return merged


def fn_layers(template: dict, fn: str) -> list:
    """SAM appends a function's Layers to Globals' Layers."""
    return list(global_function(template).get("Layers", [])) + list(props(template, fn).get("Layers", []))


def ref(value) -> str | None:
    return value.get("Ref") if isinstance(value, dict) and set(value) == {"Ref"} else None


def getatt(value) -> tuple[str, str] | None:
    if isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        resource, attribute = value["Fn::GetAtt"]
        return resource, attribute
    return None


def walk(node, path="$"):
    """(path, key, value) for every mapping entry in the template."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}[{index}]")


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def sqs_event(template: dict, fn: str) -> dict | None:
    for event in props(template, fn).get("Events", {}).values():
        if event.get("Type") == "SQS":
            return event.get("Properties", {})
    return None


def events_queue(template: dict) -> str | None:
    """The queue the sender consumes (its SQS event source)."""
    event = sqs_event(template, SENDER)
    target = getatt(event.get("Queue")) if event else None
    return target[0] if target and target[1] == "Arn" else None


def dead_letter_queue(template: dict) -> str | None:
    """The events queue's redrive target."""
    queue = events_queue(template)
    if queue not in resources(template, "AWS::SQS::Queue"):
        return None
    target = getatt(props(template, queue).get("RedrivePolicy", {}).get("deadLetterTargetArn"))
    return target[0] if target and target[1] == "Arn" else None


# --------------------------------------------------------------------------------------------
# The checks. Each returns a list of problems (empty: all good).

_imported_handlers: dict[Path, object] = {}


def import_handler_module(path: Path):
    """Import a handler file by path, once, as its own module (every handler is called app.py)."""
    path = path.resolve()
    if path not in _imported_handlers:
        name = f"template_check_{path.parent.name}_{path.stem}_{uuid.uuid4().hex[:8]}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # a name of its own: other tests load their own copy
        spec.loader.exec_module(module)
        _imported_handlers[path] = module
    return _imported_handlers[path]


def handler_path(template: dict, fn: str, root: Path = ROOT) -> tuple[Path, str]:
    module, _, attribute = fn_property(template, fn, "Handler", "").rpartition(".")
    code_uri = fn_property(template, fn, "CodeUri", "")
    return root / code_uri / (module.replace(".", "/") + ".py"), attribute


def handler_problems(template: dict) -> list[str]:
    problems = []
    functions = resources(template, "AWS::Serverless::Function")
    if set(functions) != {RECEIVER, SENDER}:
        problems.append(f"expected the functions {RECEIVER} and {SENDER}, found {sorted(functions)}")
    for fn in sorted(functions):
        code_uri = fn_property(template, fn, "CodeUri")
        if not isinstance(code_uri, str) or not (ROOT / code_uri).is_dir():
            problems.append(f"{fn}: CodeUri {code_uri!r} is not a directory of the project")
            continue
        if not (ROOT / code_uri / "requirements.txt").is_file():
            problems.append(f"{fn}: {code_uri} has no requirements.txt (sam build wants one, even empty)")
        path, attribute = handler_path(template, fn)
        if not path.is_file():
            problems.append(f"{fn}: Handler {fn_property(template, fn, 'Handler')!r}: {path} does not exist")
            continue
        module = import_handler_module(path)
        if not callable(getattr(module, attribute, None)):
            problems.append(f"{fn}: {path.relative_to(ROOT)} has no callable {attribute!r}")
        if fn_property(template, fn, "Runtime") != RUNTIME:
            problems.append(f"{fn}: Runtime is {fn_property(template, fn, 'Runtime')!r}, not {RUNTIME}")
        if fn_property(template, fn, "Architectures") != [ARCHITECTURE]:
            problems.append(f"{fn}: Architectures is {fn_property(template, fn, 'Architectures')!r}")
    return problems


def environment_problems(template: dict) -> list[str]:
    problems = []
    for fn, needed in ((RECEIVER, runtime.RECEIVER_ENVIRONMENT), (SENDER, runtime.SENDER_ENVIRONMENT)):
        env = fn_environment(template, fn)
        for name in needed:
            if name not in env:
                problems.append(f"{fn} does not set {name}, which it reads")
            elif env[name] is None or (isinstance(env[name], str) and not env[name].strip()
                                       and name not in OPTIONAL_ENVIRONMENT):
                problems.append(f"{fn} sets {name} to nothing")
    # The template and the code agree on which queue, dead-letter queue and table.
    queue, dlq = events_queue(template), dead_letter_queue(template)
    wiring = ((RECEIVER, "EVENTS_QUEUE_URL", queue), (SENDER, "DEAD_LETTER_QUEUE_URL", dlq),
              (RECEIVER, "IDEMPOTENCY_TABLE", idempotency_table(template)))
    for fn, name, resource in wiring:
        if resource is None or ref(fn_environment(template, fn).get(name)) != resource:
            problems.append(f"{fn}'s {name} is not !Ref {resource}")
    return problems


# Receiver/sender variables that may legitimately be blank (their parameters default to "").
OPTIONAL_ENVIRONMENT = ("TIKTOK_TEST_EVENT_CODE", "TIKTOK_PHONE_REGION", "SHOPIFY_TOPIC_EVENTS",
                        "TIKTOK_OFFLINE_EVENT_SET_ID", "SHOPIFY_SOURCE_CHANNELS", "SHOPIFY_STOREFRONT_DOMAIN")


def local_only_problems(template: dict) -> list[str]:
    return [f"{path}.{key}: {key} is for running outside AWS only (it would hold a secret in plaintext)"
            for path, key, _ in walk(template) if key in runtime.LOCAL_ONLY]


def queue_problems(template: dict) -> list[str]:
    problems = []
    event = sqs_event(template, SENDER)
    if event is None:
        return [f"{SENDER} has no SQS event source"]
    queue = events_queue(template)
    if queue not in resources(template, "AWS::SQS::Queue"):
        return [f"{SENDER}'s SQS event does not read an AWS::SQS::Queue of this template (got {queue!r})"]
    if "ReportBatchItemFailures" not in (event.get("FunctionResponseTypes") or []):
        problems.append(f"{SENDER}'s SQS event lacks FunctionResponseTypes: [ReportBatchItemFailures]")
    batch = event.get("BatchSize", 10)
    if batch > 10 and not event.get("MaximumBatchingWindowInSeconds"):
        problems.append(f"BatchSize {batch} > 10 needs MaximumBatchingWindowInSeconds >= 1")
    timeout = fn_property(template, SENDER, "Timeout", 3)
    visibility = props(template, queue).get("VisibilityTimeout", 30)
    if not isinstance(visibility, int) or not isinstance(timeout, int) or visibility < 6 * timeout:
        problems.append(f"{queue}.VisibilityTimeout {visibility} is less than 6 x {SENDER}'s Timeout {timeout}")
    redrive = props(template, queue).get("RedrivePolicy") or {}
    dlq = dead_letter_queue(template)
    if dlq not in resources(template, "AWS::SQS::Queue") or dlq == queue:
        problems.append(f"{queue}'s RedrivePolicy does not target a dead-letter queue of this template")
    else:
        if not isinstance(redrive.get("maxReceiveCount"), int) or redrive["maxReceiveCount"] < 1:
            problems.append(f"{queue}'s RedrivePolicy.maxReceiveCount is {redrive.get('maxReceiveCount')!r}")
        # A redriven message keeps its enqueue time: the DLQ must keep messages longer.
        if props(template, dlq).get("MessageRetentionPeriod", 345600) <= props(template, queue).get(
                "MessageRetentionPeriod", 345600):
            problems.append(f"{dlq} keeps messages no longer than {queue}; redriven ones would expire early")
    return problems


def alarm_problems(template: dict) -> list[str]:
    dlq = dead_letter_queue(template)
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        p = alarm.get("Properties", {})
        watched = [getatt(d.get("Value")) for d in p.get("Dimensions", []) if d.get("Name") == "QueueName"]
        if (p.get("Namespace") == "AWS/SQS" and p.get("MetricName") == "ApproximateNumberOfMessagesVisible"
                and watched == [(dlq, "QueueName")]):
            fires_on_one = (p.get("ComparisonOperator") == "GreaterThanThreshold" and p.get("Threshold") == 0) or (
                p.get("ComparisonOperator") == "GreaterThanOrEqualToThreshold" and p.get("Threshold") == 1)
            return [] if fires_on_one else [f"{name} does not fire on the first dead letter"]
    return [f"no CloudWatch alarm on {dlq}'s ApproximateNumberOfMessagesVisible"]


def idempotency_table(template: dict) -> str | None:
    return ref(fn_environment(template, RECEIVER).get("IDEMPOTENCY_TABLE"))


def table_problems(template: dict) -> list[str]:
    problems = []
    for variable in ("IDEMPOTENCY_TABLE", "STATE_TABLE"):
        problems += _table_problems(template, variable)
    return problems


def _table_problems(template: dict, variable: str) -> list[str]:
    table = ref(fn_environment(template, RECEIVER).get(variable))
    if table not in resources(template, "AWS::DynamoDB::Table"):
        return [f"{variable} does not name a DynamoDB table of this template (got {table!r})"]
    p = props(template, table)
    problems = []
    # Powertools' DynamoDBPersistenceLayer defaults, which DynamoDBStateStore uses as well: key
    # attribute `id`, TTL attribute `expiration`.
    if p.get("KeySchema") != [{"AttributeName": "id", "KeyType": "HASH"}]:
        problems.append(f"{table}'s key is {p.get('KeySchema')!r}, not id (HASH)")
    if {"AttributeName": "id", "AttributeType": "S"} not in p.get("AttributeDefinitions", []):
        problems.append(f"{table} does not define id as a string attribute")
    if p.get("TimeToLiveSpecification") != {"AttributeName": "expiration", "Enabled": True}:
        problems.append(f"{table}'s TTL is {p.get('TimeToLiveSpecification')!r}, not expiration (enabled)")
    return problems


def layer_problems(template: dict) -> list[str]:
    problems = []
    expected = [{"Ref": POWERTOOLS_PARAMETER}, {"Ref": LAYER}]
    for fn in (RECEIVER, SENDER):
        if fn_layers(template, fn) != expected:
            problems.append(f"{fn}'s layers are {fn_layers(template, fn)!r}: want Powertools, then {LAYER}")
    parameter = template.get("Parameters", {}).get(POWERTOOLS_PARAMETER, {})
    if parameter.get("Type") != "AWS::SSM::Parameter::Value<String>" or not str(
            parameter.get("Default", "")).startswith(POWERTOOLS_SSM_PREFIX):
        problems.append(f"{POWERTOOLS_PARAMETER} must be an SSM parameter under {POWERTOOLS_SSM_PREFIX}")
    layer = resources(template, "AWS::Serverless::LayerVersion").get(LAYER)
    if layer is None:
        return problems + [f"no AWS::Serverless::LayerVersion {LAYER}"]
    p, metadata = layer.get("Properties", {}), layer.get("Metadata", {})
    content = ROOT / str(p.get("ContentUri"))
    if not (content / "tiktok_relay" / "__init__.py").is_file() or not (content / "requirements.txt").is_file():
        problems.append(f"{LAYER}'s ContentUri {p.get('ContentUri')!r} is not the tiktok_relay package directory")
    if metadata.get("BuildMethod") != RUNTIME or metadata.get("BuildArchitecture") != ARCHITECTURE:
        problems.append(f"{LAYER} must be built with BuildMethod {RUNTIME} for {ARCHITECTURE}")
    if RUNTIME not in p.get("CompatibleRuntimes", []) or ARCHITECTURE not in p.get("CompatibleArchitectures", []):
        problems.append(f"{LAYER} is not declared compatible with {RUNTIME}/{ARCHITECTURE}")
    return problems


def api_problems(template: dict) -> list[str]:
    """The receiver is behind an HTTP API (payload v2: lower-case header names) on WEBHOOK_PATH."""
    events = [e.get("Properties", {}) for e in props(template, RECEIVER).get("Events", {}).values()
              if e.get("Type") == "HttpApi"]
    if len(events) != 1:
        return [f"{RECEIVER} must have exactly one HttpApi event, has {len(events)}"]
    [event] = events
    problems = []
    if (event.get("Path"), str(event.get("Method", "")).upper()) != (WEBHOOK_PATH, "POST"):
        problems.append(f"the HttpApi route is {event.get('Method')} {event.get('Path')}, not POST {WEBHOOK_PATH}")
    if str(event.get("PayloadFormatVersion", "2.0")) != "2.0":
        problems.append("the HttpApi event must use payload format 2.0 (the code expects lower-case headers)")
    api = ref(event.get("ApiId"))
    if api not in resources(template, "AWS::Serverless::HttpApi"):
        problems.append(f"the HttpApi event's ApiId is not an AWS::Serverless::HttpApi of this template: {api!r}")
    return problems


def output_problems(template: dict) -> list[str]:
    values = [o.get("Value") for o in template.get("Outputs", {}).values()]
    problems = []
    wanted = {"the events queue": events_queue(template), "the dead-letter queue": dead_letter_queue(template),
              "the idempotency table": idempotency_table(template)}
    for what, resource in wanted.items():
        if resource is None or {"Ref": resource} not in values:
            problems.append(f"no output gives {what} ({resource})")
    api_events = [e.get("Properties", {}) for e in props(template, RECEIVER).get("Events", {}).values()
                  if e.get("Type") == "HttpApi"]
    api = ref(api_events[0].get("ApiId")) if api_events else None
    subs = [v["Fn::Sub"] for v in values if isinstance(v, dict) and isinstance(v.get("Fn::Sub"), str)]
    if not any(s.startswith("https://") and f"${{{api}}}" in s and s.endswith(WEBHOOK_PATH) for s in subs):
        problems.append(f"no output gives the webhook URL (https://${{{api}}}...{WEBHOOK_PATH})")
    return problems


def _resource_text(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return None


def statement_problems(where: str, statement: dict) -> list[str]:
    if statement.get("Effect") != "Allow":
        return []
    problems = []
    for key in ("NotAction", "NotResource"):
        if key in statement:
            problems.append(f"{where}: {key} grants everything else")
    for action in _as_list(statement.get("Action", [])):
        if isinstance(action, str) and (action.strip() == "*" or action.strip().endswith(":*")):
            problems.append(f"{where}: action {action!r}")
    if "Principal" not in statement:  # trust policies have no Resource
        for resource in _as_list(statement.get("Resource")):
            text = _resource_text(resource)
            if resource is None or (text is not None and (text.strip() == "*" or text.rstrip().endswith(":*"))):
                problems.append(f"{where}: resource {resource!r}")
    return problems


def iam_problems(template: dict) -> list[str]:
    problems = []
    for path, key, value in walk(template):
        if key == "Statement":
            for index, statement in enumerate(_as_list(value)):
                if isinstance(statement, dict):
                    problems += statement_problems(f"{path}.Statement[{index}]", statement)
    for fn in (RECEIVER, SENDER):
        for policy in _as_list(props(template, fn).get("Policies", [])):
            if isinstance(policy, str):
                problems.append(f"{fn} attaches the managed policy {policy!r}; write a scoped statement instead")
    return problems


SECRET_PREFIXES = ("shpss_", "shpat_", "shpca_", "shppa_", "AKIA", "ASIA", "-----BEGIN", "sk_live_", "ghp_", "xox")
SECRET_NAME = re.compile(r"(?i)(token|secret|password|passwd|api_?key|credential|private_?key)")


def looks_like_secret(value) -> bool:
    if not isinstance(value, str):
        return False
    text = value.strip()
    if "{{resolve:secretsmanager:" in text or "{{resolve:ssm-secure:" in text:
        return True  # resolved at deploy time into the function's configuration, in plaintext
    if text.startswith(SECRET_PREFIXES):
        return True
    # Long random-looking strings: letters and digits, no spaces, dots or commas (not a name or URL).
    return bool(re.fullmatch(r"[A-Za-z0-9+/=_-]{20,}", text) and re.search(r"\d", text)
                and re.search(r"[A-Za-z]", text) and len(set(text)) >= 10)


def secret_problems(template: dict) -> list[str]:
    problems = []
    for name, parameter in template.get("Parameters", {}).items():
        if looks_like_secret(parameter.get("Default")):
            problems.append(f"parameter {name}'s default looks like a secret")
        if SECRET_NAME.search(name) and not name.endswith(("Name", "Arn")):
            problems.append(f"parameter {name} looks like it holds a secret; pass a Secrets Manager name instead")
    functions = {"Globals": global_function(template),
                 **{fn: r.get("Properties", {}) for fn, r in resources(template, "AWS::Serverless::Function").items()}}
    for fn, p in functions.items():
        for var, value in p.get("Environment", {}).get("Variables", {}).items():
            for _, _, inner in walk({"v": value}):
                if looks_like_secret(inner):
                    problems.append(f"{fn}: {var}'s value looks like a secret")
            if SECRET_NAME.search(var) and not var.endswith(("_NAME", "_ARN")):
                problems.append(f"{fn}: {var} looks like it holds a secret; pass a Secrets Manager name instead")
    return problems


CHECKS = {
    "handlers": handler_problems,
    "environment": environment_problems,
    "local_only": local_only_problems,
    "queue": queue_problems,
    "alarm": alarm_problems,
    "table": table_problems,
    "layers": layer_problems,
    "api": api_problems,
    "outputs": output_problems,
    "iam": iam_problems,
    "secrets": secret_problems,
}


@pytest.mark.parametrize("check", sorted(CHECKS))
def test_template(template, check):
    assert CHECKS[check](template) == []


# --------------------------------------------------------------------------------------------
# Each check can fail: one mistake per check, made on a copy of the template.


def _set(path: str, value):
    def mutate(t):
        *parents, last = path.split("/")
        node = t
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is _DELETE:
            del node[int(last) if isinstance(node, list) else last]
        else:
            node[int(last) if isinstance(node, list) else last] = value
    return mutate


_DELETE = object()
R = "Resources"
RECV_ENV = f"{R}/{RECEIVER}/Properties/Environment/Variables"
SEND_ENV = f"{R}/{SENDER}/Properties/Environment/Variables"
SEND_QUEUE_EVENT = f"{R}/{SENDER}/Properties/Events/Queue/Properties"

MISTAKES = [
    ("handlers", _set(f"{R}/{RECEIVER}/Properties/Handler", "app.handler"), "no callable 'handler'"),
    ("handlers", _set(f"{R}/{SENDER}/Properties/Handler", "main.lambda_handler"), "does not exist"),
    ("handlers", _set(f"{R}/{SENDER}/Properties/CodeUri", "functions/nowhere/"), "is not a directory"),
    ("handlers", _set("Globals/Function/Runtime", "python3.12"), "Runtime is 'python3.12'"),
    ("handlers", _set("Globals/Function/Architectures", ["x86_64"]), "Architectures"),
    ("environment", _set(f"{RECV_ENV}/SHOPIFY_CONTENT_ID", _DELETE), "does not set SHOPIFY_CONTENT_ID"),
    ("environment", _set(f"{SEND_ENV}/TIKTOK_API_BASE_URL", _DELETE), "does not set TIKTOK_API_BASE_URL"),
    ("environment", _set(f"{RECV_ENV}/EVENTS_QUEUE_URL", {"Ref": "DeadLetterQueue"}), "EVENTS_QUEUE_URL is not"),
    ("environment", _set(f"{SEND_ENV}/DEAD_LETTER_QUEUE_URL", {"Ref": "EventsQueue"}), "DEAD_LETTER_QUEUE_URL"),
    ("environment", _set(f"{RECV_ENV}/TIKTOK_PIXEL_ID", ""), "sets TIKTOK_PIXEL_ID to nothing"),
    ("local_only", _set(f"{SEND_ENV}/TIKTOK_ACCESS_TOKEN", "x"), "TIKTOK_ACCESS_TOKEN is for running outside"),
    ("local_only", _set("Globals/Function/Environment/Variables/SHOPIFY_WEBHOOK_SECRET", {"Ref": "X"}),
     "SHOPIFY_WEBHOOK_SECRET is for running outside"),
    ("queue", _set(f"{R}/EventsQueue/Properties/VisibilityTimeout", 359), "less than 6 x"),
    ("queue", _set(f"{R}/{SENDER}/Properties/Timeout", 61), "less than 6 x"),
    ("queue", _set(f"{SEND_QUEUE_EVENT}/FunctionResponseTypes", _DELETE), "ReportBatchItemFailures"),
    ("queue", _set(f"{SEND_QUEUE_EVENT}/MaximumBatchingWindowInSeconds", _DELETE), "MaximumBatchingWindow"),
    ("queue", _set(f"{R}/EventsQueue/Properties/RedrivePolicy", _DELETE), "does not target a dead-letter"),
    ("queue", _set(f"{R}/EventsQueue/Properties/RedrivePolicy/deadLetterTargetArn",
                   {"Fn::GetAtt": ["EventsQueue", "Arn"]}), "does not target a dead-letter"),
    ("queue", _set(f"{R}/DeadLetterQueue/Properties/MessageRetentionPeriod", 345600), "expire early"),
    ("queue", _set(f"{SEND_QUEUE_EVENT}/Queue", {"Fn::GetAtt": ["Nope", "Arn"]}), "does not read"),
    ("alarm", _set(f"{R}/DeadLetterAlarm/Properties/Dimensions/0/Value",
                   {"Fn::GetAtt": ["EventsQueue", "QueueName"]}), "no CloudWatch alarm on DeadLetterQueue"),
    ("alarm", _set(f"{R}/DeadLetterAlarm/Properties/Threshold", 5), "does not fire on the first"),
    ("alarm", _set(f"{R}/DeadLetterAlarm", _DELETE), "no CloudWatch alarm"),
    ("table", _set(f"{R}/IdempotencyTable/Properties/KeySchema/0/AttributeName", "pk"), "not id (HASH)"),
    ("table", _set(f"{R}/IdempotencyTable/Properties/TimeToLiveSpecification/AttributeName", "ttl"), "TTL"),
    ("table", _set(f"{RECV_ENV}/IDEMPOTENCY_TABLE", {"Ref": "EventsQueue"}), "does not name a DynamoDB"),
    ("table", _set(f"{R}/StateTable/Properties/TimeToLiveSpecification/Enabled", False), "TTL"),
    ("table", _set(f"{RECV_ENV}/STATE_TABLE", {"Ref": "DeadLetterQueue"}), "STATE_TABLE does not name"),
    ("layers", _set("Globals/Function/Layers", [{"Ref": LAYER}, {"Ref": POWERTOOLS_PARAMETER}]), "want Powertools"),
    ("layers", _set(f"{R}/{SENDER}/Properties/Layers", [{"Ref": LAYER}]), "want Powertools"),
    ("layers", _set(f"{R}/{LAYER}/Metadata/BuildMethod", "python3.12"), "BuildMethod"),
    ("layers", _set(f"{R}/{LAYER}/Properties/ContentUri", "layers/"), "ContentUri"),
    ("layers", _set(f"Parameters/{POWERTOOLS_PARAMETER}/Default",
                    "/aws/service/powertools/python/x86_64/python3.13/latest"), "SSM parameter"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/ShopifyWebhook/Properties/Path", "/webhooks"), "HttpApi route"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/ShopifyWebhook/Properties/PayloadFormatVersion", "1.0"),
     "payload format 2.0"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/ShopifyWebhook/Type", "Api"), "exactly one HttpApi"),
    ("outputs", _set("Outputs/DeadLetterQueueUrl", _DELETE), "dead-letter queue"),
    ("outputs", _set("Outputs/IdempotencyTableName", _DELETE), "idempotency table"),
    ("outputs", _set("Outputs/EventsQueueUrl", _DELETE), "the events queue"),
    ("outputs", _set("Outputs/ShopifyWebhookUrl/Value",
                     {"Fn::Sub": "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"}), "webhook URL"),
    ("iam", _set(f"{R}/{RECEIVER}/Properties/Policies/1/Statement/0/Action", "dynamodb:*"), "action 'dynamodb:*'"),
    ("iam", _set(f"{R}/{RECEIVER}/Properties/Policies/1/Statement/0/Resource", "*"), "resource '*'"),
    ("iam", _set(f"{R}/{SENDER}/Properties/Policies/1/Statement/0/Action", ["sqs:SendMessage", "*"]), "action '*'"),
    ("iam", _set(f"{R}/{SENDER}/Properties/Policies/1/Statement/0/Resource",
                 {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"}),
     "resource"),
    ("iam", _set(f"{R}/{SENDER}/Properties/Policies/0", "AmazonSQSFullAccess"), "managed policy"),
    ("secrets", _set("Parameters/TikTokAccessTokenSecretName/Default", "shpss_0123456789abcdef"), "default looks like"),
    ("secrets", _set(f"{SEND_ENV}/TIKTOK_API_VERSION", "{{resolve:secretsmanager:tiktok-token}}"), "looks like a secret"),
    ("secrets", _set(f"{RECV_ENV}/SHOPIFY_CURRENCY", "8f14e45fceea167a5a36dedd4bea2543"), "looks like a secret"),
    ("secrets", _set("Parameters/TikTokAccessToken", {"Type": "String", "NoEcho": True}), "holds a secret"),
    ("secrets", _set(f"{SEND_ENV}/TIKTOK_TOKEN", {"Ref": "X"}), "holds a secret"),
]


@pytest.mark.parametrize(("check", "mistake", "expected"), MISTAKES,
                         ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(MISTAKES)])
def test_each_check_catches_its_mistake(template, check, mistake, expected):
    mistake(template)
    problems = CHECKS[check](template)
    assert any(expected in problem for problem in problems), problems


def test_every_check_has_a_mistake():
    assert {check for check, _, _ in MISTAKES} == set(CHECKS)


@pytest.mark.parametrize("value", ["0123456789abcdef0123456789abcdef01234567", "shpat_abc", "AKIAIOSFODNN7EXAMPLE",
                                   "{{resolve:ssm-secure:/x}}", "dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEyMw=="])
def test_secret_looking_values(value):
    assert looks_like_secret(value)


@pytest.mark.parametrize("value", ["tiktok-relay/tiktok-access-token", "variant_id,product_id,sku", "v1.3", "",
                                   "https://business-api.tiktok.com/open_api", POWERTOOLS_SSM_PREFIX + "latest"])
def test_ordinary_values(value):
    assert not looks_like_secret(value)


# --------------------------------------------------------------------------------------------
# Every environment variable the code reads is declared (so the template cannot forget one).


def _is_environment(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id in ("env", "environ")) or (
        isinstance(node, ast.Attribute) and node.attr == "environ")


ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


def environment_reads(source: str) -> set[str]:
    """Names read through an environment mapping: env_value(env, "X"), require(env, "X", ...),
    _secret(env, "X", "Y"), env.get("X"), env["X"], os.environ[...] / .get, os.getenv("X")."""
    names = set()

    def constant(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "pop", "setdefault") and _is_environment(
                    func.value):
                candidates = node.args[:1]
            elif isinstance(func, ast.Attribute) and func.attr == "getenv":
                candidates = node.args[:1]
            elif node.args and _is_environment(node.args[0]):
                candidates = node.args[1:]
            else:
                continue
            names.update(c for c in map(constant, candidates) if c and ENV_NAME.match(c))
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            if (name := constant(node.slice)) and ENV_NAME.match(name):
                names.add(name)
    return names


def undeclared(names: set[str]) -> set[str]:
    declared = set(runtime.RECEIVER_ENVIRONMENT) | set(runtime.SENDER_ENVIRONMENT) | set(runtime.LOCAL_ONLY)
    return {name for name in names if name not in declared and not PLATFORM_ENV.match(name)}


def test_every_variable_the_code_reads_is_declared():
    read = set().union(*(environment_reads(path.read_text()) for path in ENV_SOURCES))
    assert undeclared(read) == set()
    # ...and the other way round: every declared variable is read, so the scan sees the reads.
    declared = set(runtime.RECEIVER_ENVIRONMENT) | set(runtime.SENDER_ENVIRONMENT) | set(runtime.LOCAL_ONLY)
    assert declared - read == set()


def test_the_environment_scan_finds_each_way_of_reading():
    source = """
import os
def f(env):
    a = env_value(env, "NEW_A")
    b = require(env, "NEW_B", "because")
    c = _secret(env, "NEW_C", "NEW_C_NAME")
    d = env.get("NEW_D") or os.environ["NEW_E"] or os.environ.get("NEW_F") or os.getenv("NEW_G")
    e = env["NEW_H"]
    x = other("NOT_ENV")
    return env_value(env, "TIKTOK_PIXEL_ID"), os.environ.get("POWERTOOLS_SERVICE_NAME")
"""
    found = environment_reads(source)
    new = {"NEW_A", "NEW_B", "NEW_C", "NEW_C_NAME", "NEW_D", "NEW_E", "NEW_F", "NEW_G", "NEW_H"}
    assert found == new | {"TIKTOK_PIXEL_ID", "POWERTOOLS_SERVICE_NAME"}
    assert undeclared(found) == new


# --------------------------------------------------------------------------------------------
# The webhook id: idempotency key and Logger correlation id read the header the HTTP API delivers.


def _events() -> list[tuple[str, dict]]:
    generated = [
        ("generated", shopify_event("orders/paid", b'{"id": 1}', "secret",
                                    webhook_id="b2c5e1a4-0000-4000-8000-00000000abcd")),
        ("generated-base64", shopify_event("carts/update", b'{"id": 2}', None, base64_body=True)),
    ]
    return generated + [(path.name, json.loads(path.read_text())) for path in EVENT_FILES]


EVENTS = _events()


def webhook_id_of(event: dict) -> str:
    [value] = [v for k, v in event["headers"].items() if k.lower() == WEBHOOK_ID_HEADER]
    return value


def test_the_key_path_names_the_lower_case_header():
    quoted = re.findall(r'"([^"]+)"', IDEMPOTENCY_KEY_PATH)
    assert quoted == [WEBHOOK_ID_HEADER] and WEBHOOK_ID_HEADER == WEBHOOK_ID_HEADER.lower()
    jmespath.compile(IDEMPOTENCY_KEY_PATH)
    # A REST API (v1) event keeps Shopify's spelling and would give no key: the HTTP API it is.
    assert jmespath.search(IDEMPOTENCY_KEY_PATH, {"headers": {"X-Shopify-Webhook-Id": "1"}}) is None


@pytest.mark.parametrize(("name", "event"), EVENTS, ids=[name for name, _ in EVENTS])
def test_the_idempotency_key_is_the_webhook_id(name, event):
    assert event.get("version") == "2.0", f"{name} is not an HTTP API (payload v2) event"
    assert all(key == key.lower() for key in event["headers"]), f"{name} has header names in capitals"
    assert jmespath.search(IDEMPOTENCY_KEY_PATH, event) == webhook_id_of(event)


@pytest.fixture(scope="module")
def receiver_module(_loaded_template):
    """The module whose lambda_handler the template's receiver entry point hands to Lambda."""
    path, attribute = handler_path(_loaded_template, RECEIVER)
    return sys.modules[getattr(import_handler_module(path), attribute).__module__]


@pytest.mark.parametrize("fn", [RECEIVER, SENDER])
def test_the_entry_points_hand_lambda_the_packaged_handlers(_loaded_template, fn):
    """functions/*/app.py only re-export: Lambda runs the very code `replay`, `serve` and the
    installed package run (tiktok_relay.handlers)."""
    path, attribute = handler_path(_loaded_template, fn)
    handler = getattr(import_handler_module(path), attribute)
    module = sys.modules[handler.__module__]
    assert module.__name__ == f"tiktok_relay.handlers.{'receiver' if fn == RECEIVER else 'sender'}"
    assert Path(module.__file__).is_relative_to(PACKAGE)
    assert len(path.read_text().splitlines()) < 15, f"{path} holds more than an entry point"


@pytest.mark.parametrize(("name", "event"), EVENTS, ids=[name for name, _ in EVENTS])
def test_the_receiver_logs_the_webhook_id_as_correlation_id(receiver_module, monkeypatch, name, event):
    from aws_lambda_powertools.metrics.provider import cold_start

    from tiktok_relay.local.lambda_context import FakeLambdaContext

    seen = []

    class Recorder:  # stands in for the resolver: what is the correlation id while handling?
        def resolve(self, event, context):
            seen.append(receiver_module.logger.get_correlation_id())
            return {"statusCode": 200, "body": ""}

    monkeypatch.setattr(receiver_module, "app", Recorder())
    was_cold = cold_start.is_cold_start
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "No application metrics to publish"
            receiver_module.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
    finally:
        cold_start.is_cold_start = was_cold
        receiver_module.logger.set_correlation_id(None)
    assert seen == [webhook_id_of(event)]


# --------------------------------------------------------------------------------------------
# What SAM generates (samtranslator, offline): IAM roles and the SQS event source mapping.


@pytest.fixture(scope="module")
def transformed(_loaded_template) -> dict:
    from samtranslator.translator.transform import transform

    class NoManagedPolicyLookups:  # the template names no managed policy; never ask IAM
        def load(self):
            return {}

    template = copy.deepcopy(_loaded_template)
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://offline-check/code.zip"
    parameters = {"TikTokPixelId": "CTESTPIXEL", POWERTOOLS_PARAMETER: "arn:aws:lambda:us-east-1:017000801446:layer:x:1"}
    return transform(template, parameters, NoManagedPolicyLookups())


def _generated_role(transformed: dict, fn: str) -> dict:
    role = getatt(transformed["Resources"][fn]["Properties"]["Role"])
    return transformed["Resources"][role[0]]["Properties"]


def test_generated_roles_grant_no_wildcards(transformed):
    problems = []
    for name, role in resources(transformed, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for index, statement in enumerate(_as_list(policy["PolicyDocument"]["Statement"])):
                problems += statement_problems(f"{name}/{policy['PolicyName']}[{index}]", statement)
        problems += [f"{name}: managed policy {arn}" for arn in role["Properties"].get("ManagedPolicyArns", [])
                     if arn not in ALLOWED_MANAGED_POLICIES]
    assert problems == []
    assert set(resources(transformed, "AWS::IAM::Role")) == {f"{RECEIVER}Role", f"{SENDER}Role"}


def _allowed(role: dict) -> list[tuple[str, object]]:
    return [(action, statement.get("Resource")) for policy in role.get("Policies", [])
            for statement in _as_list(policy["PolicyDocument"]["Statement"])
            for action in _as_list(statement["Action"])]


def _queue_of(resource) -> str | None:
    """The queue in SAM's SQSSendMessagePolicy resource (a Sub over GetAtt Queue.QueueName)."""
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), list):
        target = getatt(resource["Fn::Sub"][1].get("queueName"))
        return target[0] if target else None
    return None


def test_generated_roles_are_least_privilege(transformed):
    receiver, sender = _generated_role(transformed, RECEIVER), _generated_role(transformed, SENDER)
    assert {a for a, _ in _allowed(receiver)} == {
        "sqs:SendMessage*", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "secretsmanager:GetSecretValue"}
    assert {a for a, _ in _allowed(sender)} == {"sqs:SendMessage*", "secretsmanager:GetSecretValue"}
    # Each sends to its own queue only; each reads its own secret only.
    assert {_queue_of(r) for a, r in _allowed(receiver) if a.startswith("sqs:")} == {"EventsQueue"}
    assert {_queue_of(r) for a, r in _allowed(sender) if a.startswith("sqs:")} == {"DeadLetterQueue"}
    assert {r["Fn::Sub"].rsplit(":secret:", 1)[1] for a, r in _allowed(receiver) if a.startswith("secretsmanager")} \
        == {"${ShopifyWebhookSecretName}-??????"}
    assert {r["Fn::Sub"].rsplit(":secret:", 1)[1] for a, r in _allowed(sender) if a.startswith("secretsmanager")} \
        == {"${TikTokAccessTokenSecretName}-??????"}
    assert {getatt(r) for a, r in _allowed(receiver) if a.startswith("dynamodb:")} == {
        ("IdempotencyTable", "Arn"), ("StateTable", "Arn")}
    # The state table is read and written, never updated or deleted.
    assert {a for a, r in _allowed(receiver) if getatt(r) == ("StateTable", "Arn")} == {
        "dynamodb:GetItem", "dynamodb:PutItem"}
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" not in receiver["ManagedPolicyArns"]


def test_generated_event_source_mapping(transformed):
    [mapping] = resources(transformed, "AWS::Lambda::EventSourceMapping").values()
    p = mapping["Properties"]
    assert ref(p["FunctionName"]) == SENDER
    assert getatt(p["EventSourceArn"]) == ("EventsQueue", "Arn")
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= p["BatchSize"] <= 10 or p.get("MaximumBatchingWindowInSeconds", 0) >= 1


def test_generated_functions_keep_the_layer_order(transformed):
    layer = next(name for name in resources(transformed, "AWS::Lambda::LayerVersion") if name.startswith(LAYER))
    for fn in (RECEIVER, SENDER):
        assert transformed["Resources"][fn]["Properties"]["Layers"] == [{"Ref": POWERTOOLS_PARAMETER}, {"Ref": layer}]


# --------------------------------------------------------------------------------------------
# The built layer (.aws-sam/build, from `sam build`; `make test` builds before running pytest).

needs_build = pytest.mark.skipif(not BUILD.is_dir(), reason="no .aws-sam/build: run `make infra` (sam build) first")
REQUIRED_IN_LAYER = {"tiktok_relay", "phonenumbers", "urllib3"}
# The Powertools layer and the Lambda runtime provide these; shipping them again wastes the budget
# (and a second pydantic_core built for the wrong platform would break the import).
FORBIDDEN_IN_LAYER = {"aws_lambda_powertools", "pydantic", "pydantic_core", "boto3", "botocore", "aws_xray_sdk",
                      "jmespath", "typing_extensions", "s3transfer", "dateutil"}
ELF_MACHINE_AARCH64 = 183


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def layer_report(layer_python: Path) -> tuple[int, list[tuple[str, int]]]:
    entries = sorted(((p.name, _size(p)) for p in layer_python.iterdir()), key=lambda e: -e[1])
    return sum(size for _, size in entries), entries


@needs_build
def test_built_layer_fits_the_budget_and_holds_only_our_packages():
    python = BUILD / LAYER / "python"
    assert (python / "tiktok_relay" / "__init__.py").is_file(), "the layer must be python/tiktok_relay/..."
    assert not (python / "python").exists(), "python/python/: ContentUri should be the package's parent"
    total, entries = layer_report(python)
    print(f"\n{LAYER} (unzipped): {total / 1024 / 1024:.2f} MiB")
    for name, size in entries:
        print(f"  {size / 1024:9.0f} KiB  {name}")
    assert total <= LAYER_BUDGET_BYTES, f"{total} bytes > {LAYER_BUDGET_BYTES}"
    packages = {name for name, _ in entries if not name.endswith((".dist-info", ".txt", ".pth"))}
    assert REQUIRED_IN_LAYER <= packages
    assert packages & FORBIDDEN_IN_LAYER == set()
    assert packages == REQUIRED_IN_LAYER, f"unexpected in the layer: {sorted(packages - REQUIRED_IN_LAYER)}"
    assert not list(python.rglob("__pycache__")), "bytecode in the built layer"


@needs_build
def test_built_layer_matches_its_requirements_and_architecture():
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    python = BUILD / LAYER / "python"
    built = {}
    for info in python.glob("*.dist-info"):
        name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
        built[canonicalize_name(name)] = version
    lines = (ROOT / "layers" / "tiktok_relay" / "requirements.txt").read_text().splitlines()
    for requirement in (Requirement(line) for line in lines if line.strip() and not line.startswith("#")):
        name = canonicalize_name(requirement.name)
        assert name in built, f"{name} is not in the built layer"
        assert requirement.specifier.contains(built[name], prereleases=True), (name, built[name])
    for library in python.rglob("*.so*"):
        header = library.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and struct.unpack("<H", header[18:20])[0] == ELF_MACHINE_AARCH64, (
            f"{library} is not an arm64 (aarch64) library")


def find_python313() -> str | None:
    """Like the Makefile's FIND_PYTHON313: PATH first, then pyenv's versions/3.13.*, newest first."""
    candidates = [Path(d) / "python3.13" for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        pyenv_root = found.stdout.strip() or pyenv_root
    versions = sorted(Path(pyenv_root).glob("versions/3.13*/bin/python3.13"), reverse=True,
                      key=lambda p: [int(x) if x.isdigit() else -1 for x in re.split(r"\D+", p.parents[1].name) if x])
    for candidate in candidates + versions:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            probe = subprocess.run([str(candidate), "-c", "import sys, pip; sys.exit(sys.version_info[:2] != (3, 13))"],
                                   capture_output=True, check=False)
            if probe.returncode == 0:
                return str(candidate)
    return None


def powertools_layer_stand_in(python313: str) -> Path:
    """What Lambda puts next to our layer: the public Powertools layer (aws-lambda-powertools[all],
    same version as the tests use) and the runtime's boto3. Installed once for this host's
    Python 3.13 (our layer is pure Python, so arm64 or not makes no difference to the import)."""
    powertools, boto3 = importlib.metadata.version("aws-lambda-powertools"), importlib.metadata.version("boto3")
    target = ROOT / ".aws-sam" / "lambda-stand-in" / f"py313-powertools-{powertools}-boto3-{boto3}"
    if not (target / ".complete").is_file():
        scratch = target.with_name(target.name + f".tmp-{os.getpid()}")
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run([python313, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--root-user-action=ignore", "--target", str(scratch),
                        f"aws-lambda-powertools[all]=={powertools}", f"boto3=={boto3}"],
                       check=True, timeout=900)
        (scratch / ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
    return target


IMPORT_CHECK = r"""
import importlib, importlib.util, json, os, pkgutil, sys
layer, handlers = sys.argv[1], json.loads(sys.argv[2])
loaded, handler_files = {}, {}
for fn, (path, attribute) in handlers.items():
    spec = importlib.util.spec_from_file_location("handler_" + fn, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loaded[fn] = callable(getattr(module, attribute, None))
    handler_files[fn] = sys.modules[getattr(module, attribute).__module__].__file__
# What the first invocation builds, from an environment like the template's.
from tiktok_relay.pipeline import runtime
env = {"TIKTOK_PIXEL_ID": "CPIXEL", "EVENTS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q",
       "IDEMPOTENCY_TABLE": "t", "STATE_TABLE": "c", "SHOPIFY_WEBHOOK_SECRET_NAME": "s", "TIKTOK_ACCESS_TOKEN_SECRET_NAME": "s2",
       "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/dlq"}
built = [type(runtime.build_receiver(env)).__name__, type(runtime.build_sender(env)).__name__]
tooling = sorted(m for m in sys.modules if m.split(".")[:2] in (["tiktok_relay", "local"], ["tiktok_relay", "testing"],
                                                                 ["tiktok_relay", "cli"]))
import tiktok_relay
skipped = {"tiktok_relay.__main__", "tiktok_relay.testing.pytest_plugin"}  # CLI entry; needs pytest
modules = [m.name for m in pkgutil.walk_packages(tiktok_relay.__path__, "tiktok_relay.") if m.name not in skipped]
for name in modules:
    importlib.import_module(name)
import phonenumbers, pydantic, urllib3, aws_lambda_powertools
files = {m: sys.modules[m].__file__ for m in ("tiktok_relay", "phonenumbers", "urllib3", "pydantic",
                                              "aws_lambda_powertools", "tiktok_relay.pipeline.runtime",
                                              "tiktok_relay.sources.shopify.mapping")}
print(json.dumps({"modules": modules, "handlers": loaded, "handler_files": handler_files, "files": files, "version": list(sys.version_info[:2]),
                  "built": built, "tooling": tooling,
                  "phonenumbers": phonenumbers.format_number(phonenumbers.parse("+442083661177"),
                                                             phonenumbers.PhoneNumberFormat.E164)}))
"""


@needs_build
def test_built_layer_imports_as_lambda_would(tmp_path):
    python313 = find_python313()
    assert python313, "no python3.13 (needed by sam build too): install one, e.g. pyenv install 3.13"
    stand_in = powertools_layer_stand_in(python313)
    built = load_template(BUILD / "template.yaml")
    handlers = {}
    for fn in (RECEIVER, SENDER):
        path, attribute = handler_path(built, fn, root=BUILD)
        handlers[fn] = (str(path), attribute)
    layer = BUILD / LAYER / "python"
    # -S: no site-packages (Lambda's /opt/python is on PYTHONPATH, not a site dir); -B and
    # PYTHONDONTWRITEBYTECODE: leave the build as sam made it. Our layer first: on Lambda it is
    # extracted last, over the Powertools layer.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(layer), str(stand_in)]), "AWS_DEFAULT_REGION": "us-east-1",
           "POWERTOOLS_SERVICE_NAME": "tiktok-relay", "POWERTOOLS_METRICS_NAMESPACE": "TikTokRelay",
           "POWERTOOLS_TRACE_DISABLED": "1"}
    done = subprocess.run([python313, "-S", "-B", "-c", IMPORT_CHECK, str(layer), json.dumps(handlers)],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"] == [3, 13]
    assert result["handlers"] == {RECEIVER: True, SENDER: True}
    # The entry points hand Lambda the handler modules of the layer (what replay and serve run too).
    for fn, name in ((RECEIVER, "receiver.py"), (SENDER, "sender.py")):
        assert Path(result["handler_files"][fn]) == layer / "tiktok_relay" / "handlers" / name
    # Loading both handlers and building the receiver and sender loads no local tool or fake.
    assert result["built"] == ["Receiver", "QueueSender"]
    assert result["tooling"] == []
    assert {"tiktok_relay.pipeline.runtime", "tiktok_relay.pipeline.receive", "tiktok_relay.pipeline.send",
            "tiktok_relay.pipeline.aws", "tiktok_relay.sources.shopify.mapping", "tiktok_relay.sources.shopify.receiver",
            "tiktok_relay.tiktok.client"} <= set(result["modules"])
    for name in ("tiktok_relay", "phonenumbers", "urllib3", "tiktok_relay.pipeline.runtime",
                 "tiktok_relay.sources.shopify.mapping"):
        assert Path(result["files"][name]).is_relative_to(layer), (name, result["files"][name])
    for name in ("pydantic", "aws_lambda_powertools"):
        assert Path(result["files"][name]).is_relative_to(stand_in), (name, result["files"][name])
    assert result["phonenumbers"] == "+442083661177"
    assert not list(layer.rglob("__pycache__"))
