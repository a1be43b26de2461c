"""URLs of the imports app (included at the site root)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
