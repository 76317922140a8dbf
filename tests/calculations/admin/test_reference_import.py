"""The upload page of a reference table applies the bundle's rules and shows the same messages."""

import html
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from groupements import roles
from groupements.models import Groupement, Member
from tests.typography import plain


def import_file(client, model, name, content, **data):
    upload = SimpleUploadedFile(name, content if isinstance(content, bytes) else content.encode("utf-8"))
    return client.post(reverse("reference_import", args=[model]), {"file": upload, **data})


@pytest.fixture
def data_manager(client, make_user, loaded_reference):
    user = make_user(role=roles.DATA_MANAGER)
    client.force_login(user)
    return user


@pytest.mark.django_db
def test_a_valid_groupement_file_is_checked_without_saving_then_imported(client, data_manager):
    content = "code;nom;vague;region\nG013;MSP de Sète;V2;Occitanie\nG001;MSP de Saint-Amand;V1;Île-de-France\n"
    response = import_file(client, "groupement", "groupements.csv", content, dry_run="on")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Fichier conforme : rien n'a été enregistré" in plain(body)
    assert "groupements: 1 créé(s), 0 modifié(s), 1 inchangé(s), 0 supprimé(s)" in body
    assert not Groupement.objects.filter(code="G013").exists()

    response = import_file(client, "groupement", "groupements.csv", content)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:groupements_groupement_changelist")
    assert Groupement.objects.get(code="G013").wave.code == "V2"
    page = client.get(response["Location"]).content.decode()
    assert (
        "Groupements: 1 créé(s), 0 modifié(s), 1 inchangé(s), 0 supprimé(s)" in page
    )  # the admin capitalises messages


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "name", "content", "message"),
    [
        (
            "groupement",
            "groupements.csv",
            "code;nom;vague;region\nG013;MSP de Sète;V9;Occitanie\n",
            "groupements.csv:2: vague: vague inconnue «\u202fV9\u202f»",
        ),
        (
            "member",
            "membres.csv",
            "code_groupement;rpps;date_debut;date_fin\nG002;123;2020-01-01;\n",
            "membres.csv:2: rpps: le RPPS doit comporter 11 chiffres",
        ),
        (
            "member",
            "membres.csv",
            "code_groupement;rpps;date_debut;date_fin\nG002;19999999999;2020-01-01;2019-01-01\n",
            "membres.csv:2: date_fin: la date de fin 01/01/2019 précède la date de début 01/01/2020",
        ),
        (
            "yearlydecile",
            "deciles.csv",
            "annee;code_indicateur;d2;d3;d7;d8\n2023;VACC_GRIPPE;5;4;6;7\n",
            "deciles.csv:2: d2: les déciles doivent vérifier d2 < d3 ≤ d7 < d8",
        ),
        (
            "patientexperience",
            "experience.csv",
            "annee;code_groupement;points\n2023;G001;21\n",
            "experience.csv:2: points: doit être compris entre 0 et 20",
        ),
        (
            "indicator",
            "indicateurs.csv",
            "code;libelle;famille;sens\nX;Y;optionnel;hausse\n",
            "indicateurs.csv:2: famille: doit valoir «\u202fsocle\u202f» ou «\u202fcarte\u202f»",
        ),
    ],
)
def test_a_broken_file_is_refused_with_line_level_messages(client, data_manager, model, name, content, message):
    before = (Groupement.objects.count(), Member.objects.count())
    response = import_file(client, model, name, content)
    assert plain(message) in plain(html.unescape(response.content.decode()))
    assert (Groupement.objects.count(), Member.objects.count()) == before


