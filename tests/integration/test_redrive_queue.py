"""`tiktok-relay redrive --queue-url URL`: the deployed dead-letter queue back to the events queue,
with SQS through moto, then the real sender handler against the fake TikTok. No message leaves
the dead-letter queue unless the events queue took its events."""

from __future__ import annotations

import json

import pytest

from tests.support.dead_letters import OLD, SHOP, delivery, malformed, purchase, rejected, stale
from tiktok_relay.cli import main
from tiktok_relay.local.redrive import Rules, redrive_queue
from tiktok_relay.pipeline.aws import SqsQueue
from tiktok_relay.pipeline.messages import DeadLetter
from tiktok_relay.pipeline.ports import QueueError

# What a dead-letter queue holds: messages SQS moved there after their receives (the receiver's
# queue messages, unchanged) and letters the sender wrote.
MOVED = delivery("wh-1", purchase("o-1"), purchase("o-2"))  # goes back
MIXED = delivery("wh-5", purchase("o-5"), purchase("o-6", OLD))  # o-5 back, o-6 stays (stale)
MESSAGES = [MOVED.to_message(), rejected(delivery("wh-3", purchase("o-3"))),
            stale(delivery("wh-4", purchase("o-4", OLD))), MIXED.to_message(), malformed()]


@pytest.fixture
def dlq(relay, monkeypatch):
    """The moto dead-letter queue holding MESSAGES; the stale limit TikTok's 48 h for the sender too."""
    from tiktok_relay.pipeline import runtime

    monkeypatch.setenv("TIKTOK_MAX_EVENT_AGE", "48h")
    runtime.install()
    for body in MESSAGES:
        relay.sqs.send_message(QueueUrl=relay.dlq_url, MessageBody=body)
    return relay


def redrive(capsys, *args: str) -> tuple[int, dict]:
    status = main(["redrive", *args, "--json"])
    return status, json.loads(capsys.readouterr().out)


def bodies(aws, url) -> list[dict]:
    """Everything on a queue now (received and deleted), as JSON."""
    return [json.loads(message["Body"]) for message in aws.messages(url, max_messages=100)]


def drain(aws, sender_app) -> None:
    """What Lambda's event source does until the events queue is empty."""
    while aws.poll_and_send(sender_app)["records"]:
        pass


def test_the_queue_is_redriven_to_the_events_queue_and_the_sender_delivers(dlq, capsys, sender_app, fake_tiktok):
    status, report = redrive(capsys, "--queue-url", dlq.dlq_url)

    assert status == 0
    assert report == {"from": dlq.dlq_url, "to": dlq.queue_url, "dry_run": False, "letters": 5, "events": 6,
                      "redriven": 3, "stale": 2, "rejected": 1, "failed": 0, "unreadable": 1, "requests_sent": 0,
                      "problems": [report["problems"][0]]}
    assert report["problems"][0].endswith("kept: it holds no readable events (malformed queue message: body is "
                                          "not JSON)")
    drain(dlq, sender_app)
    assert sorted(fake_tiktok.accepted_ids()) == ["o-1", "o-2", "o-5"]
    # Still dead, and visible again at once: the refused, the stale, the unreadable, and a stale
    # letter in the mixed message's place, naming its shop (its tenant).
    left = bodies(dlq, dlq.dlq_url)
    assert sorted(letter["reason"].split(":")[0] for letter in left) == [
        "malformed queue message", "rejected by TikTok", "stale", "stale"]
    [rest] = [letter for letter in left if letter.get("webhook_id") == "wh-5"]
    assert [e["event_id"] for e in rest["request"]["data"]] == ["o-6"] and rest["shop"] == SHOP


def test_a_redriven_message_is_the_receivers_message_naming_its_shop(dlq, capsys):
    redrive(capsys, "--queue-url", dlq.dlq_url)

    requeued = {body["webhook_id"]: body for body in bodies(dlq, dlq.queue_url)}
    assert set(requeued) == {"wh-1", "wh-5"}
    assert requeued["wh-1"] == json.loads(MOVED.to_message())  # byte for byte what the receiver queued
    assert requeued["wh-5"]["shop"] == SHOP and [e["event_id"] for e in requeued["wh-5"]["request"]["data"]] == ["o-5"]
    assert all("ignore_age" not in body for body in requeued.values())


def test_force_and_include_rejected_send_the_stale_and_the_refused(dlq, capsys, sender_app, fake_tiktok):
    status, report = redrive(capsys, "--queue-url", dlq.dlq_url, "--force", "--include-rejected")

    assert status == 0 and (report["redriven"], report["stale"], report["rejected"]) == (6, 0, 0)
    drain(dlq, sender_app)  # the sender's own stale rule is 48 h: ignore_age gets them through
    assert sorted(fake_tiktok.accepted_ids()) == ["o-1", "o-2", "o-3", "o-4", "o-5", "o-6"]
    assert [letter["reason"].split(":")[0] for letter in bodies(dlq, dlq.dlq_url)] == ["malformed queue message"]


def test_a_dry_run_moves_nothing_and_leaves_every_message_visible(dlq, capsys):
    status, report = redrive(capsys, "--queue-url", dlq.dlq_url, "--dry-run")

    assert status == 0 and report["dry_run"] is True and report["redriven"] == 3
    assert bodies(dlq, dlq.queue_url) == []
    assert sorted(map(json.dumps, bodies(dlq, dlq.dlq_url))) == sorted(json.dumps(json.loads(m)) for m in MESSAGES)


