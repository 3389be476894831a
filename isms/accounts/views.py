"""Sign-in, sign-out and password change, on Django's views with our templates and messages."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.utils.decorators import method_decorator

from isms.foundation.permissions import role_required
from isms.foundation.ratelimit import rate_limited
from isms.foundation.roles import ALL


@method_decorator(login_not_required, name="dispatch")
@method_decorator(rate_limited("sign-in"), name="dispatch")  # posts per address (RATE_LIMIT_*)
class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


@method_decorator(role_required(ALL), name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "registration/password_change.html"

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)

    def get_success_url(self):
        return "/"
