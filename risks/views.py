from django.shortcuts import render

from isms.foundation.permissions import role_required
from isms.foundation.roles import STAFF


@role_required(STAFF)
def index(request):
    return render(request, "risks/index.html")
