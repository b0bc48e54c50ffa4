"""tiktok_relay.compat.pytt_events: pytt-events-api 0.1.10's README quick start runs unchanged
but for its imports, on Events API 2.0, against the fake TikTok over real HTTP."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from tests.support import FIXTURES

QUICKSTART = (FIXTURES / "pytt" / "readme_quickstart.py").read_text(encoding="utf-8")
OLD, NEW = "pytt_events", "tiktok_relay.compat.pytt_events"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def migrated(source: str) -> str:
    """The one change a user makes: the package name in the import lines."""
    return "\n".join(line.replace(f"from {OLD}.", f"from {NEW}.") if line.startswith(f"from {OLD}.") else line
                     for line in source.split("\n"))


def test_only_the_imports_change():
    before, after = QUICKSTART.split("\n"), migrated(QUICKSTART).split("\n")
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 7
    assert all(a.startswith("from pytt_events.") and b.startswith("from tiktok_relay.compat.pytt_events.")
               for a, b in changed)
    assert OLD not in migrated(QUICKSTART).replace(NEW, "")


def run_quickstart(tmp_path, fake_tiktok, **env: str) -> subprocess.CompletedProcess:
    script = tmp_path / "quickstart.py"
    script.write_text(migrated(QUICKSTART) + "\nprint(response.json())\n", encoding="utf-8")  # what it returned
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TIKTOK_")}
    clean.update(TIKTOK_ACCESS_TOKEN=fake_tiktok.access_token, TIKTOK_PIXEL_ID="CFAKEPIXEL123",
                 TIKTOK_API_BASE_URL=fake_tiktok.base_url, **env)
    return subprocess.run([sys.executable, str(script)], env=clean, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)


def test_the_readme_quick_start_sends_its_event_on_events_api_2(tmp_path, fake_tiktok):
    done = run_quickstart(tmp_path, fake_tiktok, TIKTOK_TEST_EVENT_CODE="TEST123")
    assert done.returncode == 0, done.stderr

    [request] = fake_tiktok.received  # post_event; the empty bulk call sends nothing
    assert request.code == 0  # the fake answers only POST /open_api/v1.3/event/track/ (Events API 2.0)
    [body] = fake_tiktok.accepted
    assert (body["event_source"], body["event_source_id"], body["test_event_code"]) == ("web", "CFAKEPIXEL123",
                                                                                       "TEST123")
    [event] = body["data"]
    assert event["event"] == "ViewContent" and event["event_id"] == "123456789"
    assert event["event_time"] == 1675220400  # '2023-02-01T00:00:00-03:00'
    user = event["user"]
    assert user["email"] == [sha("test@test.com")]
    assert user["phone"] == [sha("+5541998862934")]
    assert user["external_id"] == [sha("123456")]
    assert user["ttp"] == "94e2a4j9-h3ss-k2h5-98cc-c84a745mk098"
    assert user["ttclid"] == "E.C.P.v3fQ2RHacdkfKfofPmlyuStIIHJ4Af1tKYxF9zz2c2PLx1Oaw15oHpcfl5AH"
    assert user["ip"] == "13.57.97.131" and user["user_agent"].startswith("Mozilla/5.0 (Macintosh")
    assert event["page"] == {"url": "https://www.example.com", "referrer": "https://www.google.com"}
    properties = event["properties"]
    assert (properties["currency"], properties["value"], properties["status"]) == ("BRL", 1.0, "mock status")
    # content_type, which pytt silently dropped from Content(...), reaches TikTok.
    assert properties["contents"] == [{"content_id": "123456789", "content_type": "product", "price": 1.0,
                                       "quantity": 1, "content_category": "mock content category",
                                       "content_name": "mock content name"}]
    assert "test@test.com" not in str(body)
    # `response` is the bulk call's by then: an empty list, nothing posted (pytt posted an empty batch).
    assert "'code': 0, 'message': 'nothing to send'" in done.stdout and "'requests_sent': 0" in done.stdout


def test_without_a_test_event_code_it_is_left_out(tmp_path, fake_tiktok):
    done = run_quickstart(tmp_path, fake_tiktok)
    assert done.returncode == 0, done.stderr
    assert "test_event_code" not in fake_tiktok.accepted[0]


def test_a_non_zero_tiktok_code_raises_as_pytt_did(tmp_path, fake_tiktok):
    fake_tiktok.reject_events({"123456789"}, message="Invalid value for currency.")
    done = run_quickstart(tmp_path, fake_tiktok)
    assert done.returncode == 1
    assert "TikTokEventsApiError" in done.stderr and "40002" in done.stderr


# --- the pieces, in process --------------------------------------------------------------------------------------


@pytest.fixture
def api_and_auth(fake_tiktok, monkeypatch, tmp_path):
    from tiktok_relay.compat.pytt_events.auth import TikTokAuth
    from tiktok_relay.compat.pytt_events.tiktok_events_api import TikTokEventsApi

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIKTOK_ACCESS_TOKEN", fake_tiktok.access_token)
    monkeypatch.setenv("TIKTOK_PIXEL_ID", "CFAKEPIXEL123")
    monkeypatch.setenv("TIKTOK_API_BASE_URL", fake_tiktok.base_url)
    return TikTokEventsApi(), TikTokAuth()


def purchase(n: int, **user):
    from tiktok_relay.compat.pytt_events.context import Context, User
    from tiktok_relay.compat.pytt_events.event import Event
    from tiktok_relay.compat.pytt_events.properties import Properties

    return Event(pixel_code="CFAKEPIXEL123", event="CompletePayment", event_id=f"order-{n}", timestamp=1795600000,
                 context=Context(user=User(email=f"buyer{n}@example.com", **user)),
                 properties=Properties(currency="usd", value=0))


def test_the_error_is_an_http_error_with_pytts_args_and_the_result(api_and_auth, fake_tiktok):
    import requests

    from tiktok_relay import TikTokRelayError

    api, auth = api_and_auth
    fake_tiktok.reject_events({"order-2"})
    with pytest.raises(requests.HTTPError) as caught:
        api.post_events_in_bulk([purchase(n) for n in range(4)], auth)
    error = caught.value
    assert isinstance(error, TikTokRelayError)
    assert error.args[0] == 40002 and error.code == 40002
    # Unlike pytt, the good events of the batch were delivered.
    assert sorted(fake_tiktok.accepted_ids()) == ["order-0", "order-1", "order-3"]
    assert [o.event_id for o in error.result.rejected] == ["order-2"]


def test_bulk_sends_at_most_1000_per_request_and_an_empty_list_sends_nothing(api_and_auth, fake_tiktok):
    api, auth = api_and_auth
    assert api.post_events_in_bulk([], auth).json()["data"]["events"] == 0
    assert fake_tiktok.received == []
    response = api.post_events_in_bulk([purchase(n) for n in range(1001)], auth)
    assert response.status_code == 200 and response.json()["code"] == 0
    assert [len(body["data"]) for body in fake_tiktok.accepted] == [1000, 1]
    assert response.result.summary()["delivered"] == 1001


def test_old_names_in_errors_and_unknown_arguments_are_named():
    from tiktok_relay import EventValidationError
    from tiktok_relay.compat.pytt_events.context import User
    from tiktok_relay.compat.pytt_events.properties import Content

    with pytest.raises(EventValidationError) as caught:
        User(phone_number="(415) 555-2671")  # no +country and no region: named by pytt's name
    assert str(caught.value).startswith("context.user.phone_number:") and "415" not in str(caught.value)
    assert User(phone_number="(415) 555-2671", phone_region="US")._fields["phone"] == [sha("+14155552671")]
    with pytest.raises(TypeError, match="valeu"):
        Content(quantity=1, price=2.0, valeu=3)  # pytt dropped it silently


def test_missing_settings_name_the_variable(monkeypatch, tmp_path):
    from tiktok_relay import ConfigurationError
    from tiktok_relay.compat.pytt_events.auth import TikTokAuth

    monkeypatch.chdir(tmp_path)
    for name in ("TIKTOK_ACCESS_TOKEN", "TIKTOK_PIXEL_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigurationError, match="TIKTOK_ACCESS_TOKEN"):
        TikTokAuth()
    (tmp_path / ".env").write_text("# pytt read .env too\nTIKTOK_ACCESS_TOKEN='from-dotenv'\nexport TIKTOK_PIXEL_ID=CDOT1\n")
    auth = TikTokAuth()
    assert (auth.TIKTOK_ACCESS_TOKEN, auth.TIKTOK_PIXEL_ID, auth.TIKTOK_API_VERSION) == ("from-dotenv", "CDOT1", "v1.3")
    monkeypatch.setenv("TIKTOK_PIXEL_ID", "CENV2")  # the environment wins over .env, keywords over both
    assert TikTokAuth().TIKTOK_PIXEL_ID == "CENV2" and TikTokAuth(TIKTOK_PIXEL_ID="CKW3").TIKTOK_PIXEL_ID == "CKW3"
    assert "from-dotenv" not in repr(auth)
