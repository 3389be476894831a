"""The permission matrix, shared part: how an entry is declared, the actors, the objects a URL takes, and the
check of one response. Each app declares its URLs in `tests/<app>/permission_matrix.py` as `MATRIX`; the
collecting test is tests/test_permission_matrix.py.

An entry says who passes the URL's role gate; everything else follows from a few rules, and any case can be
overridden by name in `expect`:

    Entry("maintenance:occurrence", STAFF, owned="occurrence")

reads: signed-out and deactivated users are sent to the login page; roles outside STAFF (the auditor) get
the 403 page; managers and viewers reach both the owner's occurrence and the other owner's; a control owner
reaches their own and gets `on_others` (404 by default: not visible) on someone else's.

    Entry("maintenance:complete", STAFF, method="post", owned="occurrence", expect={"viewer": DENIED})

adds one exception: viewers see every task but may not complete one (403). `expect` takes an actor and either
one outcome or one per object, `{"owner": {"own": OK, "other": HIDDEN}}`.

Actors (ACTORS): admin, compliance, owner, other_owner (a second control owner), viewer, auditor (no
engagement: an outsider to every staff page), engaged_auditor (an auditor with an engagement open today over
every framework and area: still an outsider to every staff page, reaching the portal; unless an entry names it in
`expect`, it gets what `auditor` gets), inactive (a deactivated control owner) and anonymous.

Objects: `owned="occurrence"` runs each signed-in actor twice, on "own" (the object of `owner`; for `inactive`,
the twin of it that the deactivated user owns) and on "other" (the object of `other_owner`); anonymous runs
once, on "own". `obj="cycle_audit"` is one object nobody owns (or a fixed holder, see KINDS). Objects are
built lazily, only those a case asks for, so a case costs what it uses.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from isms.foundation.roles import MANAGERS, Role

PUBLIC = "public"  # served to anyone, signed in or not: the entry's `everyone` outcome applies to all actors

# --------------------------------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcome:
    """What a case must answer. `kind` decides the check (see `check`); `statuses` the accepted codes."""

    kind: str
    statuses: tuple[int, ...]

    def __repr__(self) -> str:
        return f"{self.kind}{list(self.statuses)}"


#: Allowed: the page (200), a redirect that is not to the login page (302), or an API resource made (201).
OK = Outcome("allowed", (200, 201, 302))
#: Refused by role or by a rule on a visible object: the 403 page that says "have access" (API: a 403).
DENIED = Outcome("forbidden", (403,))
#: Not visible to this user: 404, so ids cannot be probed.
HIDDEN = Outcome("hidden", (404,))
#: Not signed in (or deactivated): a redirect to the login page (API: 401).
LOGIN = Outcome("login", (302,))


def status(*codes: int) -> Outcome:
    """Exactly these status codes, nothing else checked (for public pages with their own refusals)."""
    return Outcome("status", codes)


# --------------------------------------------------------------------------------------------------- actors

ACTORS = (
    "admin",
    "compliance",
    "owner",
    "other_owner",
    "viewer",
    "auditor",
    "engaged_auditor",
    "inactive",
    "anonymous",
)
ROLE_OF = {
    "admin": Role.ADMIN,
    "compliance": Role.COMPLIANCE,
    "owner": Role.OWNER,
    "other_owner": Role.OWNER,
    "viewer": Role.VIEWER,
    "auditor": Role.AUDITOR,
    "engaged_auditor": Role.AUDITOR,
    "inactive": Role.OWNER,
    "anonymous": None,
}
#: The conftest fixture that makes each actor (tests/conftest.py).
FIXTURE_OF = {
    "admin": "admin_user",
    "compliance": "compliance",
    "owner": "owner",
    "other_owner": "other_owner",
    "viewer": "viewer",
    "auditor": "auditor",
    "engaged_auditor": "engaged_auditor",
    "inactive": "inactive_user",
}
SIGNED_OUT = {"anonymous", "inactive"}  # Django signs a deactivated user out on their next request
SEES_ALL = MANAGERS | {Role.VIEWER}  # roles that reach every object of a page they pass the role gate of

# --------------------------------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Entry:
    """One URL (by name) and method, the roles its gate lets through, and what each actor gets.

    owned:     an object kind (KINDS) the URL takes, tested as "own" and "other" for every signed-in actor.
    obj:       an object kind tested once (organisation-wide objects, or one with a fixed holder).
    kwargs:    the URL's kwargs from the object (default {"pk": obj.pk}); data: the request body from it.
    on_others: what a control owner gets on an object they do not hold (default 404: not visible).
    refused:   what an actor whose role is outside `roles` gets (default: the 403 page).
    everyone:  for PUBLIC entries, what every actor gets (default: allowed).
    expect:    overrides, by actor: one Outcome, or {"own": Outcome, "other": Outcome}.
    xfail:     {actor: reason}: those cases are expected to fail today (not strict).
    signs_out: the allowed answer is a redirect to the login page (logout).
    api:       the URL takes a bearer token, not a session: each actor sends a token of their own; LOGIN is 401.
    label:     tells apart two entries for the same URL, method and object in test ids.
    """

    name: str
    roles: frozenset | str
    method: str = "get"
    owned: str | None = None
    obj: str | None = None
    kwargs: Callable[[Any], dict] | None = None
    data: Callable[[Any], dict] | None = None
    on_others: Outcome = HIDDEN
    refused: Outcome = DENIED
    everyone: Outcome = OK
    expect: Mapping[str, Outcome | Mapping[str, Outcome]] = field(default_factory=dict)
    xfail: Mapping[str, str] = field(default_factory=dict)
    signs_out: bool = False
    api: bool = False
    label: str = ""

    def __post_init__(self):
        assert not (self.owned and self.obj), f"{self.name}: an entry takes `owned` or `obj`, not both"
        for kind in (self.owned, self.obj):
            assert kind is None or kind in KINDS, f"{self.name}: no object kind {kind!r} in tests/matrix.py KINDS"
        for actor in (*self.expect, *self.xfail):
            assert actor in ACTORS, f"{self.name}: unknown actor {actor!r}"

    @property
    def kind(self) -> str | None:
        return self.owned or self.obj

    @property
    def id(self) -> str:
        method = "" if self.method == "get" else f":{self.method}"
        kind = f"@{self.kind}" if self.kind else ""
        label = f"[{self.label}]" if self.label else ""
        return f"{self.name}{method}{kind}{label}"


def holder_of(entry: Entry, actor: str, whose: str | None) -> str | None:
    """The actor who holds the object of this case (None: the object has no holder, or there is none)."""
    if entry.owned:
        if whose == "own":
            return "inactive" if actor == "inactive" else "owner"
        return "other_owner"
    if entry.obj:
        return KINDS[entry.obj].holder
    return None


def expected(entry: Entry, actor: str, whose: str | None) -> Outcome:
    """The outcome of one case: the override if `expect` names it, else the rules in the module docstring."""
    override = entry.expect.get(actor)
    if override is None and actor == "engaged_auditor":
        override = entry.expect.get("auditor")
    if isinstance(override, Mapping):
        override = override.get(whose)
    if override is not None:
        return override
    if entry.roles == PUBLIC:
        return entry.everyone
    if actor in SIGNED_OUT:
        return LOGIN
    role = ROLE_OF[actor]
    if role not in entry.roles:
        return entry.refused
    holder = holder_of(entry, actor, whose)
    if holder is None or holder == actor or role in SEES_ALL:
        return OK
    return entry.on_others


def cases(entries: list[Entry]) -> list:
    """One pytest param per entry × actor × object ("own"/"other"; anonymous: "own" only)."""
    params = []
    for entry in entries:
        for actor in ACTORS:
            if entry.owned:
                whose_list = ("own",) if actor == "anonymous" else ("own", "other")
            elif entry.obj:
                whose_list = ("one",)
            else:
                whose_list = (None,)
            for whose in whose_list:
                marks = []
                if actor in entry.xfail:
                    marks.append(pytest.mark.xfail(reason=entry.xfail[actor], strict=False))
                case_id = "-".join(part for part in (entry.id, actor, whose) if part)
                params.append(pytest.param(entry, actor, whose, marks=marks, id=case_id))
    return params


# --------------------------------------------------------------------------------------------------- objects


@dataclass(frozen=True)
class Kind:
    """How to build one kind of object for a holder (a user, or None), and who holds the `obj=` instance."""

    build: Callable[[Objects, Any], Any]
    holder: str | None = None  # for `obj=` kinds: the actor holding the single instance


KINDS: dict[str, Kind] = {}


def kind(name: str, holder: str | None = None):
    """Decorator: register an object builder `build(objects, holder_user)` under `name`."""

    def register(build):
        KINDS[name] = Kind(build, holder)
        return build

    return register


class Objects:
    """The actors and objects of one test, built on first use and kept for the rest of the test."""

    def __init__(self, request):
        self._request = request
        self._made: dict[tuple, Any] = {}

    def actor(self, name: str | None):
        if name is None or name == "anonymous":
            return None
        return self._request.getfixturevalue(FIXTURE_OF[name])

    def of(self, kind_name: str, holder):
        """The object of `kind_name` held by `holder` (a user or None), built once."""
        key = (kind_name, getattr(holder, "pk", None))
        if key not in self._made:
            self._made[key] = KINDS[kind_name].build(self, holder)
        return self._made[key]

    def for_case(self, entry: Entry, actor: str, whose: str | None):
        if not entry.kind:
            return None
        return self.of(entry.kind, self.actor(holder_of(entry, actor, whose)))


@kind("schedule")
def _schedule(objs: Objects, holder):
    from tests.factories import make_schedule

    return make_schedule(owner=holder, title=f"Monthly scan ({holder.username})")


@kind("occurrence")
def _occurrence(objs: Objects, holder):
    return objs.of("schedule", holder).occurrences.order_by("due_date").first()


@kind("viewer_task", holder="viewer")
def _viewer_task(objs: Objects, holder):
    """A task owned by the viewer (leadership may own work too: see may_own_work)."""
    return objs.of("occurrence", objs.actor("viewer"))


@kind("control")
def _control(objs: Objects, holder):
    """The holder's control, mapped to a requirement of its own (no one else's control maps to it)."""
    from tests.factories import make_control, make_requirement

    ref = f"C-{holder.username}"
    requirement = make_requirement(identifier=f"9.{holder.pk}", title=f"Requirement of {holder.username}")
    return make_control(holder, reference=ref, name=f"Control {ref}", requirements=[requirement])


@kind("requirement")
def _requirement(objs: Objects, holder):
    """The requirement the holder's control (and no other) is mapped to."""
    return objs.of("control", holder).requirements.get()


