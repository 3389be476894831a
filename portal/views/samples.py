"""samples pages (being written)."""

urlpatterns: list = []
