"""Permission matrix: evidence_requests pages (tests/portal/permission_matrix.py collects it)."""

MATRIX: list = []
