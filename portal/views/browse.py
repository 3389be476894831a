"""browse pages (being written)."""

urlpatterns: list = []
