"""Permission matrix: samples pages (tests/portal/permission_matrix.py collects it)."""

MATRIX: list = []
