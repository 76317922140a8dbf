"""The admin import of a reference table applies the bundle's rules and shows the same messages."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from groupements import roles
from groupements.models import Groupement, Member


def import_file(client, model, name, content):
    url = reverse(f"admin:groupements_{model}_import")
    upload = SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")
    return client.post(url, {"import_file": upload, "format": "0", "resource": "0"})


@pytest.fixture
def data_manager(client, make_user, loaded_reference):
    user = make_user(role=roles.DATA_MANAGER)
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_a_valid_groupement_file_reaches_the_confirmation_page(client, data_manager):
    response = import_file(client, "groupement", "groupements.csv", "code;nom;vague;region\nG013;MSP de Sète;V2;Occitanie\n")
    assert response.status_code == 200
    body = response.content.decode()
    assert "G013" in body
    assert "confirm" in body.lower()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "name", "content", "message"),
    [
        ("groupement", "groupements.csv", "code;nom;vague;region\nG013;MSP de Sète;V9;Occitanie\n", "groupements.csv:2: vague: unknown wave &#x27;V9&#x27;"),
        ("member", "membres.csv", "code_groupement;rpps;date_debut;date_fin\nG002;123;2020-01-01;\n", "membres.csv:2: rpps: RPPS must be 11 digits"),
        ("member", "membres.csv", "code_groupement;rpps;date_debut;date_fin\nG002;19999999999;2020-01-01;2019-01-01\n", "membres.csv:2: date_fin: end date 2019-01-01 is before start date 2020-01-01"),
        ("yearlydecile", "deciles.csv", "annee;code_indicateur;d2;d3;d7;d8\n2023;VACC_GRIPPE;5;4;6;7\n", "deciles.csv:2: d2: deciles must satisfy d2 &lt; d3 ≤ d7 &lt; d8"),
        ("patientexperience", "experience.csv", "annee;code_groupement;points\n2023;G001;21\n", "experience.csv:2: points: must be between 0 and 20"),
        ("indicator", "indicateurs.csv", "code;libelle;famille;sens\nX;Y;optionnel;hausse\n", "indicateurs.csv:2: famille: must be one of socle, carte"),
    ],
)
def test_a_broken_file_is_refused_with_line_level_messages(client, data_manager, model, name, content, message):
    before = (Groupement.objects.count(), Member.objects.count())
    response = import_file(client, model, name, content)
    assert message in response.content.decode()
    assert (Groupement.objects.count(), Member.objects.count()) == before
