"""Forms of the portal: login (also the admin's) and contestations."""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from .services import MAX_CONTESTATION_LENGTH


class LockoutMessageMixin:
    """Says so when django-axes refused the login (ipep_site.lockout) instead of « wrong password »:
    axes marks the request locked out, whether this attempt reached the limit or came after it."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                raise ValidationError(settings.AXES_COOLOFF_MESSAGE, code="locked_out") from None
            raise


class PortalAuthenticationForm(LockoutMessageMixin, AuthenticationForm):
    pass


class StaffAuthenticationForm(LockoutMessageMixin, AdminAuthenticationForm):
    pass


class ContestationForm(forms.Form):
    message = forms.CharField(
        label="Votre contestation",
        max_length=MAX_CONTESTATION_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 6, "placeholder": "Indiquez le point contesté et ce qui vous paraît inexact."}
        ),
    )
