from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from isms.accounts.roles import MANAGERS, STAFF, Role
from isms.core.permissions import role_required

from .models import EvidenceItem


@role_required(STAFF)
def index(request):
    return render(request, "evidence/index.html")


@role_required(MANAGERS | {Role.AUDITOR})
def portal(request):
    """The auditor's landing page: the engagements they were granted (none until engagements exist)."""
    return render(request, "evidence/portal.html")


def evidence_visible_to(user):
    """Evidence a user may read: everything for managers and viewers; an owner's own and their tasks'."""
    qs = EvidenceItem.objects.all()
    if user.is_manager or user.role == Role.VIEWER:
        return qs
    if user.role == Role.OWNER:
        return qs.filter(Q(submitted_by=user) | Q(occurrence__owner=user))
    return qs.none()


@role_required(STAFF)
def download(request, pk: int):
    """Stream an evidence file as an attachment, never inline: uploaded HTML must not run in our origin."""
    item = get_object_or_404(evidence_visible_to(request.user), pk=pk, type=EvidenceItem.Type.FILE)
    try:
        handle = item.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    response = FileResponse(handle, as_attachment=True, filename=item.original_name or f"evidence-{item.pk}")
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    return response
