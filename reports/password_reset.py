"""Password reset on the portal (the admin's « mot de passe oublié » link leads here too): Django's
flow with French templates.

The link in the e-mail is built on IPEP_SITE_URL, never on the Host header of the request. Completing
a reset lifts the login lock-out of the account (django-axes): its owner has just proved that they
hold the mailbox, and would otherwise stay locked out with their new password.
"""

from __future__ import annotations

from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

SECONDS_PER_HOUR = 3600


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "portal/password_reset_form.html"
    email_template_name = "portal/email/password_reset.txt"
    subject_template_name = "portal/email/password_reset_subject.txt"
    success_url = reverse_lazy("portal:password_reset_done")

    @property
    def extra_email_context(self):
        return {
            "site_url": settings.IPEP_SITE_URL.rstrip("/"),
            "validity_hours": settings.PASSWORD_RESET_TIMEOUT // SECONDS_PER_HOUR,
        }


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "portal/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "portal/password_reset_confirm.html"
    success_url = reverse_lazy("portal:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        reset_lockout(username=form.user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "portal/password_reset_complete.html"
