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
import contextlib
import copy
import dataclasses
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
from tiktok_relay.local.apigw import shopify_event
from tiktok_relay.pipeline import runtime
from tiktok_relay.pipeline.receive import IDEMPOTENCY_KEY_PATH
from tiktok_relay.sources.routes import WEBHOOK_PATHS
from tiktok_relay.sources.shopify.receiver import WEBHOOK_ID_HEADER

TEMPLATE = ROOT / "template.yaml"
PACKAGE = ROOT / "layers" / "tiktok_relay" / "tiktok_relay"
EVENT_FILES = sorted((ROOT / "events" / "shopify").glob("*.json"))
BUILD = ROOT / ".aws-sam" / "build"

RECEIVER, SENDER, LAYER = "ReceiverFunction", "SenderFunction", "RelayLayer"
EVENTBRIDGE = "EventBridgeFunction"  # the EventBridge intake: exists when ShopifyEventSourceName is set
RECONCILE = "ReconcileFunction"
FUNCTIONS = (RECEIVER, SENDER, EVENTBRIDGE, RECONCILE)
# Each function's module in the package (functions/*/app.py re-export its lambda_handler).
HANDLER_MODULES = {RECEIVER: "receiver", SENDER: "sender", EVENTBRIDGE: "eventbridge", RECONCILE: "reconcile"}
RUNTIME, ARCHITECTURE = "python3.13", "arm64"
POWERTOOLS_PARAMETER = "PowertoolsLayerArn"
POWERTOOLS_SSM_PREFIX = f"/aws/service/powertools/python/{ARCHITECTURE}/{RUNTIME}/"
# The Powertools release the tests run against: the template's layer pin must be the same one.
POWERTOOLS_VERSION = importlib.metadata.version("aws-lambda-powertools")
LAYER_BUDGET_BYTES = 10 * 1024 * 1024
# Every environment variable the deployed code reads is read in one of these files.
ENV_SOURCES = [
    PACKAGE / "pipeline" / "runtime.py",
    PACKAGE / "config.py",
    PACKAGE / "sources" / "shopify" / "settings.py",
    PACKAGE / "sources" / "woocommerce" / "settings.py",
    PACKAGE / "sources" / "stripe" / "settings.py",
    PACKAGE / "pipeline" / "aws.py",
    PACKAGE / "pipeline" / "receive.py",
    PACKAGE / "pipeline" / "send.py",
    PACKAGE / "pipeline" / "tenants.py",
    PACKAGE / "handlers" / "__init__.py",
    PACKAGE / "handlers" / "intake.py",
    PACKAGE / "handlers" / "receiver.py",
    PACKAGE / "handlers" / "sender.py",
    PACKAGE / "handlers" / "eventbridge.py",
    PACKAGE / "handlers" / "reconcile.py",
    PACKAGE / "pipeline" / "reconcile.py",
    PACKAGE / "sources" / "shopify" / "register.py",
    ROOT / "functions" / "receiver" / "app.py",
    ROOT / "functions" / "sender" / "app.py",
    ROOT / "functions" / "eventbridge" / "app.py",
    ROOT / "functions" / "reconcile" / "app.py",
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
    if set(functions) != set(FUNCTIONS):
        problems.append(f"expected the functions {', '.join(FUNCTIONS)}, found {sorted(functions)}")
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
    for fn, needed in ((RECEIVER, runtime.RECEIVER_ENVIRONMENT), (SENDER, runtime.SENDER_ENVIRONMENT),
                       (EVENTBRIDGE, runtime.EVENTBRIDGE_ENVIRONMENT), (RECONCILE, runtime.RECONCILE_ENVIRONMENT)):
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
              (RECEIVER, "IDEMPOTENCY_TABLE", idempotency_table(template)), (EVENTBRIDGE, "EVENTS_QUEUE_URL", queue),
              (EVENTBRIDGE, "IDEMPOTENCY_TABLE", idempotency_table(template)),
              (EVENTBRIDGE, "STATE_TABLE", ref(fn_environment(template, RECEIVER).get("STATE_TABLE"))),
              (SENDER, "LEDGER_TABLE", "LedgerTable"),
              (RECONCILE, "LEDGER_TABLE", "LedgerTable"), (RECONCILE, "EVENTS_QUEUE_URL", queue))
    for fn, name, resource in wiring:
        if resource is None or ref(fn_environment(template, fn).get(name)) != resource:
            problems.append(f"{fn}'s {name} is not !Ref {resource}")
    return problems


# Receiver/sender variables that may legitimately be blank (their parameters default to "").
OPTIONAL_ENVIRONMENT = ("TIKTOK_TEST_EVENT_CODE", "TIKTOK_PHONE_REGION", "SHOPIFY_TOPIC_EVENTS",
                        "TIKTOK_OFFLINE_EVENT_SET_ID", "SHOPIFY_SOURCE_CHANNELS", "SHOPIFY_STOREFRONT_DOMAIN",
                        "SHOPIFY_SHOP")


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


ALARM_TOPIC = "AlarmTopic"
# What the receiver answers itself (so Lambda's Errors metric never counts it) and must page.
PAGED_REASONS = ("misconfigured", "internal_error", "unavailable")


def _metric_stats(alarm: dict) -> list[dict]:
    """The metrics an alarm reads: its own (Namespace, MetricName, Dimensions, Period) or those
    of its metric math, as dicts with the dimensions as a {name: value} map."""
    p = alarm.get("Properties", {})
    stats = []
    if "MetricName" in p:
        stats.append({"Namespace": p.get("Namespace"), "MetricName": p.get("MetricName"), "Period": p.get("Period"),
                      "Dimensions": {d.get("Name"): d.get("Value") for d in p.get("Dimensions", [])}})
    for query in p.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            metric = stat.get("Metric", {})
            stats.append({"Namespace": metric.get("Namespace"), "MetricName": metric.get("MetricName"),
                          "Period": stat.get("Period"),
                          "Dimensions": {d.get("Name"): d.get("Value") for d in metric.get("Dimensions", [])}})
    return stats


def _fires_on_one(alarm: dict) -> bool:
    p = alarm.get("Properties", {})
    return (p.get("ComparisonOperator") == "GreaterThanThreshold" and p.get("Threshold") == 0) or (
        p.get("ComparisonOperator") == "GreaterThanOrEqualToThreshold" and p.get("Threshold") == 1)


def _watching(template: dict, **wanted) -> list[str]:
    """The alarms reading a metric whose fields (and dimensions, a dict) are all `wanted`."""
    found = []
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        for stat in _metric_stats(alarm):
            dims = wanted.get("Dimensions")
            if all(stat.get(k) == v for k, v in wanted.items() if k != "Dimensions") and (
                    dims is None or stat["Dimensions"] == dims):
                found.append(name)
    return found


def alarm_problems(template: dict) -> list[str]:
    """Someone is paged: an SNS topic always exists (the email subscription is optional), every
    alarm notifies it, and the alarms cover the dead-letter queue, the receiver's own 5xx
    answers (its EMF metric: Lambda's Errors metric stays 0 for a returned 500), both functions'
    errors and throttles, and webhooks that arrive while nothing is enqueued."""
    problems = []
    topic = resources(template, "AWS::SNS::Topic").get(ALARM_TOPIC)
    if topic is None or "Condition" in topic:
        problems.append(f"no unconditional AWS::SNS::Topic {ALARM_TOPIC}: alarms would notify nobody")
    for name, sub in resources(template, "AWS::SNS::Subscription").items():
        if ref(sub.get("Properties", {}).get("TopicArn")) == ALARM_TOPIC and "Condition" not in sub:
            problems.append(f"{name} subscribes unconditionally: the email must stay optional")
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        p = alarm.get("Properties", {})
        if p.get("AlarmActions") != [{"Ref": ALARM_TOPIC}]:
            problems.append(f"{name}'s AlarmActions are {p.get('AlarmActions')!r}, not [!Ref {ALARM_TOPIC}]")
        if name in SHARE_ALARMS:  # a share under a threshold, not a count of failures (reconcile_problems)
            continue
        if not _fires_on_one(alarm):
            problems.append(f"{name} does not fire on the first occurrence")
        if p.get("TreatMissingData") != "notBreaching":
            problems.append(f"{name} must treat missing data as not breaching (no traffic is not an outage)")
    dlq = dead_letter_queue(template)
    if not _watching(template, Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
                     Dimensions={"QueueName": {"Fn::GetAtt": [dlq, "QueueName"]}}):
        problems.append(f"no CloudWatch alarm on {dlq}'s ApproximateNumberOfMessagesVisible")
    env = global_function(template).get("Environment", {}).get("Variables", {})
    namespace, service = env.get("POWERTOOLS_METRICS_NAMESPACE"), env.get("POWERTOOLS_SERVICE_NAME")
    for reason in PAGED_REASONS:
        if not _watching(template, Namespace=namespace, MetricName="WebhooksFailed",
                         Dimensions={"reason": reason, "service": service}):
            problems.append(f"no alarm on the receiver's {reason} answers (WebhooksFailed, reason {reason})")
    for fn in (RECEIVER, SENDER):  # the reconcile function's errors: reconcile_problems
        for metric in ("Errors", "Throttles"):
            if not _watching(template, Namespace="AWS/Lambda", MetricName=metric,
                             Dimensions={"FunctionName": {"Ref": fn}}):
                problems.append(f"no alarm on {fn}'s {metric}")
    quiet = set(_watching(template, Namespace=namespace, MetricName="WebhooksReceived",
                          Dimensions={"service": service}, Period={"Ref": "NoEventsAlarmPeriod"}))
    quiet &= set(_watching(template, Namespace=namespace, MetricName="EventsEnqueued",
                           Dimensions={"service": service}, Period={"Ref": "NoEventsAlarmPeriod"}))
    if not quiet:
        problems.append("no alarm on webhooks arriving while no events are enqueued (over NoEventsAlarmPeriod)")
    return problems


