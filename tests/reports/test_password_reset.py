"""Password reset in French on the portal (and from the admin's login page), with the locmem e-mail
backend: request, e-mail, link, new password, login through django-axes; a completed reset lifts the
account's lock-out; nothing tells whether an address has an account."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD
from tests.typography import plain

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Une-nouvelle-phrase-de-passe-2026"
LOCKED = "Trop de tentatives de connexion échouées"


def login(client, username, password):
    return client.post(reverse("portal:login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7")


def reset_link(message) -> str:
    match = re.search(r"^(https?://\S+/mot-de-passe/nouveau/\S+/)$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


@pytest.fixture
def director(make_user):
    return make_user(username="directrice.g001", email="directrice@msp-saint-amand.fr", first_name="Anne")


def test_the_whole_flow_in_french_from_the_login_page(client, director, mailoutbox, settings):
    settings.IPEP_SITE_URL = "https://ipep.example.org/"
    login_page = plain(client.get(reverse("portal:login")).content.decode())
    assert f'href="{reverse("portal:password_reset")}"' in login_page and "Mot de passe oublié ?" in login_page

    form_page = plain(client.get(reverse("portal:password_reset")).content.decode())
    assert "Adresse électronique" in form_page and "Recevoir le lien" in form_page
    response = client.post(reverse("portal:password_reset"), {"email": "Directrice@msp-saint-amand.fr"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:password_reset_done")
    assert "un courriel vient de lui être envoyé" in plain(client.get(response["Location"]).content.decode())

    (message,) = mailoutbox
    assert message.to == ["directrice@msp-saint-amand.fr"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert plain(message.subject) == "IPEP – réinitialisation de votre mot de passe"
    body = plain(message.body)
    assert body.startswith("Bonjour Anne")
    assert "(directrice.g001)" in body and "valable 72 heures, une seule fois" in body
    link = reset_link(message)
    assert link.startswith("https://ipep.example.org/mot-de-passe/nouveau/")  # the site's address, not the Host

    # Django swaps the token for a session key before showing the form.
    path = link.removeprefix("https://ipep.example.org")
    form_url = client.get(path)["Location"]
    page = plain(client.get(form_url).content.decode())
    assert "Choisissez votre nouveau mot de passe" in page
    refused = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert "Les deux mots de passe ne correspondent pas." in plain(refused.content.decode())
    too_short = plain(client.post(form_url, {"new_password1": "abc", "new_password2": "abc"}).content.decode())
    assert "Ce mot de passe est trop court." in too_short
    done = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == reverse("portal:password_reset_complete")
    assert "Votre nouveau mot de passe est enregistré" in plain(client.get(done["Location"]).content.decode())

    # The new password opens the portal through the normal login (django-axes' backend); the old one no longer.
    assert login(client, director.username, PASSWORD).status_code == 200
    assert login(client, director.username, NEW_PASSWORD).status_code == 302
    # The link served once.
    client.logout()
    stale = plain(client.get(path, follow=True).content.decode())
    assert "Ce lien n'est plus valable" in stale


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, director, mailoutbox):
    response = client.post(reverse("portal:password_reset"), {"email": "personne@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("portal:password_reset_done")
    assert mailoutbox == []


def test_a_reset_lifts_the_lockout_of_the_account(client, director, mailoutbox):
    for _ in range(settings.IPEP_LOGIN_MAX_FAILURES):
        response = login(client, director.username, "mauvais-mot-de-passe")
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert login(client, director.username, PASSWORD).status_code == 429

    client.post(reverse("portal:password_reset"), {"email": director.email})
    path = "/" + reset_link(mailoutbox[0]).split("/", 3)[3]
    form_url = client.get(path)["Location"]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert login(client, director.username, NEW_PASSWORD).status_code == 302


def test_the_admin_login_page_links_to_the_reset(client):
    page = plain(client.get(reverse("admin:login")).content.decode())
    assert f'href="{reverse("admin_password_reset")}"' in page
    assert "oublié" in page  # Django's own French: « Mot de passe ou nom d’utilisateur oublié ? »
    assert client.get(reverse("admin_password_reset")).status_code == 200
