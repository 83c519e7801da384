"""Views of the demo shop: plain Django views, a JSON login, and a DRF ViewSet."""

import json

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers, viewsets

from .models import Account


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def item_detail(request: HttpRequest, pk: int) -> JsonResponse:
    if pk > 100:
        return JsonResponse({"detail": "not found"}, status=404)
    return JsonResponse({"id": pk, "name": f"item {pk}"})


@csrf_exempt
def login_view(request: HttpRequest) -> JsonResponse:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return JsonResponse({"detail": "bad json"}, status=400)
    user = authenticate(request, username=data.get("username"), password=data.get("password"))
    if user is None:
        return JsonResponse({"detail": "invalid credentials"}, status=401)
    login(request, user)
    return JsonResponse({"detail": "welcome"})


@csrf_exempt
def logout_view(request: HttpRequest) -> JsonResponse:
    logout(request)
    return JsonResponse({"detail": "bye"})


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("simulated failure")


class AccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "name", "email", "api_key"]


class AccountViewSet(viewsets.ModelViewSet):
    queryset = Account.objects.all().order_by("id")
    serializer_class = AccountSerializer
    throttle_scope = "accounts"
