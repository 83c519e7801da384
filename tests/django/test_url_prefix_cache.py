"""`url.full` follows the settings it is built from although its prefix is memoised."""

from __future__ import annotations

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

HEADERS = {
    "HTTP_HOST": "proxy.example",
    "HTTP_X_FORWARDED_HOST": "api.example.test",
    "HTTP_X_FORWARDED_PROTO": "https",
}
HOSTS = ["testserver", "proxy.example", "api.example.test"]


def _url(client, audit, **headers: str) -> tuple[str | None, str | None]:
    client.get("/items/7/", **headers)
    attrs = audit.attrs()
    audit.clear()
    return attrs.get("url.full"), attrs.get("http.request.header.host")


def test_the_same_request_follows_each_setting_change(client, audit):
    # The same headers every time: only the settings differ, so a stale prefix shows.
    assert _url(client, audit, **HEADERS) == (None, "proxy.example")
    with override_settings(ALLOWED_HOSTS=HOSTS):
        assert _url(client, audit, **HEADERS) == ("http://proxy.example/items/7/", None)
        with override_settings(USE_X_FORWARDED_HOST=True):
            assert _url(client, audit, **HEADERS) == ("http://api.example.test/items/7/", None)
            with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
                assert _url(client, audit, **HEADERS) == (
                    "https://api.example.test/items/7/",
                    None,
                )
            assert _url(client, audit, **HEADERS) == ("http://api.example.test/items/7/", None)
        assert _url(client, audit, **HEADERS) == ("http://proxy.example/items/7/", None)
    assert _url(client, audit, **HEADERS) == (None, "proxy.example")


def test_the_port_and_the_proxy_header_value_are_part_of_the_key(client, audit):
    port = {"HTTP_X_FORWARDED_PORT": "8443"}
    assert _url(client, audit, **port) == ("http://testserver/items/7/", None)
    with override_settings(USE_X_FORWARDED_PORT=True):
        assert _url(client, audit, **port) == ("http://testserver:8443/items/7/", None)
        assert _url(client, audit) == ("http://testserver/items/7/", None)
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        # Django keeps a port that is not the scheme's default (SERVER_PORT is 80).
        assert _url(client, audit, HTTP_X_FORWARDED_PROTO="https") == (
            "https://testserver:80/items/7/",
            None,
        )
        assert _url(client, audit, HTTP_X_FORWARDED_PROTO="http") == (
            "http://testserver/items/7/",
            None,
        )
    assert _url(client, audit, HTTP_X_FORWARDED_PROTO="https") == (
        "http://testserver/items/7/",
        None,
    )


def test_a_long_host_is_not_memoised_and_still_checked(client, audit):
    host = "h" * 300 + ".example"
    assert _url(client, audit, HTTP_HOST=host) == (None, host[:256] + "[TRUNCATED]")
    with override_settings(ALLOWED_HOSTS=[host]):
        assert _url(client, audit, HTTP_HOST=host) == (f"http://{host}/items/7/", None)
