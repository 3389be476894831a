from django.shortcuts import render

from isms.accounts.roles import STAFF
from isms.foundation.permissions import role_required


@role_required(STAFF)
def index(request):
    return render(request, "risks/index.html")
