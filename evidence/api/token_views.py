"""API token pages: list my tokens, make one (its secret shown once), revoke. Managers also see and may
revoke every token in the organisation, and may make tokens for service accounts."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from evidence.models import ApiToken
from isms.foundation import reach
from isms.foundation.permissions import role_required
from isms.foundation.roles import STAFF

from . import services
from .forms import TokenForm


@role_required(STAFF)
def token_list(request):
    tokens = reach.visible(request.user, ApiToken).select_related("user", "created_by", "revoked_by")
    context = {
        "mine": tokens.filter(user=request.user),
        "others": tokens.exclude(user=request.user) if reach.is_manager(request.user) else None,
        "now": timezone.now(),
    }
    return render(request, "evidence/api_tokens.html", context)


@never_cache
@role_required(STAFF)
def token_create(request):
    form = TokenForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        token, secret = services.token_create(
            user=form.cleaned_data.get("acts_as") or request.user,
            by=request.user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_at=form.expires_at(),
        )
        # Rendered, not redirected: the secret exists only in this response and is never stored.
        context = {"token": token, "secret": secret, "tasks_url": f"{settings.SITE_URL}{reverse('api:tasks')}"}
        return render(request, "evidence/api_tokens_created.html", context)
    return render(request, "evidence/api_tokens_form.html", {"form": form})


@require_POST
@role_required(STAFF)
def token_revoke(request, pk: int):
    token = reach.get_or_404(request, ApiToken, "revoke", pk=pk)
    if token.is_revoked:
        messages.info(request, f"“{token.name}” was already revoked.")
    else:
        services.token_revoke(token=token, by=request.user)
        messages.success(request, f"Revoked “{token.name}”: it stops working at once.")
    return redirect("api:tokens")
