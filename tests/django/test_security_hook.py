"""B4 in a normal project: requests Django rejects as suspicious before AuditMiddleware.

`CommonMiddleware` sits before `AuditMiddleware` here (as in most projects), so a
disallowed Host makes Django answer 400 before our middleware runs; the security hook
(`sec_audit.django.security_hook`, attached to `django.security` at start-up) writes the
line. Every test asserts the real lines and exactly one per request.
"""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client
from django.urls import path

import django
from sec_audit.django import security_hook
from sec_audit.django.checks import check_sec_audit

AUDIT = "sec_audit.django.middleware.AuditMiddleware"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
COMMON = "django.middleware.common.CommonMiddleware"
CSRF = "django.middleware.csrf.CsrfViewMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
READS_POST = f"{__name__}.reads_post_middleware"

COMMON_FIRST = [SECURITY, SESSION, COMMON, CSRF, AUTH, AUDIT]
AUDIT_FIRST = [SESSION, AUTH, AUDIT, COMMON, CSRF]

DISALLOWED = "django.core.exceptions.DisallowedHost"
TOO_BIG = "django.core.exceptions.RequestDataTooBig"
TOO_MANY = "django.core.exceptions.TooManyFieldsSent"


# --- this module is the URLconf of these tests --------------------------------------


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok-body")


def form(request: HttpRequest) -> HttpResponse:
    # Reading request.POST raises RequestDataTooBig / TooManyFieldsSent in the view.
    return HttpResponse(str(len(request.POST)))


def raw_body(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(len(request.body)))


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered token")


urlpatterns = [
    path("ok/", ok, name="ok"),
    path("form/", form, name="form"),
    path("raw/", raw_body, name="raw"),
    path("suspicious/", suspicious, name="suspicious"),
]


def reads_post_middleware(get_response: Callable[[HttpRequest], Any]) -> Any:
    """A middleware that reads the form before AuditMiddleware runs."""

    def middleware(request: HttpRequest) -> Any:
        if request.method == "POST":
            request.POST  # noqa: B018 - may raise RequestDataTooBig
        return get_response(request)

    return middleware


# --- fixtures -----------------------------------------------------------------------


@pytest.fixture
def project(settings: Any) -> Any:
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = COMMON_FIRST
    return settings


@pytest.fixture
def security_records() -> Iterator[list[logging.LogRecord]]:
    """Django's own records on django.security.* (it still logs them as before)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep = Keep()
    logger = logging.getLogger("django.security")
    logger.addHandler(keep)
    try:
        yield records
    finally:
        logger.removeHandler(keep)


@pytest.fixture
def hook_loggers() -> Iterator[None]:
    """Restore the hook loggers' state after a test that reconfigures them."""
    saved = []
    for name in security_hook.HOOK_LOGGERS:
        lg = logging.getLogger(name)
        saved.append((lg, list(lg.handlers), lg.propagate, lg.level, lg.disabled))
    try:
        yield
    finally:
        for lg, handlers, propagate, level, disabled in saved:
            for h in list(lg.handlers):
                lg.removeHandler(h)
            for h in handlers:
                lg.addHandler(h)
            lg.propagate, lg.disabled = propagate, disabled
            lg.setLevel(level)
        security_hook.install()


def client() -> Client:
    return Client(raise_request_exception=False)


def hook_handler_count() -> list[int]:
    return [
        len(security_hook.installed_handlers(logging.getLogger(name)))
        for name in security_hook.HOOK_LOGGERS
    ]


# --- disallowed Host before AuditMiddleware -----------------------------------------


