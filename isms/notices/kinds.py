"""What each kind of notice says and when it still applies, declared by the app that sends it.

The engine knows no domain: an app registers its kinds in its `ready()` (or in a module `ready()` imports):

    register(NoticeKind("maintenance.reminder", template="maintenance/email/reminder",
                        still_applies=reminder_applies, context=task_context))

`headers(notice)` adds email headers of its own (a digest's List-Id and List-Unsubscribe).
`template` names three templates (`<name>_subject.txt`, `<name>.txt`, `<name>.html`, see foundation.emails);
`context(notice, today)` gives what they need; `still_applies(notice, today)` is asked right before sending,
so a reminder for a task done meanwhile is cancelled instead of sent."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from .models import Notice


def _always(notice: Notice, today: datetime.date) -> bool:
    return True


def _nothing(notice: Notice, today: datetime.date) -> dict:
    return {}


def _no_headers(notice: Notice) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class NoticeKind:
    name: str
    template: str
    still_applies: Callable[[Notice, datetime.date], bool] = field(default=_always)
    context: Callable[[Notice, datetime.date], dict] = field(default=_nothing)
    headers: Callable[[Notice], dict[str, str]] = field(default=_no_headers)


_KINDS: dict[str, NoticeKind] = {}


def register(kind: NoticeKind) -> NoticeKind:
    _KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> NoticeKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No notice kind {name!r} is registered") from None