@kind("evidence")
def _evidence(objs: Objects, holder):
    """A file the holder submitted on their own task."""
    from evidence.services import evidence_add_file

    return evidence_add_file(
        upload=SimpleUploadedFile("scan.txt", b"scan report"),
        by=holder,
        source="web",
        occurrence=objs.of("occurrence", holder),
    )


@kind("control_evidence")
def _control_evidence(objs: Objects, holder):
    """A note the compliance manager filed on the holder's control: the holder reads it as its owner."""
    from evidence.services import evidence_add_note

    return evidence_add_note(
        note="Reviewed", by=objs.actor("compliance"), source="web", control=objs.of("control", holder)
    )


@kind("token")
def _token(objs: Objects, holder):
    return bearer_token(holder)[0]


@kind("feed")
def _feed(objs: Objects, holder):
    from isms.maintenance.feeds import user_feed

    return user_feed(holder)


@kind("org_feed")
def _org_feed(objs: Objects, holder):
    from isms.maintenance.feeds import organisation_feed

    return organisation_feed()


@kind("cycle_audit")
def _cycle_audit(objs: Objects, holder):
    from tests.factories import make_certificate

    return make_certificate().audits.first()


@kind("framework")
def _framework(objs: Objects, holder):
    from tests.factories import make_requirement

    return make_requirement().framework