def test_disallowed_host_rejected_by_common_middleware_is_audited(project, audit, security_records):
    response = client().get("/ok/", HTTP_HOST="evil.example", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 400
    (event,) = audit.events()
    assert event["severity_text"] == "WARNING"
    assert event["event_name"] == "http.response.client_error"
    attrs = event["attributes"]
    assert attrs["http.response.status_code"] == 400
    assert attrs["http.request.header.host"] == "evil.example"
    assert "url.full" not in attrs
    assert attrs["url.path"] == "/ok/"
    assert attrs["source.address"] == "203.0.113.7"
    assert attrs["http.request.method"] == "GET"
    assert attrs["outcome"] == "failure"
    assert attrs["error.type"] == DISALLOWED
    assert len(attrs["request_id"]) == 32
    # Rejected before URL resolution and before the view: no route, no duration.
    assert "http.route" not in attrs
    assert "duration_ns" not in attrs
    # Django's own logging is unchanged: one record, on its usual logger.
    assert [r.name for r in security_records] == ["django.security.DisallowedHost"]


def test_attribute_order_is_the_middlewares(project, audit):
    client().get("/ok/", HTTP_HOST="evil.example", HTTP_USER_AGENT="curl/8")
    assert list(audit.attrs()) == [
        "event_type",
        "schema_version",
        "request_id",
        "source.address",
        "http.request.method",
        "http.response.status_code",
        "url.path",
        "action.name",
        "action.method",
        "action.result",
        "outcome",
        "http.request.header.host",
        "user_agent.original",
        "error.type",
    ]


@pytest.mark.parametrize(
    "host",
    [
        'evil.example\r\nX-Injected: 1\r\n\r\n{"event_type": "forged"}',
        "evil.example:80" + "h" * 10_000,
        "\u00e9vil\x00\x1b[31m.example" + "\n" * 5_000,
    ],
    ids=["crlf", "10kb", "controls"],
)
def test_hostile_host_is_escaped_and_bounded(project, audit, host):
    response = client().get("/ok/", HTTP_HOST=host)
    assert response.status_code == 400
    (line,) = audit.lines()
    assert "\r" not in line and "\n" not in line and "\x00" not in line and "\x1b" not in line
    assert len(line) < 2_000  # the 10 KB host does not reach the line
    attrs = json.loads(line)["attributes"]
    expected = host if len(host) <= 256 else host[:256] + "[TRUNCATED]"
    assert attrs["http.request.header.host"] == expected
    assert attrs["error.type"] == DISALLOWED
    assert "url.full" not in attrs


def test_silenced_disallowed_host_logger_is_still_audited(
    project, audit, hook_loggers, security_records
):
    # The usual recipe to keep DisallowedHost out of the error mails, applied after
    # start-up: dictConfig drops our handler from the logger it names.
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"null": {"class": "logging.NullHandler"}},
            "loggers": {
                "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False}
            },
        }
    )
    assert hook_handler_count() == [1, 0]
    # The next request re-attaches it (request_started) before any middleware runs.
    client().get("/ok/", HTTP_HOST="evil.example")
    assert hook_handler_count() == [1, 1]
    assert audit.attrs()["http.request.header.host"] == "evil.example"
    assert security_records == []  # Django's record stayed silenced


def test_same_handler_on_both_loggers_writes_one_line(project, audit):
    # The record propagates from django.security.DisallowedHost to django.security: our
    # handler sees it twice and writes once.
    assert hook_handler_count() == [1, 1]
    (h1,) = security_hook.installed_handlers(logging.getLogger("django.security"))
    (h2,) = security_hook.installed_handlers(logging.getLogger("django.security.DisallowedHost"))
    assert h1 is h2
    client().get("/ok/", HTTP_HOST="evil.example")
    client().get("/ok/", HTTP_HOST="evil.example")
    assert len(audit.lines()) == 2  # two requests, two lines


def test_audit_middleware_before_common_middleware_writes_one_line(project, audit):
    project.MIDDLEWARE = AUDIT_FIRST
    response = client().get("/ok/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    attrs = audit.attrs()  # exactly one line
    # The middleware wrote it (it was running): with its duration, and error.type.
    assert attrs["http.response.status_code"] == 400
    assert attrs["http.request.header.host"] == "evil.example"
    assert attrs["error.type"] == DISALLOWED
    assert isinstance(attrs["duration_ns"], int)
    assert "url.full" not in attrs


def test_allowed_host_is_untouched(project, audit, security_records):
    audit.configure({"core": {"log_ok_responses": True}})
    client().get("/ok/")
    attrs = audit.attrs()
    assert attrs["url.full"] == "http://testserver/ok/"
    assert "error.type" not in attrs and "http.request.header.host" not in attrs
    assert security_records == []


def test_ignore_paths_and_ignore_status_codes_apply(project, audit):
    audit.configure({"core": {"ignore_paths": [r"^/ok/"]}})
    client().get("/ok/", HTTP_HOST="evil.example")
    assert audit.lines() == []
    audit.configure({"core": {"ignore_status_codes": [400]}})
    client().get("/ok/", HTTP_HOST="evil.example")
    assert audit.lines() == []
    audit.configure({})
    client().get("/ok/", HTTP_HOST="evil.example")
    assert len(audit.lines()) == 1


def test_session_id_and_request_context_fields(project, audit, db):
    # SessionMiddleware ran before the rejection: the line correlates like any other.
    audit.configure({"django": {"emit_session_id": True}})
    c = client()
    c.get("/ok/", HTTP_HOST="evil.example")
    first = audit.attrs()
    assert len(first["session.id"]) == 32
    audit.clear()
    c.get("/ok/", HTTP_HOST="evil.example")
    assert audit.attrs()["session.id"] == first["session.id"]
    assert audit.attrs()["request_id"] != first["request_id"]


def test_async_disallowed_host_before_audit_middleware(project, audit):
    import asyncio

    async def go() -> int:
        response = await AsyncClient(raise_request_exception=False).get(
            "/ok/", headers={"host": "evil.example"}
        )
        return int(response.status_code)

    assert asyncio.run(go()) == 400
    attrs = audit.attrs()
    assert attrs["http.request.header.host"] == "testserver,evil.example"
    assert attrs["error.type"] == DISALLOWED
    assert "url.full" not in attrs


# --- other SuspiciousOperations answered with 400 -----------------------------------

FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "middleware", [COMMON_FIRST, AUDIT_FIRST], ids=["common-first", "audit-first"]
)
def test_request_data_too_big_in_the_view(project, audit, middleware):
    # Raised inside the view (request.POST): AuditMiddleware is running, so it writes the
    # line itself (route, duration) and the hook only adds error.type.
    project.MIDDLEWARE = middleware
    project.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client().post("/form/", "a=" + "x" * 500, content_type=FORM)
    assert response.status_code == 400
    attrs = audit.attrs()
    assert attrs["http.response.status_code"] == 400
    assert attrs["error.type"] == TOO_BIG
    assert attrs["http.route"] == "/form/"
    assert isinstance(attrs["duration_ns"], int)
    assert attrs["url.full"] == "http://testserver/form/"
    assert "request.body" not in attrs