SHARE_ALARMS = ("WebOrdersDeliveredAlarm",)


def reconcile_problems(template: dict) -> list[str]:
    """The scheduled reconcile (README "Reconciliation"): EventBridge Scheduler at the interval
    parameter, off while no shop is set; runs that never overlap and are not retried by Lambda;
    the ledger read, never written; the Admin API token a secret; the share alarm at the
    threshold parameter; an alarm when a run fails or a shop cannot be checked."""
    problems = []
    events = [e for e in props(template, RECONCILE).get("Events", {}).values() if e.get("Type") == "ScheduleV2"]
    if len(events) != 1:
        return [f"{RECONCILE} has no ScheduleV2 event (EventBridge Scheduler)"]
    schedule = events[0]["Properties"]
    if schedule.get("ScheduleExpression") != {"Fn::Sub": "rate(${ReconcileIntervalMinutes} minutes)"}:
        problems.append(f"the schedule's rate is {schedule.get('ScheduleExpression')!r}, not the interval parameter")
    if schedule.get("State") != {"Fn::If": ["ReconcileEnabled", "ENABLED", "DISABLED"]}:
        problems.append("the schedule is not off while ShopifyShop is empty")
    intervals = template["Parameters"]["ReconcileIntervalMinutes"]["AllowedValues"]
    timeout = fn_property(template, RECONCILE, "Timeout")
    if not isinstance(timeout, int) or timeout >= min(intervals) * 60 or timeout > 900:
        problems.append(f"{RECONCILE}'s Timeout {timeout!r} must stay under the shortest interval: runs would overlap")
    if props(template, RECONCILE).get("EventInvokeConfig", {}).get("MaximumRetryAttempts") != 0:
        problems.append(f"{RECONCILE} is retried by Lambda: the next scheduled run is the retry")
    statements = [statement for policy in _as_list(props(template, RECONCILE).get("Policies", []))
                  if isinstance(policy, dict) for statement in _as_list(policy.get("Statement", []))]
    arn = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${%s}-??????"
    tokens = {"Fn::If": ["HasTenants", {"Fn::Sub": arn % TENANTS_PARAMETER},
                         {"Fn::Sub": arn % "ShopifyAdminAccessTokenSecretName"}]}
    actions = [(action, getatt(st.get("Resource")) or st.get("Resource")) for st in statements
               for action in _as_list(st["Action"])]
    if actions != [("dynamodb:BatchGetItem", ("LedgerTable", "Arn")), ("secretsmanager:GetSecretValue", tokens)]:
        problems.append(f"{RECONCILE} may do {sorted(map(str, actions))}: the ledger read and its token (or the "
                        "tenants document), nothing more")
    if template.get("Conditions", {}).get("ReconcileEnabled") != {"Fn::Or": [
            {"Fn::Not": [{"Fn::Equals": [{"Ref": "ShopifyShop"}, ""]}]}, {"Condition": "HasTenants"}]}:
        problems.append("the schedule is not on with ShopifyShop or a tenants document")
    share = props(template, "WebOrdersDeliveredAlarm") if "WebOrdersDeliveredAlarm" in resources(template) else {}
    expected = {"Namespace": "TikTokRelay", "MetricName": "WebOrdersDeliveredPercent", "Statistic": "Minimum",
                "Threshold": {"Ref": "ReconcileAlarmThreshold"}, "ComparisonOperator": "LessThanThreshold",
                "Dimensions": [{"Name": "service", "Value": "tiktok-relay"}], "TreatMissingData": "ignore"}
    if {k: share.get(k) for k in expected} != expected:
        problems.append("WebOrdersDeliveredAlarm does not fire on the minimum delivered share under the threshold")
    env = global_function(template).get("Environment", {}).get("Variables", {})
    if not _watching(template, Namespace=env.get("POWERTOOLS_METRICS_NAMESPACE"), MetricName="ReconcileFailures",
                     Dimensions={"service": env.get("POWERTOOLS_SERVICE_NAME")}):
        problems.append("no alarm on shops the reconcile could not check (ReconcileFailures)")
    if not _watching(template, Namespace="AWS/Lambda", MetricName="Errors", Dimensions={"FunctionName": {"Ref": RECONCILE}}):
        problems.append(f"no alarm on {RECONCILE}'s Errors")
    return problems


# What the dashboard must show (besides the dead-letter queue's depth and every match key).
DASHBOARD_METRICS = ("WebhooksReceived", "EventsEnqueued", "EventsSent", "EventsDeadLettered",
                     "WebOrdersDeliveredPercent")
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def dashboard_body(template: dict) -> tuple[dict | None, set[str]]:
    """The one dashboard's body, parsed, with each ${...} of its Fn::Sub left as it is; and the
    names those variables use (resources, their attributes, pseudo parameters)."""
    dashboards = resources(template, "AWS::CloudWatch::Dashboard")
    if len(dashboards) != 1:
        return None, set()
    [dashboard] = dashboards.values()
    body = dashboard.get("Properties", {}).get("DashboardBody")
    text = body.get("Fn::Sub") if isinstance(body, dict) else body
    if not isinstance(text, str):
        return None, set()
    try:
        return json.loads(text), set(_SUB_VARIABLE.findall(text))
    except ValueError:
        return None, set()


def dashboard_metrics(body: dict) -> tuple[list[dict], dict[str, str]]:
    """The metrics the dashboard's widgets read, as {Namespace, MetricName, Dimensions, Id}, and
    its metric math expressions by id."""
    metrics, expressions = [], {}
    for widget in body.get("widgets", []):
        for entry in widget.get("properties", {}).get("metrics", []):
            options = entry[-1] if entry and isinstance(entry[-1], dict) else {}
            if "expression" in options:
                expressions[options.get("id")] = options["expression"]
                continue
            fields = entry[:-1] if options else entry
            metrics.append({"Namespace": fields[0], "MetricName": fields[1], "Id": options.get("id"),
                            "Dimensions": dict(zip(fields[2::2], fields[3::2], strict=True))})
    return metrics, expressions


def expected_emq_expression(ids: dict[str, str], enqueued: str) -> str:
    """The estimate as tiktok/matching.py computes it (its weights sum to its scale, 10)."""
    from tiktok_relay.tiktok.matching import EMQ_SCALE, EMQ_WEIGHTS, MATCH_KEYS

    assert sum(EMQ_WEIGHTS.values()) == EMQ_SCALE
    return "(" + " + ".join(f"{EMQ_WEIGHTS[key]:g}*FILL({ids[key]},0)" for key in MATCH_KEYS) + f")/{enqueued}"


