"""Views exercising every path of the middleware: plain, raising, streaming, async, auth."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

from django.contrib.auth import authenticate, login, logout
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from rest_framework import serializers, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny

from sec_audit.core.context import get_context

from .models import Account

SEEN_CONTEXTS: list[object] = []


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok-body")


def slugged(request: HttpRequest, slug: str) -> HttpResponse:
    return HttpResponse(slug)


def item(request: HttpRequest, pk: int) -> HttpResponse:
    if pk != 1:
        raise Http404("no such item")
    return HttpResponse("item")


def status(request: HttpRequest, code: int) -> HttpResponse:
    return HttpResponse(f"status {code}", status=code)


def absolute(request: HttpRequest) -> HttpResponse:
    # Calls get_host(): a disallowed Host makes Django answer 400.
    return HttpResponse(request.build_absolute_uri())


def redirect(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect("/ok/")


class Boom(RuntimeError):
    pass


def boom(request: HttpRequest) -> HttpResponse:
    raise Boom("secret detail token=abc")


def echo(request: HttpRequest) -> HttpResponse:
    # Reads the body after the middleware did: the stream must still be usable.
    return HttpResponse(request.body, status=201, content_type="application/octet-stream")


def echo_json(request: HttpRequest) -> HttpResponse:
    data = json.loads(request.body)
    return JsonResponse({"keys": sorted(data)}, status=201)


def read_stream(request: HttpRequest) -> HttpResponse:
    # Consumes the raw stream (file-like read), as upload handlers do.
    return HttpResponse(request.read(), status=201)


def stream(request: HttpRequest) -> StreamingHttpResponse:
    def chunks() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    return StreamingHttpResponse(chunks(), status=200)


def stream_404(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(iter([b"gone"]), status=404)


def context_probe(request: HttpRequest) -> HttpResponse:
    SEEN_CONTEXTS.append(get_context())
    return HttpResponse("probe", status=404)


def do_login(request: HttpRequest) -> HttpResponse:
    user = authenticate(
        request,
        username=request.POST.get("username", ""),
        password=request.POST.get("password", ""),
    )
    if user is None:
        return HttpResponse("denied", status=401)
    login(request, user)
    return HttpResponse("welcome")


def do_logout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponse("bye")


def create_account(request: HttpRequest) -> HttpResponse:
    acct = Account.objects.create(name="alpha", api_key="sk_live_SHOULDNOTLEAK")
    return HttpResponse(str(acct.pk), status=201)


async def async_ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("async-ok")


async def async_404(request: HttpRequest) -> HttpResponse:
    SEEN_CONTEXTS.append(get_context())
    return HttpResponse("async-missing", status=404)


async def async_boom(request: HttpRequest) -> HttpResponse:
    raise Boom("async failure")


async def async_stream(request: HttpRequest) -> StreamingHttpResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"x"
        yield b"y"

    return StreamingHttpResponse(chunks(), status=500)


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "balance"]


class AccountViewSet(viewsets.ModelViewSet):
    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    authentication_classes = [SessionAuthentication]
    permission_classes = [AllowAny]
    throttle_scope = "accounts"
