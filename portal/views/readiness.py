"""readiness pages (being written)."""

urlpatterns: list = []