def dashboard_problems(template: dict) -> list[str]:
    """One dashboard shows webhooks received, events queued, sent and dead-lettered, the
    dead-letter queue's depth, the reconcile's delivered share of paid web orders, and each match
    key: its count, its coverage (EventsWith<Key> / EventsEnqueued) and the estimated Event Match
    Quality with tiktok/matching.py's weights."""
    from tiktok_relay.handlers import match_key_metric
    from tiktok_relay.tiktok.matching import MATCH_KEYS

    body, variables = dashboard_body(template)
    if body is None:
        return ["no single AWS::CloudWatch::Dashboard whose DashboardBody is JSON (in a !Sub)"]
    known = set(template.get("Resources", {})) | {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"}
    problems = [f"the dashboard names ${{{v}}}, which is no resource of this template" for v in sorted(variables)
                if v.split(".")[0] not in known]
    metrics, expressions = dashboard_metrics(body)
    env = global_function(template).get("Environment", {}).get("Variables", {})
    ours = {"Namespace": env.get("POWERTOOLS_METRICS_NAMESPACE"), "Dimensions": {"service": env.get("POWERTOOLS_SERVICE_NAME")}}

    def reading(name: str, **wanted) -> list[dict]:
        return [m for m in metrics if m["MetricName"] == name and all(m[k] == v for k, v in {**ours, **wanted}.items())]

    for name in (*DASHBOARD_METRICS, *(match_key_metric(key) for key in MATCH_KEYS)):
        if not reading(name):
            problems.append(f"the dashboard does not show {name} (namespace and service of the functions)")
    dlq = dead_letter_queue(template)
    if not [m for m in metrics if m["Namespace"] == "AWS/SQS" and m["MetricName"] == "ApproximateNumberOfMessagesVisible"
            and m["Dimensions"] == {"QueueName": f"${{{dlq}.QueueName}}"}]:
        problems.append(f"the dashboard does not show {dlq}'s depth (ApproximateNumberOfMessagesVisible)")
    ids = {key: next((m["Id"] for m in reading(match_key_metric(key)) if m["Id"]), None) for key in MATCH_KEYS}
    enqueued = next((m["Id"] for m in reading("EventsEnqueued") if m["Id"]), None)
    if None in ids.values() or enqueued is None:
        return [*problems, "the dashboard's coverage needs an id on EventsEnqueued and on every EventsWith<Key>"]
    for key in MATCH_KEYS:
        if f"100*FILL({ids[key]},0)/{enqueued}" not in expressions.values():
            problems.append(f"the dashboard shows no coverage of {key} (100*FILL({ids[key]},0)/{enqueued})")
    if expected_emq_expression(ids, enqueued) not in expressions.values():
        problems.append("the dashboard's estimated Event Match Quality is not tiktok/matching.py's weighted average "
                        f"{expected_emq_expression(ids, enqueued)}")
    return problems


def concurrency_problems(template: dict) -> list[str]:
    """The sender's SQS event source caps its concurrency (TikTok's QPS), and the receiver is
    guarded: a route throttle always, reserved concurrency when the parameter asks for it."""
    problems = []
    event = sqs_event(template, SENDER) or {}
    maximum = (event.get("ScalingConfig") or {}).get("MaximumConcurrency")
    parameter = template.get("Parameters", {}).get(ref(maximum) or "", {})
    if not parameter or parameter.get("MinValue", 0) < 2 or parameter.get("Default", 0) < 2:
        problems.append(f"{SENDER}'s SQS event has no ScalingConfig.MaximumConcurrency from a parameter (>= 2)")
    reserved = props(template, RECEIVER).get("ReservedConcurrentExecutions")
    if reserved != {"Fn::If": ["HasReservedConcurrency", {"Ref": "ReceiverReservedConcurrency"},
                               {"Ref": "AWS::NoValue"}]}:
        problems.append(f"{RECEIVER}'s ReservedConcurrentExecutions is not the optional ReceiverReservedConcurrency")
    api = next(iter(resources(template, "AWS::Serverless::HttpApi").values()), {})
    settings = api.get("Properties", {}).get("DefaultRouteSettings", {})
    if ref(settings.get("ThrottlingRateLimit")) != "WebhookRateLimit" or ref(
            settings.get("ThrottlingBurstLimit")) != "WebhookBurstLimit":
        problems.append("the webhook route has no throttle from WebhookRateLimit / WebhookBurstLimit")
    access = api.get("Properties", {}).get("AccessLogSettings", {})
    target = getatt(access.get("DestinationArn"))
    if not target or target[0] not in resources(template, "AWS::Logs::LogGroup") or "$context.status" not in str(
            access.get("Format")):
        problems.append("the HTTP API writes no access log (AccessLogSettings to a log group, with the status)")
    elif "header" in str(access.get("Format")).lower():
        problems.append("the access log format includes headers, which are unsigned and may be huge")
    return problems


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
    for fn in FUNCTIONS:
        if fn_layers(template, fn) != expected:
            problems.append(f"{fn}'s layers are {fn_layers(template, fn)!r}: want Powertools, then {LAYER}")
    parameter = template.get("Parameters", {}).get(POWERTOOLS_PARAMETER, {})
    if parameter.get("Type") != "AWS::SSM::Parameter::Value<String>" or not str(
            parameter.get("Default", "")).startswith(POWERTOOLS_SSM_PREFIX):
        problems.append(f"{POWERTOOLS_PARAMETER} must be an SSM parameter under {POWERTOOLS_SSM_PREFIX}")
    elif parameter.get("Default") != POWERTOOLS_SSM_PREFIX + POWERTOOLS_VERSION:
        problems.append(f"{POWERTOOLS_PARAMETER} is not pinned to {POWERTOOLS_VERSION}, the Powertools release "
                        f"the tests run against (got {parameter.get('Default')!r})")
    layer = resources(template, "AWS::Serverless::LayerVersion").get(LAYER)
    if layer is None:
        return problems + [f"no AWS::Serverless::LayerVersion {LAYER}"]
    p, metadata = layer.get("Properties", {}), layer.get("Metadata", {})
    content = ROOT / str(p.get("ContentUri"))
    if not (content / "tiktok_relay" / "__init__.py").is_file() or not (content / "requirements.txt").is_file():
        problems.append(f"{LAYER}'s ContentUri {p.get('ContentUri')!r} is not the tiktok_relay package directory")
    # layers/tiktok_relay/Makefile: the requirements for arm64 and the package, with their bytecode.
    makefile = content / "Makefile"
    if metadata.get("BuildMethod") != "makefile" or metadata.get("BuildArchitecture") != ARCHITECTURE:
        problems.append(f"{LAYER} must be built with BuildMethod makefile for {ARCHITECTURE} (its Makefile)")
    elif not makefile.is_file() or f"build-{LAYER}:" not in makefile.read_text():
        problems.append(f"{LAYER}'s ContentUri has no Makefile with a build-{LAYER} target")
    if RUNTIME not in p.get("CompatibleRuntimes", []) or ARCHITECTURE not in p.get("CompatibleArchitectures", []):
        problems.append(f"{LAYER} is not declared compatible with {RUNTIME}/{ARCHITECTURE}")
    return problems


def api_problems(template: dict) -> list[str]:
    """The receiver is behind an HTTP API (payload v2: lower-case header names), one POST route
    per store platform (tiktok_relay.sources.routes.WEBHOOK_PATHS), all on one API."""
    events = [e.get("Properties", {}) for e in props(template, RECEIVER).get("Events", {}).values()
              if e.get("Type") == "HttpApi"]
    routes = sorted(f"{str(e.get('Method', '')).upper()} {e.get('Path')}" for e in events)
    wanted = sorted(f"POST {path}" for path in WEBHOOK_PATHS.values())
    problems = []
    if routes != wanted:
        problems.append(f"the HttpApi routes are {routes}, not one POST per platform: {wanted}")
    for event in events:
        if str(event.get("PayloadFormatVersion", "2.0")) != "2.0":
            problems.append("the HttpApi event must use payload format 2.0 (the code expects lower-case headers)")
        api = ref(event.get("ApiId"))
        if api not in resources(template, "AWS::Serverless::HttpApi"):
            problems.append(f"the HttpApi event's ApiId is not an AWS::Serverless::HttpApi of this template: {api!r}")
    if len({ref(event.get("ApiId")) for event in events}) > 1:
        problems.append("the HttpApi routes are on several APIs: one API, one throttle and one access log")
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
    for path in WEBHOOK_PATHS.values():
        if not any(s.startswith("https://") and f"${{{api}}}" in s and s.endswith(path) for s in subs):
            problems.append(f"no output gives the webhook URL (https://${{{api}}}...{path})")
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
    for fn in FUNCTIONS:
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


EVENT_SOURCE_PARAMETER, TENANTS_PARAMETER = "ShopifyEventSourceName", "TenantsSecretName"
# What the rule must match (README "Shopify through EventBridge"): Shopify's partner sources, its webhooks.
SHOPIFY_PATTERN = {"source": [{"prefix": "aws.partner/shopify.com"}], "detail-type": ["shopifyWebhook"]}


def _eventbridge_rule(template: dict) -> dict | None:
    for event in props(template, EVENTBRIDGE).get("Events", {}).values():
        if event.get("Type") == "EventBridgeRule":
            return event.get("Properties", {})
    return None


def eventbridge_problems(template: dict) -> list[str]:
    """The EventBridge intake exists only when ShopifyEventSourceName is set; its rule is on that
    partner event bus and matches Shopify's webhooks only; its target retries with a policy of
    its own, and what is never taken lands in a dead-letter queue of its own (the function's
    own failures too), which EventBridge may write to and an alarm watches."""
    problems = []
    fn = template.get("Resources", {}).get(EVENTBRIDGE, {})
    condition = template.get("Conditions", {}).get(fn.get("Condition", ""))
    if condition != {"Fn::Not": [{"Fn::Equals": [{"Ref": EVENT_SOURCE_PARAMETER}, ""]}]}:
        problems.append(f"{EVENTBRIDGE} does not exist only when {EVENT_SOURCE_PARAMETER} is set")
    if template.get("Parameters", {}).get(EVENT_SOURCE_PARAMETER, {}).get("Default") != "":
        problems.append(f"{EVENT_SOURCE_PARAMETER} must default to empty (HTTPS delivery only)")
    rule = _eventbridge_rule(template)
    if rule is None:
        return [*problems, f"{EVENTBRIDGE} has no EventBridgeRule event"]
    if ref(rule.get("EventBusName")) != EVENT_SOURCE_PARAMETER:
        problems.append(f"the rule is not on the partner event bus {EVENT_SOURCE_PARAMETER} names")
    if rule.get("Pattern") != SHOPIFY_PATTERN:
        problems.append(f"the rule's pattern is {rule.get('Pattern')!r}, not {SHOPIFY_PATTERN!r}")
    retry = rule.get("RetryPolicy") or {}
    if not (isinstance(retry.get("MaximumRetryAttempts"), int) and retry["MaximumRetryAttempts"] >= 1
            and isinstance(retry.get("MaximumEventAgeInSeconds"), int)):
        problems.append("the rule's target has no RetryPolicy of its own")
    dlq = getatt((rule.get("DeadLetterConfig") or {}).get("Arn"))
    queue = dlq[0] if dlq and dlq[1] == "Arn" else None
    if queue not in resources(template, "AWS::SQS::Queue") or queue in (events_queue(template),
                                                                        dead_letter_queue(template)):
        return [*problems, "the rule's target has no dead-letter queue of its own"]
    on_failure = (fn_property(template, EVENTBRIDGE, "EventInvokeConfig", {}).get("DestinationConfig") or {}).get(
        "OnFailure") or {}
    if on_failure.get("Type") != "SQS" or getatt(on_failure.get("Destination")) != (queue, "Arn"):
        problems.append(f"what {EVENTBRIDGE} fails to take does not go to {queue} (EventInvokeConfig OnFailure)")
    writers = [p for p in resources(template, "AWS::SQS::QueuePolicy").values()
               if {"Ref": queue} in p.get("Properties", {}).get("Queues", [])
               and any(st.get("Principal") == {"Service": "events.amazonaws.com"} and "aws:SourceArn" in json.dumps(st)
                       for st in _as_list(p["Properties"]["PolicyDocument"]["Statement"]))]
    if not writers:
        problems.append(f"no queue policy lets the rule (events.amazonaws.com, by source ARN) write to {queue}")
    if not _watching(template, Namespace="AWS/SQS", MetricName="ApproximateNumberOfMessagesVisible",
                     Dimensions={"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}):
        problems.append(f"no CloudWatch alarm on {queue}'s ApproximateNumberOfMessagesVisible")
    return problems


def tenants_problems(template: dict) -> list[str]:
    """TenantsSecretName is optional and reaches every function; the pixel may be left out
    only with it (a deploy-time rule says so)."""
    problems = []
    parameters = template.get("Parameters", {})
    if parameters.get(TENANTS_PARAMETER, {}).get("Default") != "":
        problems.append(f"{TENANTS_PARAMETER} must default to empty (one shop)")
    for fn in FUNCTIONS:
        if ref(fn_environment(template, fn).get("TENANTS_SECRET_NAME")) != TENANTS_PARAMETER:
            problems.append(f"{fn}'s TENANTS_SECRET_NAME is not !Ref {TENANTS_PARAMETER}")
    rules = [r for r in template.get("Rules", {}).values()
             if r.get("RuleCondition") == {"Fn::Equals": [{"Ref": TENANTS_PARAMETER}, ""]}
             and {"Fn::Not": [{"Fn::Equals": [{"Ref": "TikTokPixelId"}, ""]}]} in [a.get("Assert") for a in
                                                                               r.get("Assertions", [])]]
    if not rules:
        problems.append(f"no rule requires TikTokPixelId when {TENANTS_PARAMETER} is empty")
    return problems


CHECKS = {
    "handlers": handler_problems,
    "environment": environment_problems,
    "local_only": local_only_problems,
    "queue": queue_problems,
    "alarm": alarm_problems,
    "concurrency": concurrency_problems,
    "table": table_problems,
    "layers": layer_problems,
    "api": api_problems,
    "outputs": output_problems,
    "iam": iam_problems,
    "secrets": secret_problems,
    "eventbridge": eventbridge_problems,
    "tenants": tenants_problems,
    "reconcile": reconcile_problems,
    "dashboard": dashboard_problems,
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


def _sub_in(path: str, old: str, new: str):
    """Replace `old` (which must be there) with `new` in the Fn::Sub string of Resources/`path`."""
    def mutate(t):
        *parents, last = path.split("/")
        node = t["Resources"]
        for part in parents:
            node = node[part]
        text = node[last]["Fn::Sub"]
        assert old in text, old
        node[last] = {"Fn::Sub": text.replace(old, new)}
    return mutate


_DELETE = object()
R = "Resources"
RECV_ENV = f"{R}/{RECEIVER}/Properties/Environment/Variables"
SEND_ENV = f"{R}/{SENDER}/Properties/Environment/Variables"
SEND_QUEUE_EVENT = f"{R}/{SENDER}/Properties/Events/Queue/Properties"
EB_ENV = f"{R}/{EVENTBRIDGE}/Properties/Environment/Variables"
EB_RULE = f"{R}/{EVENTBRIDGE}/Properties/Events/ShopifyWebhooks/Properties"
RECONCILE_EVENT = f"{R}/{RECONCILE}/Properties/Events/Schedule/Properties"

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
    ("alarm", _set(f"{R}/AlarmTopic/Condition", "HasAlarmEmail"), "no unconditional AWS::SNS::Topic"),
    ("alarm", _set(f"{R}/AlarmEmailSubscription/Condition", _DELETE), "must stay optional"),
    ("alarm", _set(f"{R}/SenderErrorsAlarm/Properties/AlarmActions",
                   {"Fn::If": ["HasAlarmEmail", [{"Ref": "AlarmTopic"}], {"Ref": "AWS::NoValue"}]}), "AlarmActions"),
    ("alarm", _set(f"{R}/ReceiverFailingAlarm/Properties/Metrics/3", _DELETE), "unavailable answers"),
    ("alarm", _set(f"{R}/ReceiverFailingAlarm/Properties/Metrics/1/MetricStat/Metric/Dimensions/1/Value",
                   "webhook-relay"), "misconfigured answers"),
    ("alarm", _set(f"{R}/ReceiverErrorsAlarm", _DELETE), f"no alarm on {RECEIVER}'s Errors"),
    ("alarm", _set(f"{R}/SenderErrorsAlarm/Properties/Metrics/2", _DELETE), f"no alarm on {SENDER}'s Throttles"),
    ("alarm", _set(f"{R}/NoEventsEnqueuedAlarm/Properties/Metrics/2/MetricStat/Period", 300), "while no events"),
    ("alarm", _set(f"{R}/ReceiverFailingAlarm/Properties/TreatMissingData", "breaching"), "missing data"),
    ("concurrency", _set(f"{SEND_QUEUE_EVENT}/ScalingConfig", _DELETE), "MaximumConcurrency"),
    ("concurrency", _set(f"{R}/{RECEIVER}/Properties/ReservedConcurrentExecutions", _DELETE), "Reserved"),
    ("concurrency", _set(f"{R}/WebhookApi/Properties/DefaultRouteSettings", _DELETE), "throttle"),
    ("concurrency", _set(f"{R}/WebhookApi/Properties/AccessLogSettings", _DELETE), "access log"),
    ("concurrency", _set(f"{R}/WebhookApi/Properties/AccessLogSettings/Format",
                         '{"status":"$context.status","ua":"$request.header.user-agent"}'), "headers"),
    ("table", _set(f"{R}/IdempotencyTable/Properties/KeySchema/0/AttributeName", "pk"), "not id (HASH)"),
    ("table", _set(f"{R}/IdempotencyTable/Properties/TimeToLiveSpecification/AttributeName", "ttl"), "TTL"),
    ("table", _set(f"{RECV_ENV}/IDEMPOTENCY_TABLE", {"Ref": "EventsQueue"}), "does not name a DynamoDB"),
    ("table", _set(f"{R}/StateTable/Properties/TimeToLiveSpecification/Enabled", False), "TTL"),
    ("table", _set(f"{RECV_ENV}/STATE_TABLE", {"Ref": "DeadLetterQueue"}), "STATE_TABLE does not name"),
    ("reconcile", _set(f"{RECONCILE_EVENT}/ScheduleExpression", "rate(1 hour)"), "not the interval parameter"),
    ("reconcile", _set(f"{RECONCILE_EVENT}/State", "ENABLED"), "not off while ShopifyShop is empty"),
    ("reconcile", _set(f"{R}/{RECONCILE}/Properties/Timeout", 900), "runs would overlap"),
    ("reconcile", _set(f"{R}/{RECONCILE}/Properties/EventInvokeConfig", _DELETE), "retried by Lambda"),
    ("reconcile", _set(f"{R}/{RECONCILE}/Properties/Policies/1/Statement/0/Action", "dynamodb:BatchWriteItem"),
     "the ledger read and its token"),
    ("reconcile", _set(f"{R}/WebOrdersDeliveredAlarm/Properties/Threshold", 90), "under the threshold"),
    ("reconcile", _set(f"{R}/WebOrdersDeliveredAlarm/Properties/Statistic", "Average"), "under the threshold"),
    ("reconcile", _set(f"{R}/ReconcileFailingAlarm/Properties/Metrics/1", _DELETE), "ReconcileFailures"),
    ("reconcile", _set(f"{R}/ReconcileFailingAlarm/Properties/Metrics/2", _DELETE), f"{RECONCILE}'s Errors"),
    ("environment", _set(f"{R}/{RECONCILE}/Properties/Environment/Variables/LEDGER_TABLE", {"Ref": "StateTable"}),
     "LEDGER_TABLE is not !Ref LedgerTable"),
    ("layers", _set("Globals/Function/Layers", [{"Ref": LAYER}, {"Ref": POWERTOOLS_PARAMETER}]), "want Powertools"),
    ("layers", _set(f"{R}/{SENDER}/Properties/Layers", [{"Ref": LAYER}]), "want Powertools"),
    ("layers", _set(f"{R}/{LAYER}/Metadata/BuildMethod", "python3.13"), "BuildMethod makefile"),
    ("layers", _set(f"{R}/{LAYER}/Properties/ContentUri", "layers/"), "ContentUri"),
    ("layers", _set(f"Parameters/{POWERTOOLS_PARAMETER}/Default",
                    "/aws/service/powertools/python/x86_64/python3.13/latest"), "SSM parameter"),
    ("layers", _set(f"Parameters/{POWERTOOLS_PARAMETER}/Default", POWERTOOLS_SSM_PREFIX + "latest"), "not pinned"),
    ("layers", _set(f"Parameters/{POWERTOOLS_PARAMETER}/Default", POWERTOOLS_SSM_PREFIX + "3.10.0"), "not pinned"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/ShopifyWebhook/Properties/Path", "/webhooks"), "HttpApi route"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/ShopifyWebhook/Properties/PayloadFormatVersion", "1.0"),
     "payload format 2.0"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/ShopifyWebhook/Type", "Api"), "one POST per platform"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/StripeWebhook", _DELETE), "one POST per platform"),
    ("api", _set(f"{R}/{RECEIVER}/Properties/Events/WooCommerceWebhook/Properties/ApiId", {"Ref": "OtherApi"}),
     "not an AWS::Serverless::HttpApi"),
    ("outputs", _set("Outputs/DeadLetterQueueUrl", _DELETE), "dead-letter queue"),
    ("outputs", _set("Outputs/IdempotencyTableName", _DELETE), "idempotency table"),
    ("outputs", _set("Outputs/EventsQueueUrl", _DELETE), "the events queue"),
    ("outputs", _set("Outputs/ShopifyWebhookUrl/Value",
                     {"Fn::Sub": "https://${WebhookApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"}), "webhook URL"),
    ("outputs", _set("Outputs/StripeWebhookUrl", _DELETE), "/webhooks/stripe"),
    ("iam", _set(f"{R}/{RECEIVER}/Properties/Policies/1/Statement/0/Action", "dynamodb:*"), "action 'dynamodb:*'"),
    ("iam", _set(f"{R}/{RECEIVER}/Properties/Policies/1/Statement/0/Resource", "*"), "resource '*'"),
    ("iam", _set(f"{R}/{SENDER}/Properties/Policies/2/Statement/0/Action", ["sqs:SendMessage", "*"]), "action '*'"),
    ("iam", _set(f"{R}/{SENDER}/Properties/Policies/2/Statement/0/Resource",
                 {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:*"}),
     "resource"),
    ("iam", _set(f"{R}/{SENDER}/Properties/Policies/0", "AmazonSQSFullAccess"), "managed policy"),
    ("dashboard", _set(f"{R}/Dashboard", _DELETE), "no single AWS::CloudWatch::Dashboard"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", '"EventsSent"', '"EventsDelivered"'), "show EventsSent"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", '"WebOrdersDeliveredPercent"', '"WebOrdersShare"'),
     "show WebOrdersDeliveredPercent"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", '"EventsWithTtp", "service", "tiktok-relay"',
                          '"EventsWithTtp", "service", "relay"'), "show EventsWithTtp"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", "${DeadLetterQueue.QueueName}",
                          "${EventsQueue.QueueName}"), "DeadLetterQueue's depth"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", "1.5*FILL(ttp,0)", "2*FILL(ttp,0)"),
     "estimated Event Match Quality"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", "100*FILL(phone,0)/enqueued", "FILL(phone,0)"),
     "no coverage of phone"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", "${EventsQueue.QueueName}", "${OldQueue.QueueName}"),
     "${OldQueue.QueueName}, which is no resource"),
    ("dashboard", _sub_in("Dashboard/Properties/DashboardBody", '"widgets": [', '"widgets": [['),
     "whose DashboardBody is JSON"),
    ("secrets", _set("Parameters/TikTokAccessTokenSecretName/Default", "shpss_0123456789abcdef"), "default looks like"),
    ("secrets", _set(f"{SEND_ENV}/TIKTOK_API_VERSION", "{{resolve:secretsmanager:tiktok-token}}"), "looks like a secret"),
    ("secrets", _set(f"{RECV_ENV}/SHOPIFY_CURRENCY", "8f14e45fceea167a5a36dedd4bea2543"), "looks like a secret"),
    ("secrets", _set("Parameters/TikTokAccessToken", {"Type": "String", "NoEcho": True}), "holds a secret"),
    ("secrets", _set(f"{SEND_ENV}/TIKTOK_TOKEN", {"Ref": "X"}), "holds a secret"),
    ("handlers", _set(f"{R}/{EVENTBRIDGE}/Properties/Handler", "app.handler"), "no callable 'handler'"),
    ("environment", _set(f"{EB_ENV}/STATE_TABLE", {"Ref": "IdempotencyTable"}), "STATE_TABLE is not"),
    ("environment", _set(f"{EB_ENV}/SHOPIFY_CONSENT", _DELETE), "does not set SHOPIFY_CONSENT"),
    ("eventbridge", _set(f"{R}/{EVENTBRIDGE}/Condition", _DELETE), "only when"),
    ("eventbridge", _set(f"{EB_RULE}/EventBusName", "default"), "partner event bus"),
    ("eventbridge", _set(f"{EB_RULE}/Pattern/source", [{"prefix": "aws.partner/"}]), "pattern"),
    ("eventbridge", _set(f"{EB_RULE}/Pattern/detail-type", _DELETE), "pattern"),
    ("eventbridge", _set(f"{EB_RULE}/RetryPolicy", _DELETE), "RetryPolicy"),
    ("eventbridge", _set(f"{EB_RULE}/DeadLetterConfig/Arn", {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}), "of its own"),
    ("eventbridge", _set(f"{R}/{EVENTBRIDGE}/Properties/EventInvokeConfig/DestinationConfig", _DELETE), "OnFailure"),
    ("eventbridge", _set(f"{R}/EventBridgeDeadLetterQueuePolicy", _DELETE), "queue policy"),
    ("eventbridge", _set(f"{R}/EventBridgeDeadLetterAlarm", _DELETE), "alarm"),
    ("tenants", _set(f"Parameters/{TENANTS_PARAMETER}/Default", "tiktok-relay/tenants"), "default to empty"),
    ("tenants", _set(f"{EB_ENV}/TENANTS_SECRET_NAME", _DELETE), "TENANTS_SECRET_NAME"),
    ("tenants", _set("Rules", _DELETE), "requires TikTokPixelId"),
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
    declared = set(runtime.RECEIVER_ENVIRONMENT) | set(runtime.SENDER_ENVIRONMENT) | set(runtime.RECONCILE_ENVIRONMENT) \
        | set(runtime.LOCAL_ONLY)
    return {name for name in names if name not in declared and not PLATFORM_ENV.match(name)}


def test_every_variable_the_code_reads_is_declared():
    read = set().union(*(environment_reads(path.read_text()) for path in ENV_SOURCES))
    assert undeclared(read) == set()
    # ...and the other way round: every declared variable is read, so the scan sees the reads.
    declared = set(runtime.RECEIVER_ENVIRONMENT) | set(runtime.SENDER_ENVIRONMENT) | set(runtime.RECONCILE_ENVIRONMENT) \
        | set(runtime.LOCAL_ONLY)
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
# Deduplication and the Logger's correlation id: keyed on what the signature covers, and set
# only once it checked out (the webhook id header is not signed).


def _events() -> list[tuple[str, dict]]:
    from tiktok_relay.local.harness import LOCAL_WEBHOOK_SECRET

    generated = [
        ("generated", shopify_event("orders/paid", b'{"id": 1}', LOCAL_WEBHOOK_SECRET,
                                    webhook_id="b2c5e1a4-0000-4000-8000-00000000abcd")),
        ("generated-base64", shopify_event("carts/update", b'{"id": 2}', LOCAL_WEBHOOK_SECRET, base64_body=True)),
    ]
    return generated + [(path.name, json.loads(path.read_text())) for path in EVENT_FILES]


EVENTS = _events()
UNSIGNED = {"negative_bad_signature.json"}  # every other event is signed with the local secret


def webhook_id_of(event: dict) -> str:
    [value] = [v for k, v in event["headers"].items() if k.lower() == WEBHOOK_ID_HEADER]
    return value


def _delivery(event: dict, **changes):
    from tiktok_relay.pipeline.ports import Delivery
    from tiktok_relay.pipeline.receive import raw_body_from_apigw

    headers = event["headers"]
    delivery = Delivery(webhook_id=webhook_id_of(event), topic=headers["x-shopify-topic"].lower(),
                        shop=headers["x-shopify-shop-domain"].lower(),
                        body=raw_body_from_apigw(event["body"], event["isBase64Encoded"]))
    return dataclasses.replace(delivery, **changes)


@pytest.mark.parametrize(("name", "event"), EVENTS, ids=[name for name, _ in EVENTS])
def test_the_idempotency_key_is_the_signed_topic_shop_and_body(name, event):
    from tiktok_relay.pipeline.receive import idempotency_data

    assert event.get("version") == "2.0", f"{name} is not an HTTP API (payload v2) event"
    jmespath.compile(IDEMPOTENCY_KEY_PATH)
    delivery = _delivery(event)

    def key(**changes) -> str:
        found = jmespath.search(IDEMPOTENCY_KEY_PATH, idempotency_data("shopify", _delivery(event, **changes)))
        assert isinstance(found, str) and re.fullmatch(r"[0-9a-f]{64}", found)
        return found

    # A fresh (unsigned) webhook id is the same delivery; another topic, shop or body is not.
    assert key() == key(webhook_id=str(uuid.uuid4())) == key(webhook_id="x" * 128)
    assert len({key(), key(topic="carts/update" if delivery.topic != "carts/update" else "orders/paid"),
                key(shop="another-shop.myshopify.com"), key(body=delivery.body + b" ")}) == 4


@pytest.fixture
def receiver_module(_loaded_template):
    """The module whose lambda_handler the template's receiver entry point hands to Lambda."""
    path, attribute = handler_path(_loaded_template, RECEIVER)
    return sys.modules[getattr(import_handler_module(path), attribute).__module__]


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_the_entry_points_hand_lambda_the_packaged_handlers(_loaded_template, fn):
    """functions/*/app.py only re-export: Lambda runs the very code `replay`, `serve` and the
    installed package run (tiktok_relay.handlers)."""
    path, attribute = handler_path(_loaded_template, fn)
    handler = getattr(import_handler_module(path), attribute)
    module = sys.modules[handler.__module__]
    assert module.__name__ == f"tiktok_relay.handlers.{HANDLER_MODULES[fn]}"
    assert Path(module.__file__).is_relative_to(PACKAGE)
    assert len(path.read_text().splitlines()) < 15, f"{path} holds more than an entry point"


@pytest.mark.parametrize(("name", "event"), EVENTS, ids=[name for name, _ in EVENTS])
def test_the_correlation_id_is_the_webhook_id_only_once_the_signature_checks_out(receiver_module, name, event):
    import io

    from aws_lambda_powertools.metrics.provider import cold_start

    from tiktok_relay.local.harness import LOCAL_WEBHOOK_SECRET
    from tiktok_relay.local.lambda_context import FakeLambdaContext
    from tiktok_relay.local.memory import MemoryIdempotencyStore, MemoryQueue
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    source = ShopifySource(secrets=StaticSecret(LOCAL_WEBHOOK_SECRET), settings=ShopifySettings(), pixel_id="CPIXEL")
    runtime.install(receiver=Receiver(source=source, queue=MemoryQueue(), idempotency_store=MemoryIdempotencyStore()))
    handler = receiver_module.logger.registered_handler
    stream, handler.stream = handler.stream, io.StringIO()
    was_cold = cold_start.is_cold_start
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "No application metrics to publish"
            receiver_module.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
        correlation_id = receiver_module.logger.get_correlation_id()
        lines = [json.loads(line) for line in handler.stream.getvalue().splitlines() if line.startswith("{")]
    finally:
        handler.stream = stream
        cold_start.is_cold_start = was_cold
        receiver_module.logger.set_correlation_id(None)
        runtime.install()
    headers = event["headers"]
    if name in UNSIGNED:
        # Refused before verification: no header value anywhere, only lengths and short hashes.
        assert correlation_id is None
        [line] = [line for line in lines if line.get("message") == "delivery not accepted"]
        assert line["status"] == 401 and "correlation_id" not in line and "shop" not in line
        assert set(line["unverified_headers"]) == {WEBHOOK_ID_HEADER, "x-shopify-topic", "x-shopify-shop-domain"}
        assert all(re.fullmatch(r"[0-9]+ chars, sha256 [0-9a-f]{8}", v) for v in line["unverified_headers"].values())
        text = json.dumps(lines)
        for header in (WEBHOOK_ID_HEADER, "x-shopify-topic", "x-shopify-shop-domain"):
            assert headers[header] not in text
    else:
        assert correlation_id == webhook_id_of(event)
        assert lines and all(line.get("correlation_id") == webhook_id_of(event) for line in lines if "level" in line)
        assert all(line.get("shop") == headers["x-shopify-shop-domain"] for line in lines if "level" in line)


def test_the_powertools_pin_is_the_release_the_tests_run_against(template):
    import tomllib

    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    [pin] = [line for line in dev if line.replace(" ", "").startswith("aws-lambda-powertools==")]
    assert pin.split("==")[1] == POWERTOOLS_VERSION
    assert template["Parameters"][POWERTOOLS_PARAMETER]["Default"] == POWERTOOLS_SSM_PREFIX + POWERTOOLS_VERSION


BASE_URLS = {
    "https://business-api.tiktok.com/open_api": True,
    "https://proxy.example.com/tiktok": True,
    "http://127.0.0.1:8765/open_api": True,
    "http://localhost:8765/open_api": True,
    "http://localhost": True,
    "http://[::1]:9000/open_api": True,
    "http://business-api.tiktok.com/open_api": False,
    "http://localhost.attacker.example/open_api": False,
    "http://127.0.0.1.nip.io/open_api": False,
    "ftp://business-api.tiktok.com/": False,
    "business-api.tiktok.com/open_api": False,
}


@pytest.mark.parametrize(("url", "allowed"), BASE_URLS.items())
def test_the_api_base_url_is_https_except_a_local_test_double(template, url, allowed):
    from tiktok_relay.config import base_url_from_env
    from tiktok_relay.errors import ConfigurationError

    pattern = template["Parameters"]["TikTokApiBaseUrl"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, url)) is allowed  # CloudFormation matches the whole value
    try:  # the library applies the same rule to TIKTOK_API_BASE_URL
        base_url_from_env({"TIKTOK_API_BASE_URL": url}, "https://unused.example")
        accepted = True
    except ConfigurationError:
        accepted = False
    assert accepted is allowed


