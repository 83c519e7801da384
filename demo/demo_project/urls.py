from django.urls import include, path
from rest_framework.routers import DefaultRouter

from shop import views

router = DefaultRouter()
router.register("accounts", views.AccountViewSet, basename="account")

urlpatterns = [
    path("health/", views.health),
    path("items/<int:pk>/", views.item_detail, name="item-detail"),
    path("auth/login/", views.login_view, name="login"),
    path("auth/logout/", views.logout_view, name="logout"),
    path("boom/", views.boom),
    path("api/", include(router.urls)),
]