def test_a_message_the_events_queue_refuses_stays_in_the_dead_letter_queue(dlq, capsys):
    """An events queue that takes messages of at most 1 KiB: the small message moves, the big
    one is not taken, so it is not deleted either, and the run exits 1."""
    small = dlq.sqs.create_queue(QueueName="small-events", Attributes={"MaximumMessageSize": "1024"})["QueueUrl"]
    dlq.messages(dlq.dlq_url, max_messages=100)  # start from these two only
    big = delivery("wh-big", *(purchase(f"o-big-{i}") for i in range(10)))
    for body in (delivery("wh-small", purchase("o-small")).to_message(), big.to_message()):
        dlq.sqs.send_message(QueueUrl=dlq.dlq_url, MessageBody=body)

    status, report = redrive(capsys, "--queue-url", dlq.dlq_url, "--events-queue-url", small)

    assert status == 1
    assert (report["redriven"], report["failed"]) == (1, 10)
    assert any("the events queue did not take its 10 event(s) (InvalidParameterValue); it stays in the dead-letter "
               "queue" in problem for problem in report["problems"])
    assert [body["webhook_id"] for body in bodies(dlq, small)] == ["wh-small"]
    assert [body["webhook_id"] for body in bodies(dlq, dlq.dlq_url)] == ["wh-big"]  # kept, visible again


def test_a_message_that_cannot_be_deleted_is_reported_and_comes_back(dlq):
    """The events queue took the events but the delete failed: the message stays (a later
    redrive queues its events again, which TikTok deduplicates), and the report says so."""

    class NoDeletes(SqsQueue):
        def delete(self, message):
            raise QueueError("AccessDenied")

    dlq.messages(dlq.dlq_url, max_messages=100)
    dlq.sqs.send_message(QueueUrl=dlq.dlq_url, MessageBody=MOVED.to_message())
    report = redrive_queue(NoDeletes(dlq.dlq_url, dlq.sqs), SqsQueue(dlq.queue_url, dlq.sqs),
                           rules=Rules(max_event_age=48 * 3600), source=dlq.dlq_url, target=dlq.queue_url)

    assert report.redriven == 2 and report.failed == 0
    assert "could not be deleted from the dead-letter queue (AccessDenied)" in report.problems[0]
    assert [body["webhook_id"] for body in bodies(dlq, dlq.queue_url)] == ["wh-1"]
    assert [body["webhook_id"] for body in bodies(dlq, dlq.dlq_url)] == ["wh-1"]


def test_a_stale_rest_that_cannot_be_stored_keeps_the_whole_message(dlq):
    class NoPuts(SqsQueue):
        def put(self, letter: DeadLetter):
            raise QueueError("KMS.AccessDeniedException")

    dlq.messages(dlq.dlq_url, max_messages=100)
    dlq.sqs.send_message(QueueUrl=dlq.dlq_url, MessageBody=MIXED.to_message())
    report = redrive_queue(NoPuts(dlq.dlq_url, dlq.sqs), SqsQueue(dlq.queue_url, dlq.sqs),
                           rules=Rules(max_event_age=48 * 3600), source=dlq.dlq_url, target=dlq.queue_url)

    assert (report.redriven, report.stale) == (1, 1)
    assert "its stale rest could not be stored on its own (KMS.AccessDeniedException)" in report.problems[0]
    assert [json.loads(m["Body"]) for m in dlq.messages(dlq.dlq_url)] == [json.loads(MIXED.to_message())]


def test_the_events_queue_is_found_from_the_dead_letter_queue_when_not_given(dlq, capsys, monkeypatch):
    monkeypatch.delenv("EVENTS_QUEUE_URL")
    status, report = redrive(capsys, "--queue-url", dlq.dlq_url)
    assert status == 0 and report["to"] == dlq.queue_url  # the queue whose redrive policy names the DLQ


def test_a_letter_naming_no_shop_goes_back_only_with_shop(dlq, capsys):
    old = DeadLetter(reason="rejected by TikTok", webhook_id="wh-old", request=delivery("wh-old", purchase("o-7")).request)
    dlq.messages(dlq.dlq_url, max_messages=100)
    dlq.sqs.send_message(QueueUrl=dlq.dlq_url, MessageBody=old.to_json())

    status, report = redrive(capsys, "--queue-url", dlq.dlq_url, "--include-rejected")
    assert status == 0 and report["unreadable"] == 1 and "give --shop SHOP" in report["problems"][0]
    assert bodies(dlq, dlq.queue_url) == []

    status, report = redrive(capsys, "--queue-url", dlq.dlq_url, "--include-rejected", "--shop", SHOP)
    assert status == 0 and report["redriven"] == 1
    [requeued] = bodies(dlq, dlq.queue_url)
    assert requeued["shop"] == SHOP and requeued["webhook_id"] == "wh-old"


@pytest.mark.parametrize(("args", "message"), [
    (["--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/nope"], "--queue-url: cannot read the queue"),
    (["--events-queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/nope"],
     "--events-queue-url: cannot reach the events queue"),
])
def test_a_queue_that_does_not_exist_exits_2_before_anything_moves(dlq, capsys, args, message):
    args = ["--queue-url", dlq.dlq_url, *args] if args[0] != "--queue-url" else args
    assert main(["redrive", *args]) == 2
    assert message in capsys.readouterr().err
    assert len(dlq.messages(dlq.dlq_url, max_messages=100)) == len(MESSAGES)


def test_the_dead_letter_queue_itself_as_events_queue_is_refused(dlq, capsys):
    assert main(["redrive", "--queue-url", dlq.dlq_url, "--events-queue-url", dlq.dlq_url]) == 2
    assert "is the dead-letter queue itself" in capsys.readouterr().err
