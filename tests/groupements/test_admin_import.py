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
    response = import_file(
        client, "groupement", "groupements.csv", "code;nom;vague;region\nG013;MSP de Sète;V2;Occitanie\n"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "G013" in body
    assert "confirm" in body.lower()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "name", "content", "message"),
    [
        (
            "groupement",
            "groupements.csv",
            "code;nom;vague;region\nG013;MSP de Sète;V9;Occitanie\n",
            "groupements.csv:2: vague: unknown wave &#x27;V9&#x27;",
        ),
        (
            "member",
            "membres.csv",
            "code_groupement;rpps;date_debut;date_fin\nG002;123;2020-01-01;\n",
            "membres.csv:2: rpps: RPPS must be 11 digits",
        ),
        (
            "member",
            "membres.csv",
            "code_groupement;rpps;date_debut;date_fin\nG002;19999999999;2020-01-01;2019-01-01\n",
            "membres.csv:2: date_fin: end date 2019-01-01 is before start date 2020-01-01",
        ),
        (
            "yearlydecile",
            "deciles.csv",
            "annee;code_indicateur;d2;d3;d7;d8\n2023;VACC_GRIPPE;5;4;6;7\n",
            "deciles.csv:2: d2: deciles must satisfy d2 &lt; d3 ≤ d7 &lt; d8",
        ),
        (
            "patientexperience",
            "experience.csv",
            "annee;code_groupement;points\n2023;G001;21\n",
            "experience.csv:2: points: must be between 0 and 20",
        ),
        (
            "indicator",
            "indicateurs.csv",
            "code;libelle;famille;sens\nX;Y;optionnel;hausse\n",
            "indicateurs.csv:2: famille: must be one of socle, carte",
        ),
    ],
)
def test_a_broken_file_is_refused_with_line_level_messages(client, data_manager, model, name, content, message):
    before = (Groupement.objects.count(), Member.objects.count())
    response = import_file(client, model, name, content)
    assert message in response.content.decode()
    assert (Groupement.objects.count(), Member.objects.count()) == before


def import_and_confirm(client, model, name, content: bytes):
    """The two admin steps: upload (dry run, preview) then confirm; returns the preview response."""
    url = reverse(f"admin:groupements_{model}_import")
    response = client.post(
        url, {"import_file": SimpleUploadedFile(name, content, content_type="text/csv"), "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    confirm = response.context.get("confirm_form")
    assert confirm is not None, response.content.decode()
    done = client.post(reverse(f"admin:groupements_{model}_process_import"), confirm.initial)
    assert done.status_code == 302, done.content.decode()
    return response


@pytest.mark.django_db
def test_admin_import_reads_values_as_load_bundle_does(client, data_manager):
    """Section 3 conventions accepted by load_bundle are accepted, with the same meaning, by the admin:
    empty date_fin (still member), DD/MM/YYYY dates, upper-case headers, trimmed values, Windows-1252."""
    import_and_confirm(
        client,
        "member",
        "membres.csv",
        "CODE_GROUPEMENT;RPPS;Date_Debut;date_fin\n G002 ;19999999999;01/02/2020;\n\nG003;19999999998;2020-01-01;31/12/2021\n".encode(
            "cp1252"
        ),
    )
    assert Member.objects.get(rpps="19999999999").groupement.code == "G002"
    assert (str(Member.objects.get(rpps="19999999999").start), Member.objects.get(rpps="19999999999").end) == (
        "2020-02-01",
        None,
    )
    assert str(Member.objects.get(rpps="19999999998").end) == "2021-12-31"
    import_and_confirm(
        client,
        "groupement",
        "groupements.csv",
        "code;nom;vague;region\nG013;Maison de santé de Sète;V2;Occitanie\n".encode("cp1252"),
    )
    assert Groupement.objects.get(code="G013").name == "Maison de santé de Sète"


@pytest.mark.django_db
def test_admin_import_of_yearly_tables_takes_decimal_comma_and_empty_previous_value(client, data_manager):
    from groupements.models import IndicatorResult, PatientExperience

    import_and_confirm(client, "patientexperience", "experience.csv", b"annee;code_groupement;points\n2023;G001;16,4\n")
    assert str(PatientExperience.objects.get(year=2023, groupement__code="G001").points) == "16.4000"
    import_and_confirm(
        client,
        "indicatorresult",
        "resultats.csv",
        b"annee;code_groupement;code_indicateur;valeur_n;valeur_n_1\n2022;G001;VACC_GRIPPE;63,5;\n",
    )
    result = IndicatorResult.objects.get(year=2022, groupement__code="G001", indicator__code="VACC_GRIPPE")
    assert (str(result.value_n), result.value_n_1) == ("63.500000", None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "content", "message"),
    [
        # Stored periods are kept by an admin import: an RPPS may not be in two places on the same day.
        (
            "member",
            "code_groupement;rpps;date_debut;date_fin\nG002;10139478570;2020-01-01;\n",
            "f.csv:2: rpps: RPPS 10139478570 is already a member of G001 on that date",
        ),
        (
            "yearlydecile",
            "annee;code_indicateur;d2;d3;d7;d8\nabc;VACC_GRIPPE;1;2;3;4\n",
            "f.csv:2: annee: not a year (4 digits): &#x27;abc&#x27;",
        ),
        (
            "yearlydecile",
            "annee;code_indicateur;d2;d3;d7;d8\n23;VACC_GRIPPE;5;4;6;7\n",
            "f.csv:2: annee: not a year (4 digits): &#x27;23&#x27;",
        ),
        # Physical line numbers of the upload, whatever the years' order.
        (
            "yearlydecile",
            "annee;code_indicateur;d2;d3;d7;d8\n2023;VACC_GRIPPE;1;2;3;4\n\n2022;VACC_GRIPPE;1;2;3;4\n2023;VACC_GRIPPE;5;4;6;7\n",
            "f.csv:5: d2: deciles must satisfy d2 &lt; d3 ≤ d7 &lt; d8",
        ),
    ],
)
def test_admin_import_refusals_name_the_upload_line_without_traceback(client, data_manager, model, content, message):
    from groupements.models import YearlyDecile

    before = (Member.objects.count(), YearlyDecile.objects.count())
    response = import_file(client, model, "f.csv", content)
    body = response.content.decode()
    assert message in body
    assert "Traceback" not in body
    assert "Fichier refusé : rien n'a été importé." in body
    assert (Member.objects.count(), YearlyDecile.objects.count()) == before
