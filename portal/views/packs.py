"""packs pages (being written)."""

urlpatterns: list = []
