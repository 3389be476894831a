"""The organisation's name for headers, feeds and PDFs, without the foundation knowing the organisation app:
the organisation app registers the provider when it starts."""

from collections.abc import Callable

_provider: list[Callable[[], str]] = []


def register(provider: Callable[[], str]) -> None:
    _provider[:] = [provider]


def organisation_name() -> str:
    """The name people know the organisation by; "ISMS" before one is recorded."""
    return (_provider[0]() if _provider else "") or "ISMS"