def import_and_confirm(client, model, name, content: bytes):
    """A checked upload (nothing saved), then the import itself; returns the import's response."""
    checked = import_file(client, model, name, content, dry_run="on")
    assert checked.status_code == 200 and checked.context["checked"] is not None, checked.content.decode()
    done = import_file(client, model, name, content)
    assert done.status_code == 302, done.content.decode()
    return done


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
    assert PatientExperience.objects.get(year=2023, groupement__code="G001").points == Decimal("16.4")
    import_and_confirm(
        client,
        "indicatorresult",
        "resultats.csv",
        b"annee;code_groupement;code_indicateur;valeur_n;valeur_n_1\n2022;G001;VACC_GRIPPE;63,5;\n",
    )
    result = IndicatorResult.objects.get(year=2022, groupement__code="G001", indicator__code="VACC_GRIPPE")
    assert (result.value_n, result.value_n_1) == (Decimal("63.5"), None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "content", "message"),
    [
        # Stored periods are kept by an admin import: an RPPS may not be in two places on the same day.
        (
            "member",
            "code_groupement;rpps;date_debut;date_fin\nG002;10139478570;2020-01-01;\n",
            "f.csv:2: rpps: le RPPS 10139478570 est déjà membre de G001 à cette date (période enregistrée du 01/01/2019 au …)",
        ),
        (
            "yearlydecile",
            "annee;code_indicateur;d2;d3;d7;d8\nabc;VACC_GRIPPE;1;2;3;4\n",
            "f.csv:2: annee: ce n'est pas une année (4 chiffres)\u202f: «\u202fabc\u202f»",
        ),
        (
            "yearlydecile",
            "annee;code_indicateur;d2;d3;d7;d8\n23;VACC_GRIPPE;5;4;6;7\n",
            "f.csv:2: annee: ce n'est pas une année (4 chiffres)\u202f: «\u202f23\u202f»",
        ),
        # Physical line numbers of the upload, whatever the years' order.
        (
            "yearlydecile",
            "annee;code_indicateur;d2;d3;d7;d8\n2023;VACC_GRIPPE;1;2;3;4\n\n2022;VACC_GRIPPE;1;2;3;4\n2023;VACC_GRIPPE;5;4;6;7\n",
            "f.csv:5: d2: les déciles doivent vérifier d2 < d3 ≤ d7 < d8",
        ),
    ],
)
def test_admin_import_refusals_name_the_upload_line_without_traceback(client, data_manager, model, content, message):
    from groupements.models import YearlyDecile

    before = (Member.objects.count(), YearlyDecile.objects.count())
    response = import_file(client, model, "f.csv", content)
    body = response.content.decode()
    assert plain(message) in plain(html.unescape(body))
    assert "Traceback" not in body
    assert "Fichier refusé : rien n'a été importé." in plain(body)
    assert (Member.objects.count(), YearlyDecile.objects.count()) == before


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["groupement", "member", "indicatorresult", "yearlydecile"])
@pytest.mark.parametrize("spreadsheet", [False, True], ids=["csv", "xlsx"])
def test_a_table_exported_from_the_admin_imports_back_unchanged(client, data_manager, model, spreadsheet):
    from django.apps import apps
    from import_export.formats.base_formats import XLSX

    from tests.admin_exports import export_form_data

    model_class = apps.get_model("groupements", model)
    exported = client.post(
        reverse(f"admin:groupements_{model}_export"),
        export_form_data(model_class, XLSX if spreadsheet else None, data_manager),
    )
    assert exported.status_code == 200, exported.content[:500]
    rows = model_class.objects.count()

    response = import_file(client, model, "export.xlsx" if spreadsheet else "export.csv", exported.content)

    assert response.status_code == 302, response.content.decode()
    page = client.get(response["Location"]).content.decode()
    assert f"0 créé(s), 0 modifié(s), {rows} inchangé(s), 0 supprimé(s)" in page
    assert model_class.objects.count() == rows


@pytest.mark.django_db
def test_a_yearly_file_writes_each_of_its_years_and_updates_a_member_period(client, data_manager):
    from groupements.models import YearlyDecile

    import_and_confirm(
        client,
        "yearlydecile",
        "deciles.csv",
        b"code_indicateur;annee;d2;d3;d7;d8\nVACC_GRIPPE;2023;1;2;3;4\nVACC_GRIPPE;2024;1,5;2;3;4\n",
    )
    assert [(d.year, d.d2) for d in YearlyDecile.objects.filter(indicator__code="VACC_GRIPPE").order_by("year")][
        -2:
    ] == [(2023, Decimal(1)), (2024, Decimal("1.5"))]
    # The same RPPS and start date: the stored period is the one the row replaces (not an overlap).
    import_and_confirm(
        client,
        "member",
        "membres.csv",
        b"code_groupement;rpps;date_debut;date_fin\nG001;10139478570;2019-01-01;2022-06-30\n",
    )
    assert str(Member.objects.get(rpps="10139478570").end) == "2022-06-30"


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["groupement", "patientexperience"])
def test_a_file_that_is_not_csv_is_refused_by_name(client, data_manager, model):
    response = import_file(client, model, "scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")
    assert "scan.pdf:1: -: ce n'est pas un fichier texte CSV : il ressemble à un document PDF" in plain(
        html.unescape(response.content.decode())
    )


@pytest.mark.django_db
def test_a_damaged_workbook_and_a_too_large_file_are_refused(client, data_manager, monkeypatch):
    from calculations.admin import reference_import

    response = import_file(client, "groupement", "groupements.xlsx", b"PK\x03\x04 not really a workbook")
    assert "groupements.xlsx: -: not a readable XLSX workbook" in response.content.decode()
    monkeypatch.setattr(reference_import, "MAX_FILE_SIZE", 10)
    response = import_file(client, "groupement", "groupements.csv", "code;nom;vague;region\nG013;X;V2;Y\n")
    assert "Fichier trop volumineux" in response.content.decode()
    assert not Groupement.objects.filter(code="G013").exists()


@pytest.mark.django_db
def test_only_reference_tables_have_an_upload_page(client, data_manager):
    assert client.get(reverse("reference_import", args=["portalaccess"])).status_code == 404
    assert client.get(reverse("reference_import", args=["ledgerline"])).status_code == 404


@pytest.mark.django_db
@pytest.mark.postgres
def test_an_upload_is_in_the_audit_trail_with_its_author(client, data_manager, settings):
    if not settings.USES_POSTGRES:
        pytest.skip("pghistory records nothing on SQLite: set DATABASE_URL to PostgreSQL")
    from pghistory.models import Events

    from groupements.models import PatientExperience

    experience = PatientExperience.objects.get(year=2022, groupement__code="G001")
    import_and_confirm(client, "patientexperience", "experience.csv", b"annee;code_groupement;points\n2022;G001;12,5\n")

    [update] = Events.objects.tracks(experience).filter(pgh_label="update")
    assert update.pgh_diff["points"] == [16.4, 12.5]
    assert update.pgh_context["user"] == data_manager.pk
