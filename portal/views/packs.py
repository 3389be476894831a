"""Evidence packs in the portal: the engagement's packs with their progress, asking for one, downloading one; and
the public page with the key that signs them (an auditor compares its fingerprint)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from isms.foundation import reach
from isms.foundation.exports import content_disposition

from .. import signing
from ..middleware import auditor_post, no_log
from ..models import AuditorAction, EvidencePack, PackState
from ..packs import ACTIVE, pack_path, pack_request
from .common import PortalView, portal_page


def _packs(pv: PortalView):
    return reach.visible(pv.viewer, EvidencePack.objects.filter(engagement=pv.engagement)).select_related(
        "requested_by"
    )


@never_cache
@require_GET
@portal_page
def pack_list(request, pv: PortalView):
    packs = list(_packs(pv))
    request.auditor_log = f"Opened the evidence packs of {pv.engagement.title}"
    return render(
        request,
        "portal/pack_list.html",
        pv.context(
            packs=packs,
            building=any(p.state in ACTIVE for p in packs),
            may_pack=reach.may(request.user, "pack", pv.engagement),
            fingerprint=signing.fingerprint(),
        ),
    )


@require_POST
@auditor_post
@portal_page
def pack_create(request, pv: PortalView):
    request.auditor_action_kind = AuditorAction.Kind.PACK
    try:
        pack_request(by=request.user, engagement=pv.engagement)
    except ValidationError as exc:
        request.auditor_log = f"Asked for an evidence pack of {pv.engagement.title}: refused ({exc.messages[0]})"
        messages.error(request, " ".join(exc.messages))
    else:
        request.auditor_log = f"Asked for an evidence pack of {pv.engagement.title}"
        messages.success(
            request, "The evidence pack is being built. Its progress shows below; download it when it is ready."
        )
    return redirect("portal:packs", engagement=pv.engagement.pk)


@never_cache
@require_GET
@no_log
@portal_page
def pack_progress(request, pv: PortalView, pk: int):
    pack = reach.get_or_404(pv.viewer, _packs(pv), pk=pk)
    if not request.htmx:  # opened as a page, not by the row's polling: the packs page it belongs to
        return redirect("portal:packs", engagement=pv.engagement.pk)
    response = render(request, "portal/pack_row.html", pv.context(pack=pack))
    if pack.state not in (PackState.QUEUED, PackState.BUILDING):
        # Done: the whole page is drawn again, so the build button and the "being built" note follow.
        response["HX-Refresh"] = "true"
    return response


@never_cache
@require_GET
@portal_page
def pack_download(request, pv: PortalView, pk: int):
    pack = reach.get_or_404(pv.viewer, _packs(pv), pk=pk)
    reach.check(request.user, "download", pack)
    if pack.state != PackState.READY or not pack.file:
        raise Http404("This evidence pack is not ready.")
    try:
        stream = open(pack_path(pack), "rb")  # noqa: SIM115 - FileResponse closes it
    except FileNotFoundError:
        raise Http404("This evidence pack's file is no longer kept: ask for a new one.") from None
    request.auditor_log = (
        f"Downloaded the evidence pack of {pv.engagement.title} built {pack.finished_at:%d %b %Y %H:%M} "
        f"(SHA-256 {pack.sha256})"
    )
    response = FileResponse(stream, content_type="application/zip")
    response["Content-Disposition"] = content_disposition(
        f"Evidence pack {pv.engagement.title} {pack.finished_at:%Y-%m-%d}.zip"
    )
    return response


@never_cache
@login_not_required
@require_GET
def pack_key(request):
    """The public key that signs evidence packs and its fingerprint: public, so an auditor can compare."""
    return render(
        request,
        "portal/pack_key.html",
        {"fingerprint": signing.fingerprint(), "public_pem": signing.public_key_pem()},
    )


urlpatterns = [
    path("<int:engagement>/packs/", pack_list, name="packs"),
    path("<int:engagement>/packs/new/", pack_create, name="pack_create"),
    path("<int:engagement>/packs/<int:pk>/progress/", pack_progress, name="pack_progress"),
    path("<int:engagement>/packs/<int:pk>/download/", pack_download, name="pack_download"),
    path("pack-signing-key/", pack_key, name="pack_key"),
]