@pytest.mark.parametrize(("pixel", "valid"), [("CTESTPIXEL0000", True), ("C9", True), ("C123 456", False),
                                              ("C-123", False), ("Cé123", False)])
def test_the_pixel_parameter_takes_what_the_library_takes_or_nothing(template, pixel, valid):
    """Empty is allowed (a tenants document gives each shop its pixel; a deploy-time rule asks for
    it otherwise); any other value must be a pixel code as config.check_pixel_id reads one."""
    from tiktok_relay.config import check_pixel_id
    from tiktok_relay.errors import ConfigurationError

    pattern = template["Parameters"]["TikTokPixelId"]["AllowedPattern"]
    assert re.fullmatch(pattern, "")
    try:
        check_pixel_id(pixel, "TIKTOK_PIXEL_ID")
        accepted = True
    except ConfigurationError:
        accepted = False
    assert accepted is valid and bool(re.fullmatch(pattern, pixel)) is valid


def test_the_receiver_alarms_read_the_metrics_the_receiver_writes(template, receiver_module, monkeypatch):
    """The alarms on the receiver's own answers read EMF metrics: their names, namespace and
    dimension names must be exactly what the handler writes (an alarm on a dimension set nobody
    writes stays silent forever). The handler is run for each paged reason and a queued delivery."""
    import io

    from tiktok_relay.local.harness import LOCAL_WEBHOOK_SECRET
    from tiktok_relay.local.lambda_context import FakeLambdaContext
    from tiktok_relay.local.memory import MemoryIdempotencyStore, MemoryQueue
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    class BrokenQueue(MemoryQueue):
        def send(self, body, attributes):
            raise RuntimeError("a bug")

    down = MemoryQueue()
    down.available = False
    queues = {"queued": MemoryQueue(), "unavailable": down, "internal_error": BrokenQueue()}
    written: dict[str, set] = {}
    event = json.loads((ROOT / "events" / "shopify" / "orders_paid.json").read_text())
    monkeypatch.setattr(receiver_module.metrics, "namespace", "TikTokRelayTemplateCheck")
    for case in (*queues, "misconfigured"):
        secret = "" if case == "misconfigured" else LOCAL_WEBHOOK_SECRET  # no secret: misconfigured
        source = ShopifySource(secrets=StaticSecret(secret), settings=ShopifySettings(), pixel_id="CPIXEL")
        runtime.install(receiver=Receiver(source=source, queue=queues.get(case, MemoryQueue()),
                                          idempotency_store=MemoryIdempotencyStore()))
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            receiver_module.lambda_handler(event, FakeLambdaContext(function_name="receiver"))
        for line in out.getvalue().splitlines():
            document = json.loads(line) if line.startswith("{") else {}
            for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
                for metric in directive["Metrics"]:
                    for dimensions in directive["Dimensions"]:
                        key = metric["Name"] if metric["Name"] != "WebhooksFailed" else f"WebhooksFailed:{document['reason']}"
                        written.setdefault(key, set()).add(tuple(sorted(dimensions)))
    runtime.install()
    for reason in PAGED_REASONS:
        assert written[f"WebhooksFailed:{reason}"] == {("reason", "service")}, written
    assert written["WebhooksReceived"] == written["EventsEnqueued"] == {("service",)}
    read = {(stat["MetricName"], tuple(sorted(stat["Dimensions"]))) for alarm in
            resources(template, "AWS::CloudWatch::Alarm").values() for stat in _metric_stats(alarm)
            if stat["Namespace"] == global_function(template)["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
            and stat["MetricName"] not in RECONCILE_METRICS}
    assert read == {("WebhooksFailed", ("reason", "service")), ("WebhooksReceived", ("service",)),
                    ("EventsEnqueued", ("service",))}


# The reconcile function's, checked against what it writes in tests/integration/test_reconcile_function.py.
RECONCILE_METRICS = ("WebOrdersDeliveredPercent", "ReconcileFailures")


def _emf_metrics(run) -> set[tuple[str, tuple[str, ...]]]:
    """(name, dimension names) of every EMF metric printed while `run()` runs."""
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()
    written = set()
    for line in out.getvalue().splitlines():
        document = json.loads(line) if line.startswith("{") else {}
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            written |= {(m["Name"], tuple(sorted(d))) for m in directive["Metrics"] for d in directive["Dimensions"]}
    return written


def test_the_dashboard_reads_the_metrics_the_functions_write(template, receiver_module, monkeypatch):
    """Every metric of the functions' namespace the dashboard reads is one the handlers write,
    with exactly its dimensions: the receiver is run for a queued order, the sender for a batch
    holding one unreadable message (dead-lettered; no TikTok needed)."""
    from tiktok_relay.handlers import sender as sender_module
    from tiktok_relay.local.harness import LOCAL_WEBHOOK_SECRET
    from tiktok_relay.local.lambda_context import FakeLambdaContext
    from tiktok_relay.local.memory import MemoryDeadLetters, MemoryIdempotencyStore, MemoryQueue
    from tiktok_relay.pipeline.receive import Receiver
    from tiktok_relay.pipeline.runtime import StaticSecret
    from tiktok_relay.pipeline.send import QueueSender
    from tiktok_relay.sources.shopify.receiver import ShopifySource
    from tiktok_relay.sources.shopify.settings import ShopifySettings

    def no_client():
        raise AssertionError("nothing is sent")

    source = ShopifySource(secrets=StaticSecret(LOCAL_WEBHOOK_SECRET), settings=ShopifySettings(), pixel_id="CPIXEL")
    runtime.install(receiver=Receiver(source=source, queue=MemoryQueue(), idempotency_store=MemoryIdempotencyStore()),
                    sender=QueueSender(client=no_client, dead_letters=MemoryDeadLetters()))
    event = json.loads((ROOT / "events" / "shopify" / "orders_paid.json").read_text())
    batch = {"Records": [{"messageId": "m-1", "body": "not a queue message", "attributes": {}}]}
    try:
        written = _emf_metrics(lambda: receiver_module.lambda_handler(event, FakeLambdaContext("receiver")))
        written |= _emf_metrics(lambda: sender_module.lambda_handler(batch, FakeLambdaContext("sender")))
    finally:
        runtime.install()
    # The reconcile function's: tests/integration/test_reconcile_function.py runs it and checks it
    # writes these, with the service dimension only.
    written |= {(name, ("service",)) for name in RECONCILE_METRICS}
    body, _ = dashboard_body(template)
    assert body is not None
    namespace = global_function(template)["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    read = {(m["MetricName"], tuple(sorted(m["Dimensions"]))) for m in dashboard_metrics(body)[0]
            if m["Namespace"] == namespace}
    assert read and read <= written, read - written
    assert {name for name, _ in read} >= {*DASHBOARD_METRICS, "EventsWithEmail", "EventsWithTtclid"}


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


# The deployments the generated roles are checked for: one shop, many shops, each with or without
# the EventBridge intake (CloudFormation evaluates the template's conditions with these).
ONE_SHOP = {}
MANY_SHOPS = {TENANTS_PARAMETER: "tiktok-relay/tenants"}
EVENT_SOURCE = {EVENT_SOURCE_PARAMETER: "aws.partner/shopify.com/1234567/tiktok-relay"}
DEPLOYMENTS = {"one shop": ONE_SHOP, "many shops": MANY_SHOPS, "one shop, EventBridge": EVENT_SOURCE,
               "many shops, EventBridge": {**MANY_SHOPS, **EVENT_SOURCE}}


def deployed(template: dict, parameters: dict) -> dict:
    """`template` as CloudFormation deploys it with `parameters` (the others at their defaults):
    resources whose condition is false left out, each Fn::If replaced by its branch
    (AWS::NoValue by nothing)."""
    values = {name: p.get("Default") for name, p in template.get("Parameters", {}).items()} | parameters
    conditions: dict[str, bool] = {}

    def value(node):
        if isinstance(node, dict) and set(node) == {"Ref"}:
            return values.get(node["Ref"])
        return node

    def truth(node) -> bool:
        [(function, args)] = node.items()
        if function == "Condition":
            return condition(args)
        if function == "Fn::Equals":
            return value(args[0]) == value(args[1])
        if function == "Fn::Not":
            return not truth(args[0])
        if function == "Fn::And":
            return all(truth(a) for a in args)
        if function == "Fn::Or":
            return any(truth(a) for a in args)
        raise AssertionError(f"unknown condition function {function}")

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = truth(template["Conditions"][name])
        return conditions[name]

    no_value = object()

    def resolve(node):
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return resolve(yes if condition(name) else no)
            if node == {"Ref": "AWS::NoValue"}:
                return no_value
            out = {k: resolve(v) for k, v in node.items()}
            return {k: v for k, v in out.items() if v is not no_value}
        if isinstance(node, list):
            return [item for item in map(resolve, node) if item is not no_value]
        return node

    kept = {name: r for name, r in template.get("Resources", {}).items()
            if "Condition" not in r or condition(r["Condition"])}
    return resolve({**template, "Resources": kept})


@pytest.fixture(scope="module", params=sorted(DEPLOYMENTS))
def deployment(request, transformed) -> tuple[str, dict]:
    return request.param, deployed(transformed, DEPLOYMENTS[request.param])


def _generated_role(transformed: dict, fn: str) -> dict:
    role = getatt(transformed["Resources"][fn]["Properties"]["Role"])
    return transformed["Resources"][role[0]]["Properties"]


def test_deployed_evaluates_conditions_and_branches():
    template = {
        "Parameters": {"P": {"Default": ""}},
        "Conditions": {"HasP": {"Fn::Not": [{"Fn::Equals": [{"Ref": "P"}, ""]}]}},
        "Resources": {"A": {"Condition": "HasP"}, "B": {"Properties": {
            "X": {"Fn::If": ["HasP", "yes", "no"]}, "L": [1, {"Fn::If": ["HasP", 2, {"Ref": "AWS::NoValue"}]}]}}},
    }
    assert set(deployed(template, {})["Resources"]) == {"B"}
    assert deployed(template, {})["Resources"]["B"]["Properties"] == {"X": "no", "L": [1]}
    assert deployed(template, {"P": "p"})["Resources"]["B"]["Properties"] == {"X": "yes", "L": [1, 2]}
    assert set(deployed(template, {"P": "p"})["Resources"]) == {"A", "B"}


def test_generated_roles_grant_no_wildcards(deployment):
    name, template = deployment
    problems = []
    for role_name, role in resources(template, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for index, statement in enumerate(_as_list(policy["PolicyDocument"]["Statement"])):
                problems += statement_problems(f"{role_name}/{policy['PolicyName']}[{index}]", statement)
        problems += [f"{role_name}: managed policy {arn}" for arn in role["Properties"].get("ManagedPolicyArns", [])
                     if arn not in ALLOWED_MANAGED_POLICIES]
    assert problems == []
    functions = [RECEIVER, SENDER, RECONCILE] + ([EVENTBRIDGE] if "EventBridge" in name else [])
    # Each function's own role, and the one EventBridge Scheduler invokes the reconcile function with.
    assert set(resources(template, "AWS::IAM::Role")) == {f"{fn}Role" for fn in functions} | {f"{RECONCILE}ScheduleRole"}


def _allowed(role: dict) -> list[tuple[str, object]]:
    """(action, resource) of every statement, one pair per resource a statement lists."""
    return [(action, resource) for policy in role.get("Policies", [])
            for statement in _as_list(policy["PolicyDocument"]["Statement"])
            for action in _as_list(statement["Action"])
            for resource in _as_list(statement.get("Resource"))]


def _queue_of(resource) -> str | None:
    """The queue in SAM's SQSSendMessagePolicy resource (a Sub over GetAtt Queue.QueueName)."""
    if isinstance(resource, dict) and isinstance(resource.get("Fn::Sub"), list):
        target = getatt(resource["Fn::Sub"][1].get("queueName"))
        return target[0] if target else None
    return None


def _secrets_read(role: dict) -> set[str]:
    """The parameters naming the secrets a role may read (`${Name}-??????` in the secret's ARN)."""
    return {r["Fn::Sub"].rsplit(":secret:", 1)[1] for a, r in _allowed(role) if a.startswith("secretsmanager")}


def test_each_function_reads_only_the_secrets_it_needs(deployment):
    """One store per platform: the receiver each platform's webhook secret, the sender its access
    token, the EventBridge intake none (it checks no signature and sends nothing). Many stores:
    each only the tenants document, which holds every store's secrets and pixels."""
    name, template = deployment
    many = name.startswith("many")
    webhook_secrets = {f"${{{platform}WebhookSecretName}}-??????" for platform in ("Shopify", "WooCommerce", "Stripe")}
    wanted = {RECEIVER: {"${TenantsSecretName}-??????"} if many else webhook_secrets,
              SENDER: {"${TenantsSecretName}-??????" if many else "${TikTokAccessTokenSecretName}-??????"}}
    for fn, secrets in wanted.items():
        assert _secrets_read(_generated_role(template, fn)) == secrets, fn
    if "EventBridge" in name:
        assert _secrets_read(_generated_role(template, EVENTBRIDGE)) == ({"${TenantsSecretName}-??????"} if many
                                                                         else set())


def test_generated_roles_are_least_privilege(deployment):
    name, template = deployment
    receiver, sender = _generated_role(template, RECEIVER), _generated_role(template, SENDER)
    assert {a for a, _ in _allowed(receiver)} == {
        "sqs:SendMessage*", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "secretsmanager:GetSecretValue"}
    assert {a for a, _ in _allowed(sender)} == {"sqs:SendMessage*", "secretsmanager:GetSecretValue",
                                                "dynamodb:BatchWriteItem"}
    # The sender writes the ledger of what TikTok accepted, and nothing else of DynamoDB.
    assert {(a, getatt(r)) for a, r in _allowed(sender) if a.startswith("dynamodb:")} == {
        ("dynamodb:BatchWriteItem", ("LedgerTable", "Arn"))}
    # Each sends to its own queue only.
    assert {_queue_of(r) for a, r in _allowed(receiver) if a.startswith("sqs:")} == {"EventsQueue"}
    # The sender writes dead letters, and the undelivered rest of a partly delivered message.
    assert {_queue_of(r) for a, r in _allowed(sender) if a.startswith("sqs:")} == {"DeadLetterQueue", "EventsQueue"}
    assert {getatt(r) for a, r in _allowed(receiver) if a.startswith("dynamodb:")} == {
        ("IdempotencyTable", "Arn"), ("StateTable", "Arn")}
    # The state table is read and written, never updated or deleted.
    assert {a for a, r in _allowed(receiver) if getatt(r) == ("StateTable", "Arn")} == {
        "dynamodb:GetItem", "dynamodb:PutItem"}
    assert "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole" not in receiver["ManagedPolicyArns"]
    if "EventBridge" in name:
        intake = _generated_role(template, EVENTBRIDGE)
        # The receiver's tables and queue; its own dead-letter queue for what it fails to take.
        assert {a for a, r in _allowed(intake) if a.startswith("dynamodb:")} == {
            a for a, r in _allowed(receiver) if a.startswith("dynamodb:")}
        assert {getatt(r) for a, r in _allowed(intake) if a.startswith("dynamodb:")} == {
            ("IdempotencyTable", "Arn"), ("StateTable", "Arn")}
        assert {_queue_of(r) for a, r in _allowed(intake) if a == "sqs:SendMessage*"} == {"EventsQueue"}
        assert {getatt(r) for a, r in _allowed(intake) if a == "sqs:SendMessage"} == {
            ("EventBridgeDeadLetterQueue", "Arn")}

    # The reconcile function queues the missed orders' events, reads the ledger and its token.
    reconcile = _generated_role(template, RECONCILE)
    tokens = "${TenantsSecretName}-??????" if "many shops" in name else "${ShopifyAdminAccessTokenSecretName}-??????"
    assert {(a, _queue_of(r) or getatt(r) or r["Fn::Sub"].rsplit(":secret:", 1)[1]) for a, r in _allowed(reconcile)} == {
        ("sqs:SendMessage*", "EventsQueue"), ("dynamodb:BatchGetItem", ("LedgerTable", "Arn")),
        ("secretsmanager:GetSecretValue", tokens)}
    # EventBridge Scheduler may invoke that function, nothing else.
    schedule_role = template["Resources"][f"{RECONCILE}ScheduleRole"]["Properties"]
    assert [(a, getatt(r)) for a, r in _allowed(schedule_role)] == [("lambda:InvokeFunction", (RECONCILE, "Arn"))]
    schedule = template["Resources"][f"{RECONCILE}Schedule"]["Properties"]
    assert "Name" not in schedule  # OmitName: CloudFormation names it, unique per stack


def test_the_eventbridge_rule_as_generated(deployment):
    """The rule SAM generates: on the partner event bus, Shopify's pattern, the function as its
    target with the retry policy and dead-letter queue of its own; nothing without the parameter."""
    name, template = deployment
    rules = resources(template, "AWS::Events::Rule")
    if "EventBridge" not in name:
        assert rules == {} and EVENTBRIDGE not in template["Resources"]
        return
    [rule] = rules.values()
    p = rule["Properties"]
    assert ref(p["EventBusName"]) == EVENT_SOURCE_PARAMETER and p["EventPattern"] == SHOPIFY_PATTERN
    [target] = p["Targets"]
    assert getatt(target["Arn"]) == (EVENTBRIDGE, "Arn")
    assert getatt(target["DeadLetterConfig"]["Arn"]) == ("EventBridgeDeadLetterQueue", "Arn")
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400}
    [permission] = [r for r in resources(template, "AWS::Lambda::Permission").values()
                    if ref(r["Properties"]["FunctionName"]) == EVENTBRIDGE]
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    [config] = [r for r in resources(template, "AWS::Lambda::EventInvokeConfig").values()
                if ref(r["Properties"]["FunctionName"]) == EVENTBRIDGE]
    assert config["Properties"]["MaximumRetryAttempts"] == 2
    assert getatt(config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]) == (
        "EventBridgeDeadLetterQueue", "Arn")


