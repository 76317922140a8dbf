"""The product is French only: an English browser still gets French pages (dates included)."""

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_an_english_browser_gets_the_french_login_page(client):
    response = client.get(reverse("portal:login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "fr"
    assert "Mot de passe" in response.content.decode()
