from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register(r"accounts", views.AccountViewSet, basename="account")

urlpatterns = [
    path("ok/", views.ok, name="ok"),
    path("health/", views.ok),
    path("items/<int:pk>/", views.item, name="item-detail"),
    path("status/<int:code>/", views.status, name="status"),
    path("redirect/", views.redirect, name="redirect"),
    path("absolute/", views.absolute, name="absolute"),
    path("boom/", views.boom, name="boom"),
    path("echo/", views.echo, name="echo"),
    path("echo-json/", views.echo_json, name="echo-json"),
    path("read-stream/", views.read_stream),
    path("stream/", views.stream, name="stream"),
    path("stream-404/", views.stream_404),
    path("probe/", views.context_probe, name="probe"),
    path("login/", views.do_login, name="login"),
    path("logout/", views.do_logout, name="logout"),
    path("accounts-create/", views.create_account, name="create-account"),
    path("async/ok/", views.async_ok, name="async-ok"),
    path("async/missing/", views.async_404, name="async-missing"),
    path("async/boom/", views.async_boom),
    path("async/stream/", views.async_stream),
    re_path(r"^unnamed/(?P<slug>[a-z]+)/$", views.slugged),
    path("api/", include(router.urls)),
]
