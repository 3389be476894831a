"""What apps above the registers hear from them, without the registers importing them: the audit programme
raises a nonconformity when an incident or a change is closed as revealing one.

    register_nonconformity_listener(listener)  # listener(record=, by=) after the closing is saved
"""

from __future__ import annotations

from collections.abc import Callable

_NONCONFORMITY: dict[str, Callable[..., object]] = {}


def register_nonconformity_listener(listener: Callable[..., object]) -> Callable[..., object]:
    _NONCONFORMITY[f"{listener.__module__}.{listener.__qualname__}"] = listener
    return listener


def nonconformity_revealed(*, record, by) -> None:
    """An incident or a change was closed as revealing a nonconformity: tell every registered listener (in the
    closing's transaction, so the nonconformity and the closing are saved together)."""
    for listener in _NONCONFORMITY.values():
        listener(record=record, by=by)
