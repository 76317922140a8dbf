"""E-mail backend from the environment: the console in the demo, SMTP from EMAIL_URL or EMAIL_HOST in
production, and a deploy warning (ipep.W002) when production would deliver nothing."""

import json

from tests.site.test_settings import run_manage

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k3#J9v!qZ2x@L7m$P0w&R5t*Y8u^E1n(B4c)D6f-G9h+S2a=Q7e",
    "DJANGO_ALLOWED_HOSTS": "example.org",
}
NAMES = ["EMAIL_BACKEND", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS"]
SCRIPT = f"import json; from django.conf import settings as s; print(json.dumps({{n: getattr(s, n) for n in {NAMES}}}))"


def email_settings(**env) -> dict:
    clean = {"EMAIL_URL": "", "EMAIL_HOST": ""} | env
    result = run_manage("shell", "-c", SCRIPT, **clean)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_demo_prints_e_mails_on_the_console():
    assert email_settings()["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_smtp_from_email_url():
    values = email_settings(EMAIL_URL="smtp+tls://ipep%40cpam.fr:s3cret@smtp.example.org:587")
    assert values == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "ipep@cpam.fr",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": True,
    }


def test_smtp_from_email_host_and_its_companions():
    values = email_settings(
        EMAIL_HOST="relais.example.org", EMAIL_PORT="2525", EMAIL_HOST_USER="ipep", EMAIL_USE_TLS="1"
    )
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (values["EMAIL_HOST"], values["EMAIL_PORT"], values["EMAIL_HOST_USER"]) == (
        "relais.example.org",
        2525,
        "ipep",
    )
    assert values["EMAIL_USE_TLS"] is True


def test_production_without_smtp_is_warned_by_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", EMAIL_URL="", EMAIL_HOST="", **PRODUCTION)
    assert result.returncode != 0
    assert "ipep.W002" in result.stderr + result.stdout
    assert "Les courriels ne sont pas envoyés" in result.stderr + result.stdout


def test_smtp_asked_by_backend_alone_goes_to_the_local_relay():
    values = email_settings(DJANGO_EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend")
    assert (values["EMAIL_BACKEND"], values["EMAIL_HOST"], values["EMAIL_PORT"]) == (
        "django.core.mail.backends.smtp.EmailBackend",
        "localhost",
        25,
    )