def test_request_data_too_big_with_json_body_capture(project, audit):
    # Capture is on and max_body_bytes allows the body, but Django refuses to read it:
    # the capture gives up quietly, the view's request.body raises, one 400 line.
    audit.configure({"core": {"log_request_bodies": True, "max_body_bytes": 4096}})
    project.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"password": "hunter2", "pad": "x" * 500})
    response = client().post("/raw/", body, content_type="application/json")
    assert response.status_code == 400
    attrs = audit.attrs()
    assert attrs["error.type"] == TOO_BIG
    assert "request.body" not in attrs
    audit.assert_no_secrets()


def test_too_many_fields_in_the_view(project, audit):
    project.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = client().post("/form/", "&".join(f"f{i}=1" for i in range(50)), content_type=FORM)
    assert response.status_code == 400
    attrs = audit.attrs()
    assert attrs["error.type"] == TOO_MANY
    assert attrs["http.route"] == "/form/"


def test_plain_suspicious_operation_in_the_view(project, audit):
    response = client().get("/suspicious/")
    assert response.status_code == 400
    attrs = audit.attrs()
    assert attrs["error.type"] == "django.core.exceptions.SuspiciousOperation"
    assert attrs["http.route_name"] == "suspicious"


def test_request_data_too_big_in_an_earlier_middleware(project, audit, security_records):
    # A middleware before AuditMiddleware reads the form: Django answers 400 there.
    project.MIDDLEWARE = [SESSION, READS_POST, COMMON, AUTH, AUDIT]
    project.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client().post("/form/", "a=" + "x" * 500, content_type=FORM)
    assert response.status_code == 400
    attrs = audit.attrs()
    assert attrs["error.type"] == TOO_BIG
    assert attrs["url.full"] == "http://testserver/form/"
    assert attrs["http.request.method"] == "POST"
    assert "http.route" not in attrs and "duration_ns" not in attrs
    assert [r.name for r in security_records] == ["django.security.RequestDataTooBig"]


def test_csrf_reading_a_too_big_form_is_one_line(project, audit):
    # CsrfViewMiddleware reads request.POST in process_view (inside AuditMiddleware).
    project.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    c = Client(enforce_csrf_checks=True, raise_request_exception=False)
    c.cookies["csrftoken"] = "a" * 32  # a well-formed cookie: the token is read next
    response = c.post("/form/", "a=" + "x" * 500, content_type=FORM)
    assert response.status_code == 400
    attrs = audit.attrs()
    assert attrs["error.type"] == TOO_BIG
    assert isinstance(attrs["duration_ns"], int)


def test_csrf_rejection_is_written_by_the_middleware_without_error_type(project, audit):
    # django.security.csrf logs the 403 with request and status_code while our
    # middleware is running: the middleware writes the (only) line, as before.
    c = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = c.post("/form/", "a=1", content_type=FORM)
    assert response.status_code == 403
    attrs = audit.attrs()
    assert attrs["http.response.status_code"] == 403
    assert attrs["http.route"] == "/form/"
    assert "error.type" not in attrs


