"""The middleware under ASGI (AsyncClient): same lines, no thread hop, same context."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from asgiref.sync import async_to_sync, iscoroutinefunction
from tests.django.auditapp import views

from sec_audit.django.middleware import AuditMiddleware

pytestmark = [pytest.mark.django_db(transaction=True)]


def run_async(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test on an event loop (no pytest-asyncio needed); fixtures still inject."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        async_to_sync(fn)(*args, **kwargs)

    return wrapper


def test_middleware_declares_both_modes():
    assert AuditMiddleware.sync_capable and AuditMiddleware.async_capable

    async def get_response(request):
        return None

    assert iscoroutinefunction(AuditMiddleware(get_response))
    assert not iscoroutinefunction(AuditMiddleware(lambda request: None))


@run_async
async def test_async_404_line(async_client, audit):
    response = await async_client.get("/async/missing/", headers={"user-agent": "probe/1"})
    assert response.status_code == 404
    assert response.content == b"async-missing"
    attrs = audit.attrs()
    assert attrs["event_type"] == "http.response.client_error"
    assert attrs["url.full"] == "http://testserver/async/missing/"
    assert attrs["http.route"] == "/async/missing/"
    assert attrs["http.route_name"] == "async-missing"
    assert attrs["user_agent.original"] == "probe/1"
    assert attrs["source.address"] == "127.0.0.1"


@run_async
async def test_async_view_sees_the_request_context(async_client, audit):
    views.SEEN_CONTEXTS.clear()
    await async_client.get("/async/missing/")
    (ctx,) = views.SEEN_CONTEXTS
    assert ctx.request_id == audit.attrs()["request_id"]
    assert ctx.path == "/async/missing/"


@run_async
async def test_sync_view_under_asgi_sees_the_request_context(async_client, audit):
    views.SEEN_CONTEXTS.clear()
    await async_client.get("/probe/")
    (ctx,) = views.SEEN_CONTEXTS
    assert ctx.request_id == audit.attrs()["request_id"]


@run_async
async def test_async_ok_unlogged_and_logged(async_client, audit, settings):
    response = await async_client.get("/async/ok/")
    assert response.content == b"async-ok"
    assert audit.lines() == []
    audit.configure({"core": {"log_ok_responses": True}})
    await async_client.get("/async/ok/")
    assert audit.attrs()["event_type"] == "http.response.success"


@run_async
async def test_async_view_exception_is_a_500_with_error_type(async_client, audit):
    async_client.raise_request_exception = False
    response = await async_client.get("/async/boom/")
    assert response.status_code == 500
    attrs = audit.attrs()
    assert attrs["error.type"] == "tests.django.auditapp.views.Boom"
    assert "async failure" not in audit.text


@run_async
async def test_async_streaming_response(async_client, audit):
    response = await async_client.get("/async/stream/")
    chunks = [chunk async for chunk in response.streaming_content]
    assert b"".join(chunks) == b"xy"
    assert audit.attrs()["http.response.status_code"] == 500


@run_async
async def test_async_body_capture(async_client, audit):
    audit.configure({"core": {"log_request_bodies": True, "log_ok_responses": True}})
    response = await async_client.post(
        "/echo/", {"password": "hunter2", "n": 1}, content_type="application/json"
    )
    assert response.status_code == 201
    assert audit.attrs()["request.body"] == {"password": "[REDACTED]", "n": 1}
    audit.assert_no_secrets()


@run_async
async def test_async_disallowed_host(async_client, audit):
    async_client.raise_request_exception = False
    response = await async_client.get("/absolute/", headers={"host": "evil.example"})
    assert response.status_code == 400
    attrs = audit.attrs()
    assert "url.full" not in attrs
    # AsyncClient also sends its own Host; Django's ASGI request joins the duplicates.
    assert attrs["http.request.header.host"] == "testserver,evil.example"


@run_async
async def test_async_path_stays_on_the_event_loop_thread(async_client, audit, monkeypatch):
    # No thread hop for the middleware itself: start() and finish() run on the loop thread.
    from sec_audit.django import middleware

    loop_thread = threading.get_ident()
    seen = []
    real_start, real_finish = middleware.start, middleware.finish

    def start(request):
        seen.append(threading.get_ident())
        return real_start(request)

    def finish(audit_state, response):
        seen.append(threading.get_ident())
        return real_finish(audit_state, response)

    monkeypatch.setattr(middleware, "start", start)
    monkeypatch.setattr(middleware, "finish", finish)
    await async_client.get("/async/missing/")
    assert seen == [loop_thread, loop_thread]
    assert len(audit.lines()) == 1
