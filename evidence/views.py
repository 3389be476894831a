from django.shortcuts import render

from isms.accounts.roles import MANAGERS, STAFF, Role
from isms.core.permissions import role_required


@role_required(STAFF)
def index(request):
    return render(request, "evidence/index.html")


@role_required(MANAGERS | {Role.AUDITOR})
def portal(request):
    """The auditor's landing page: the engagements they were granted (none until engagements exist)."""
    return render(request, "evidence/portal.html")