def test_records_without_a_request_are_ignored(project, audit, internal):
    # e.g. SuspiciousSession: logged by the session backend, no request, no 400.
    logging.getLogger("django.security.SuspiciousSession").warning("Session data corrupted")
    logging.getLogger("django.security").error("x", extra={"request": HttpRequest()})
    logging.getLogger("django.security").error("x", extra={"status_code": 400})
    assert audit.lines() == []
    assert internal.records == []


def test_a_bare_request_record_outside_any_middleware(project, audit):
    # Anything log_response-shaped on django.security is audited once, even a bare
    # request without host information (D7-like: no URL fields).
    request = HttpRequest()
    request.method = "GET"
    logging.getLogger("django.security.DisallowedHost").error(
        "x", extra={"request": request, "status_code": 400}
    )
    logging.getLogger("django.security.DisallowedHost").error(
        "x", extra={"request": request, "status_code": 400}
    )
    attrs = audit.attrs()
    assert attrs["http.response.status_code"] == 400
    assert "url.full" not in attrs and "error.type" not in attrs


# --- fail-open, installation --------------------------------------------------------


def test_fail_open(project, audit, internal, monkeypatch, security_records):
    def broken() -> Any:
        raise RuntimeError("runtime unavailable")

    monkeypatch.setattr(security_hook, "get_runtime", broken)
    response = client().get("/ok/", HTTP_HOST="evil.example")
    assert response.status_code == 400  # Django's answer, unchanged
    assert audit.lines() == []
    assert "audit.security_hook_failed" in internal.reasons()
    assert [r.name for r in security_records] == ["django.security.DisallowedHost"]


def test_install_is_idempotent(project, audit):
    assert hook_handler_count() == [1, 1]
    security_hook.install()
    security_hook.install()
    apps.get_app_config("sec_audit_django").ready()
    assert hook_handler_count() == [1, 1]
    client().get("/ok/", HTTP_HOST="evil.example")
    assert len(audit.lines()) == 1


def test_rerunning_django_setup_reattaches_one_handler(project, audit, hook_loggers):
    # django.setup() re-runs dictConfig; naming 'django' strips the handlers of every
    # existing django.* logger, ours included. Apps are ready already: no ready() call.
    django.setup()
    audit.logger.addHandler(audit.handler)  # LOGGING names sec_audit.audit too
    assert hook_handler_count() == [0, 0]
    client().get("/ok/", HTTP_HOST="evil.example")
    assert hook_handler_count() == [1, 1]
    assert len(audit.lines()) == 1
    django.setup()
    audit.logger.addHandler(audit.handler)
    security_hook.install()
    security_hook.install()
    client().get("/ok/", HTTP_HOST="evil.example")
    assert hook_handler_count() == [1, 1]
    assert len(audit.lines()) == 2


def test_uninstall_and_reinstall(project, audit, hook_loggers):
    security_hook.uninstall()
    assert hook_handler_count() == [0, 0]
    client().get("/ok/", HTTP_HOST="evil.example")
    assert audit.lines() == []  # the documented gap without the hook
    security_hook.install()
    client().get("/ok/", HTTP_HOST="evil.example")
    assert len(audit.lines()) == 1


# --- check W009 ---------------------------------------------------------------------


def w009(messages: list[Any]) -> list[str]:
    return [m.msg for m in messages if m.id == "sec_audit.W009"]


def test_w009_clean_by_default():
    assert w009(check_sec_audit()) == []


def test_w009_logger_level_above_error(hook_loggers):
    logging.getLogger("django.security").setLevel(logging.CRITICAL)
    (msg,) = w009(check_sec_audit())
    assert "'django.security' logger drops ERROR records (effective level CRITICAL)" in msg


def test_w009_handler_removed(hook_loggers):
    security_hook.uninstall()
    (msg,) = w009(check_sec_audit())
    assert "not attached to 'django.security'" in msg


def test_w009_disallowed_host_not_propagating_without_handler(hook_loggers):
    lg = logging.getLogger("django.security.DisallowedHost")
    for h in security_hook.installed_handlers(lg):
        lg.removeHandler(h)
    assert w009(check_sec_audit()) == []  # still reaches the handler on django.security
    lg.propagate = False
    (msg,) = w009(check_sec_audit())
    assert "not attached to 'django.security.DisallowedHost'" in msg


def test_w009_disabled_logger(hook_loggers):
    logging.getLogger("django.security.DisallowedHost").disabled = True
    (msg,) = w009(check_sec_audit())
    assert "'django.security.DisallowedHost' logger is disabled" in msg