def test_generated_event_source_mapping(transformed):
    [mapping] = resources(transformed, "AWS::Lambda::EventSourceMapping").values()
    p = mapping["Properties"]
    assert ref(p["FunctionName"]) == SENDER
    assert getatt(p["EventSourceArn"]) == ("EventsQueue", "Arn")
    assert p["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= p["BatchSize"] <= 10 or p.get("MaximumBatchingWindowInSeconds", 0) >= 1


def test_generated_functions_keep_the_layer_order(transformed):
    layer = next(name for name in resources(transformed, "AWS::Lambda::LayerVersion") if name.startswith(LAYER))
    for fn in FUNCTIONS:
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


# A .pyc's header (importlib.util, PEP 552): the magic number, then flags; bit 0 set: hash-based,
# bit 1 set: checked against the source at import.
PYC_HASH_BASED, PYC_CHECK_SOURCE = 0b01, 0b10


@needs_build
def test_every_module_of_the_built_layer_ships_its_python_313_bytecode_unchecked():
    # Lambda's /opt is read-only: a module without .pyc is compiled at every cold start. A
    # timestamp-based .pyc would never match the dates of SAM's zip; an unchecked hash-based one
    # is used as it is. Python 3.13's magic number, as Lambda's python3.13 runtime loads them.
    python = BUILD / LAYER / "python"
    sources = sorted(python.rglob("*.py"))
    assert len(sources) > 100
    magic_313 = (3571).to_bytes(2, "little") + b"\r\n"  # importlib.util.MAGIC_NUMBER of Python 3.13
    for source in sources:
        pycs = list((source.parent / "__pycache__").glob(f"{source.stem}.cpython-313.pyc"))
        assert len(pycs) == 1, f"{source} has no Python 3.13 bytecode in the layer"
        header = pycs[0].read_bytes()[:8]
        assert header[:4] == magic_313, f"{pycs[0]} is not Python 3.13 bytecode"
        flags = int.from_bytes(header[4:8], "little")
        assert flags & PYC_HASH_BASED and not flags & PYC_CHECK_SOURCE, f"{pycs[0]} is not unchecked hash-based"
    others = [p for p in python.rglob("*.pyc") if not p.name.endswith(".cpython-313.pyc")]
    assert others == [], f"bytecode of another Python: {others[:3]}"


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
# Python raises a "compile" audit event (PEP 578) for each module it compiles from source: none
# of the layer's may be, its bytecode ships with it.
compiled = []
sys.addaudithook(lambda event, args: compiled.append(args[1]) if event == "compile" and isinstance(args[1], str)
                 and args[1].startswith(layer) else None)
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
       "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/dlq", "LEDGER_TABLE": "l",
       "SHOPIFY_SHOP": "demo.myshopify.com", "SHOPIFY_ADMIN_ACCESS_TOKEN_SECRET_NAME": "s3", "RECONCILE_WINDOW": "6h"}
