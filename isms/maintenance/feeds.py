"""ICS feeds and the printable calendar PDF (being written)."""

urlpatterns: list = []
