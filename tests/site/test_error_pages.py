"""DEBUG is off unless asked (a forgotten variable never shows a traceback), and errors are French pages
without inline code (CSP): 404, 403, 400, 500."""

import pytest
from django.test import RequestFactory
from django.views import defaults

from tests.site.test_settings import run_manage
from tests.typography import plain

SHOW_DEBUG = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"


def test_debug_is_off_unless_asked_and_production_is_declared():
    assert run_manage("shell", "--no-imports", "-c", SHOW_DEBUG).stdout.split() == [
        "False",
        "False",
    ]  # embedded: plain cookies
    assert run_manage("shell", "--no-imports", "-c", SHOW_DEBUG, DJANGO_DEBUG="1").stdout.split() == ["True", "False"]
    production = run_manage(
        "shell",
        "--no-imports",
        "-c",
        SHOW_DEBUG,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="x" * 60,
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    assert production.stdout.split() == ["False", "True"], production.stderr


@pytest.mark.django_db
def test_an_unknown_page_is_a_french_404(client):
    response = client.get("/cette-page-n-existe-pas/")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="fr">' in page and "Page introuvable" in page and "Retour à l'accueil du portail" in plain(page)
    assert "Not Found" not in page and "<style" not in page and "<script" not in page


@pytest.mark.parametrize(
    ("view", "status", "title"),
    [
        (lambda r: defaults.server_error(r), 500, "Erreur du serveur"),
        (lambda r: defaults.permission_denied(r, Exception()), 403, "Accès refusé"),
        (lambda r: defaults.bad_request(r, Exception()), 400, "Requête invalide"),
    ],
)
def test_other_errors_are_french_pages(view, status, title):
    response = view(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == status and f"<h1>{title}</h1>" in page and '<html lang="fr">' in page
    assert "Server Error" not in page and "Forbidden" not in page and "Bad Request" not in page