built = [type(runtime.build_receiver(env)).__name__, type(runtime.build_sender(env)).__name__,
         type(runtime.build_event_receiver(env)).__name__, type(runtime.build_reconcile(env)).__name__]
# With a tenants document (read lazily, on the first delivery): the same parts, no secret read yet.
tenants = {**env, "TENANTS_SECRET_NAME": "tiktok-relay/tenants"}
built += [type(runtime.build_receiver(tenants)).__name__, type(runtime.build_sender(tenants)).__name__]
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
                  "built": built, "tooling": tooling, "compiled": compiled,
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
    for fn in FUNCTIONS:
        path, attribute = handler_path(built, fn, root=BUILD)
        handlers[fn] = (str(path), attribute)
    layer = BUILD / LAYER / "python"
    # -S: no site-packages (Lambda's /opt/python is on PYTHONPATH, not a site dir); -B and
    # PYTHONDONTWRITEBYTECODE: leave the build as sam made it (Lambda's /opt is read-only). Our
    # layer first: on Lambda it is extracted last, over the Powertools layer.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(layer), str(stand_in)]), "AWS_DEFAULT_REGION": "us-east-1",
           "POWERTOOLS_SERVICE_NAME": "tiktok-relay", "POWERTOOLS_METRICS_NAMESPACE": "TikTokRelay",
           "POWERTOOLS_TRACE_DISABLED": "1"}
    done = subprocess.run([python313, "-S", "-B", "-c", IMPORT_CHECK, str(layer), json.dumps(handlers)],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["version"] == [3, 13]
    assert result["handlers"] == {RECEIVER: True, SENDER: True, EVENTBRIDGE: True, RECONCILE: True}
    # The entry points hand Lambda the handler modules of the layer (what replay and serve run too).
    for fn, name in HANDLER_MODULES.items():
        assert Path(result["handler_files"][fn]) == layer / "tiktok_relay" / "handlers" / f"{name}.py"
    # Loading the handlers and building the receivers, the sender and the reconcile loads no local tool or fake.
    assert result["built"] == ["Receiver", "QueueSender", "Receiver", "ScheduledReconcile", "Receiver", "QueueSender"]
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
    assert result["compiled"] == [], "modules of the layer compiled at import: their bytecode is missing or unused"
