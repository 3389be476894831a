"""The evidence API: tokens, evidence pushed by scripts, and the token owner's tasks (see docs/api.md)."""
