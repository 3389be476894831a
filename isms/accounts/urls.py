from django.urls import include, path

from . import sso, views

people_patterns = [
    path("", views.people, name="people"),
    path("invite/", views.person_invite, name="person_invite"),
    path("<int:pk>/", views.person, name="person"),
    path("<int:pk>/deactivate/", views.person_deactivate, name="person_deactivate"),
    path("<int:pk>/reactivate/", views.person_reactivate, name="person_reactivate"),
    path("<int:pk>/two-step/reset/", views.person_mfa_reset, name="person_mfa_reset"),
    path("<int:pk>/invitation/", views.person_invitation_resend, name="person_invitation_resend"),
    path("departments/", views.departments, name="departments"),
    path("departments/new/", views.department_new, name="department_new"),
    path("departments/<int:pk>/", views.department, name="department"),
    path("departments/<int:pk>/delete/", views.department_delete, name="department_delete"),
]

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("two-step/", views.mfa_settings, name="mfa_settings"),
    path("two-step/code/", views.mfa_verify, name="mfa_verify"),
    path("two-step/set-up/", views.mfa_enrol, name="mfa_enrol"),
    path("two-step/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("two-step/off/", views.mfa_turn_off, name="mfa_turn_off"),
    path("invitation/", views.invitation, name="invitation"),
    path("sso/", sso.sso_start, name="sso_start"),
    path("sso/callback/", sso.sso_callback, name="sso_callback"),
    path("people/", include((people_patterns, "accounts"))),
]
