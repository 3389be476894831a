"""evidence_requests pages (being written)."""

urlpatterns: list = []
