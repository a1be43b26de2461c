"""URLs of the message centre (included at the site root)."""

from django.urls import path

from . import views

urlpatterns = [
    path("messages/", views.message_list, name="message_list"),
    path("messages/<int:pk>/read/", views.message_read, name="message_read"),
    path("messages/read-all/", views.message_read_all, name="message_read_all"),
]
