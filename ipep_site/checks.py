"""Deployment checks of the site's own settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

ADDRESS_LIMIT_FACTOR = 10


@register(Tags.security, deploy=True)
def address_lockout_well_above_account_lockout(app_configs, **kwargs):
    """The address-only limit locks everyone behind an address: it must not be reached by a spray that
    the per-account limit already stops (ipep_site.lockout)."""
    per_account, per_address = settings.IPEP_LOGIN_MAX_FAILURES, settings.IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS
    if per_address >= ADDRESS_LIMIT_FACTOR * per_account:
        return []
    return [
        Warning(
            f"IPEP_LOGIN_MAX_FAILURES_PER_ADDRESS ({per_address}) est trop proche de IPEP_LOGIN_MAX_FAILURES "
            f"({per_account}) : quelques échecs depuis une adresse bloqueraient tous les comptes derrière elle.",
            hint=f"Donnez-lui au moins {ADDRESS_LIMIT_FACTOR} fois IPEP_LOGIN_MAX_FAILURES.",
            id="ipep.W001",
        )
    ]


# Backends that deliver nothing: fine for the demo and the tests, not in production.
UNDELIVERED_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@register(deploy=True)
def emails_are_delivered(app_configs, **kwargs):
    """Publication notices and password-reset links must reach their recipients (settings: EMAIL_URL)."""
    if settings.EMAIL_BACKEND not in UNDELIVERED_EMAIL_BACKENDS:
        return []
    return [
        Warning(
            f"Les courriels ne sont pas envoyés (EMAIL_BACKEND = {settings.EMAIL_BACKEND}) : ni les avis de "
            "publication ni les liens de réinitialisation du mot de passe ne parviendront aux destinataires.",
            hint="Indiquez le serveur SMTP : EMAIL_URL (smtp+tls://utilisateur:mot-de-passe@hôte:587) ou EMAIL_HOST.",
            id="ipep.W002",
        )
    ]
