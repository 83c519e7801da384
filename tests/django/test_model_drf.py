"""django-auditlog forwarding (how-to-use 5, D3, W3) and DRF metadata (6, D2)."""

from __future__ import annotations

import pytest
from tests.django.auditapp.models import Account

pytestmark = pytest.mark.django_db

MODEL_KEYS = [
    "event_type",
    "schema_version",
    "action.name",
    "action.type",
    "model",
    "app_label",
    "model_label",
    "object_id",
    "crud_action",
    "changed_fields",
]


def test_d3_create_update_delete_forwarded_out_of_the_box(audit):
    acct = Account.objects.create(name="alpha", api_key="sk_live_SHOULDNOTLEAK", balance=5)
    acct.balance = 7
    acct.save()
    pk = acct.pk
    acct.delete()
    create, update, delete = audit.events()
    assert [e["attributes"]["event_type"] for e in (create, update, delete)] == [
        "model.create",
        "model.update",
        "model.delete",
    ]
    assert create["body"] == "model.event" and create["severity_text"] == "INFO"
    attrs = create["attributes"]
    assert list(attrs) == MODEL_KEYS  # no request: no request_id, no address
    assert attrs["model"] == "account" and attrs["app_label"] == "auditapp"
    assert attrs["model_label"] == "auditapp.account"
    assert attrs["object_id"] == str(pk)
    assert attrs["crud_action"] == attrs["action.name"] == "create"
    assert attrs["action.type"] == "model.create"
    assert set(attrs["changed_fields"]) == {"id", "name", "api_key", "balance"}
    assert update["attributes"]["changed_fields"] == ["balance"]
    assert delete["attributes"]["crud_action"] == "delete"
    # Values and the object's repr are never written.
    assert "ACCOUNT-REPR" not in audit.text
    assert '"alpha"' not in audit.text
    audit.assert_no_secrets()
    assert "outcome" not in attrs


def test_model_event_inside_a_request_shares_its_context(client, audit, user):
    audit.configure(
        {
            "core": {"log_ok_responses": True},
            "django": {"trusted_proxy_cidrs": ["127.0.0.0/8"], "include_usernames": True},
        }
    )
    client.force_login(user)
    audit.clear()
    # auditlog's middleware takes the left-most X-Forwarded-For entry (6.6.6.6, spoofed);
    # our trusted-proxy walk gives 9.9.9.9 (W3).
    response = client.post("/accounts-create/", HTTP_X_FORWARDED_FOR="6.6.6.6, 9.9.9.9")
    assert response.status_code == 201
    model_event, http_event = audit.events()
    attrs = model_event["attributes"]
    assert attrs["event_type"] == "model.create"
    assert attrs["request_id"] == http_event["attributes"]["request_id"]
    assert attrs["source.address"] == "9.9.9.9" == http_event["attributes"]["source.address"]
    assert attrs["user.id"] == str(user.pk)
    assert attrs["user.name"] == "alice"
    assert "6.6.6.6" not in audit.text


def test_model_events_can_be_turned_off(audit):
    audit.configure({"django": {"model_events_enabled": False}})
    Account.objects.create(name="beta")
    assert audit.lines() == []
    audit.configure({"django": {"model_events_enabled": None}})
    Account.objects.create(name="gamma")
    assert audit.types() == ["model.create"]


def test_model_access_and_unknown_actions(audit):
    from auditlog.models import LogEntry
    from auditlog.signals import post_log

    acct = Account.objects.create(name="delta")
    audit.clear()
    entry = LogEntry.objects.log_create(acct, action=LogEntry.Action.ACCESS, changes={})
    post_log.send(
        sender=Account,
        instance=acct,
        action=3,
        changes={},
        log_entry=entry,
        log_created=True,
        error=None,
        pre_log_results=[],
    )
    entry.action = 9
    post_log.send(
        sender=Account,
        instance=acct,
        action=9,
        changes={},
        log_entry=entry,
        log_created=True,
        error=None,
        pre_log_results=[],
    )
    post_log.send(
        sender=Account,
        instance=acct,
        action=1,
        changes=None,
        log_entry=None,
        log_created=False,
        error=RuntimeError("x"),
        pre_log_results=[],
    )
    types = audit.types()
    assert types[-2:] == ["model.access", "model.unknown"]
    assert "changed_fields" not in audit.attrs("model.access")


# -- DRF ---------------------------------------------------------------------------------


def test_d2_drf_metadata_on_a_viewset(client, audit):
    response = client.get("/api/accounts/999/")
    assert response.status_code == 404
    attrs = audit.attrs()
    assert attrs["http.route"] == "/api/accounts/(?P<pk>[^/.]+)/$"
    assert attrs["http.route_name"] == "account-detail"
    assert {k: v for k, v in attrs.items() if k.startswith("drf_")} == {
        "drf_action": "retrieve",
        "drf_basename": "account",
        "drf_view_class": "AccountViewSet",
        "drf_serializer_class": "AccountSerializer",
        "drf_throttle_scope": "accounts",
        "drf_authentication_classes": ["SessionAuthentication"],
        "drf_permission_classes": ["AllowAny"],
    }
    keys = list(attrs)
    assert keys.index("action.result") < keys.index("drf_action") < keys.index("outcome")


def test_drf_create_action_and_model_event(client, audit):
    audit.configure({"core": {"log_ok_responses": True, "log_request_bodies": True}})
    response = client.post(
        "/api/accounts/", {"name": "epsilon", "balance": 3}, content_type="application/json"
    )
    assert response.status_code == 201
    model_event, http_event = audit.events()
    assert model_event["attributes"]["event_type"] == "model.create"
    attrs = http_event["attributes"]
    assert attrs["drf_action"] == "create"
    assert attrs["request.body"] == {"name": "epsilon", "balance": 3}


def test_drf_can_be_turned_off(client, audit):
    audit.configure({"django": {"drf_enabled": False}})
    client.get("/api/accounts/999/")
    assert "drf_" not in audit.text


def test_non_drf_view_has_no_drf_attributes(client, audit):
    client.get("/items/7/")
    assert "drf_" not in audit.text