@kind("soa_entry")
def _soa_entry(objs: Objects, holder):
    """A working SoA line of the Annex A framework."""
    from controls.models import SoAEntry
    from controls.services import soa_entries_ensure
    from tests.factories import make_requirement

    requirement = make_requirement()
    soa_entries_ensure(requirement.framework)
    return SoAEntry.objects.get(requirement=requirement)


@kind("soa_version")
def _soa_version(objs: Objects, holder):
    """An approved SoA version (the second, so it has a previous one to compare with)."""
    from controls.services import soa_approve
    from tests.factories import make_requirement

    framework = make_requirement().framework
    soa_approve(framework=framework, by=objs.actor("compliance"))
    return soa_approve(framework=framework, by=objs.actor("compliance"))


def bearer_token(user):
    """An API token with every scope for `user`, made directly (the service refuses deactivated and non-staff
    users, whose tokens the matrix still sends to see them refused). Returns (token, secret)."""
    from evidence.api.services import hash_secret
    from evidence.models import ApiToken

    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        created_by=user,
        name="matrix",
        prefix=secret[:8],
        key_hash=hash_secret(secret),
        scopes=sorted(ApiToken.Scope.values),
    )
    return token, secret


# --------------------------------------------------------------------------------------------------- running


def run(client, objs: Objects, entry: Entry, actor: str, whose: str | None):
    """Send the case's request as the actor (a session, or for API entries a bearer token)."""
    obj = objs.for_case(entry, actor, whose)
    kwargs = entry.kwargs(obj) if entry.kwargs else ({"pk": obj.pk} if obj is not None else {})
    data = entry.data(obj) if entry.data else {}
    user = objs.actor(actor)
    extra = {}
    if entry.api:
        if user is not None:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {bearer_token(user)[1]}"
        if entry.method == "post":
            extra["content_type"] = "application/json"
    elif user is not None:
        client.force_login(user)
    return getattr(client, entry.method)(reverse(entry.name, kwargs=kwargs), data, **extra)


def check(response, outcome: Outcome, entry: Entry, where: str) -> None:
    """Assert that `response` is `outcome`; `where` names the case in the failure message."""
    got = response.status_code
    location = response.get("Location", "")
    login = reverse("login")
    said = f"{where}: expected {outcome!r}, got {got} {location}".rstrip()
    if outcome.kind == "login" and entry.api:
        assert got == 401, said
        return
    assert got in outcome.statuses, said
    if outcome.kind == "allowed" and got == 302:
        if entry.signs_out:
            assert location.startswith(login), f"{said}: a sign-out ends on the login page"
        else:
            assert not location.startswith(login), f"{said}: sent to the login page"
    elif outcome.kind == "login":
        # Django admin goes through /admin/login/, which forwards to our login page.
        assert location.startswith((login, "/admin/login/")), f"{said}: not sent to the login page"
    elif outcome.kind == "forbidden" and not entry.api:
        assert b"have access" in response.content, f"{said}: not the 403 page"
