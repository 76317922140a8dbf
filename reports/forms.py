"""Forms of the portal: throttled login (also used by the admin login) and contestations."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from . import throttle
from .services import MAX_CONTESTATION_LENGTH


class LoginThrottleMixin:
    """Refuses a login attempt past the failure limits (reports.throttle) before checking the password."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Trop de tentatives de connexion échouées. Réessayez dans %(minutes)s minutes.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = throttle.client_address(self.request)
        if throttle.is_locked(username, address):
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, throttle.lockout_seconds() // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if getattr(error, "code", None) == "invalid_login":
                throttle.record_failure(username, address)
            raise
        # No error is also what a form with an empty password gives (the field error is not raised
        # from clean()): only a real authentication resets the counter.
        if self.get_user() is not None:
            throttle.record_success(username, address)
        return cleaned


class PortalAuthenticationForm(LoginThrottleMixin, AuthenticationForm):
    pass


class StaffAuthenticationForm(LoginThrottleMixin, AdminAuthenticationForm):
    error_messages = {**LoginThrottleMixin.error_messages, **AdminAuthenticationForm.error_messages}


class ContestationForm(forms.Form):
    message = forms.CharField(
        label="Votre contestation",
        max_length=MAX_CONTESTATION_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": "Indiquez le point contesté et ce qui vous paraît inexact."}
        ),
    )
