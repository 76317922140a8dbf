"""Reference data in the admin: pages render with filters and search; roles decide who may change what."""

import pytest
from django.urls import reverse

from groupements import roles
from groupements.models import Groupement

REFERENCE_ADMIN = [
    "wave",
    "phasecalendar",
    "groupement",
    "member",
    "indicator",
    "yearlydecile",
    "indicatorresult",
    "patientexperience",
]


@pytest.fixture
def superuser(make_user):
    return make_user(is_superuser=True, is_staff=True)


@pytest.mark.django_db
@pytest.mark.parametrize("model", REFERENCE_ADMIN)
def test_changelist_search_and_export_pages_render(client, superuser, loaded_reference, model):
    client.force_login(superuser)
    url = reverse(f"admin:groupements_{model}_changelist")
    assert client.get(url).status_code == 200
    assert client.get(url, {"q": "G001"}).status_code == 200
    assert client.get(reverse(f"admin:groupements_{model}_export")).status_code == 200
    assert client.get(reverse("reference_import", args=[model])).status_code == 200
    # The change list links to the table's upload page.
    assert reverse("reference_import", args=[model]) in client.get(url).content.decode()


@pytest.mark.django_db
def test_groupement_change_page_lists_its_members(client, superuser, loaded_reference):
    client.force_login(superuser)
    g001 = Groupement.objects.get(code="G001")
    response = client.get(reverse("admin:groupements_groupement_change", args=[g001.pk]))
    assert response.status_code == 200
    assert "10139478570" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "can_view", "can_add"),
    [
        (roles.DATA_MANAGER, True, True),
        (roles.CALCULATOR, True, False),
        (roles.VALIDATOR, True, False),
        (roles.READER, True, False),
    ],
)
def test_roles_decide_who_edits_reference_data(client, make_user, loaded_reference, role, can_view, can_add):
    client.force_login(make_user(role=role))
    assert (client.get(reverse("admin:groupements_groupement_changelist")).status_code == 200) == can_view
    assert (client.get(reverse("admin:groupements_groupement_add")).status_code == 200) == can_add


@pytest.mark.django_db
def test_groupement_user_cannot_enter_the_admin(client, make_user):
    client.force_login(make_user(role=roles.GROUPEMENT_USER))
    response = client.get(reverse("admin:groupements_groupement_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_roles_exist_with_their_permissions():
    from django.contrib.auth.models import Group

    perms = {g.name: set(g.permissions.values_list("content_type__app_label", "codename")) for g in Group.objects.all()}
    assert set(perms) >= set(roles.ALL_ROLES)
    assert ("calculations", "launch_campaign") in perms[roles.CALCULATOR]
    assert ("calculations", "launch_campaign") not in perms[roles.VALIDATOR]
    assert ("calculations", "validate_campaign") in perms[roles.VALIDATOR]
    assert ("calculations", "upload_dataset") in perms[roles.DATA_MANAGER]
    assert ("groupements", "change_groupement") not in perms[roles.READER]
    assert perms[roles.GROUPEMENT_USER] == set()


@pytest.mark.django_db
def test_member_validation_in_the_admin_form(client, superuser, loaded_reference):
    """The model rules (11 digits, end ≥ start, no RPPS in two groupements the same day) apply to admin edits."""
    client.force_login(superuser)
    g002 = Groupement.objects.get(code="G002")
    url = reverse("admin:groupements_member_add")
    for data, message in [
        ({"rpps": "123", "groupement": g002.pk, "start": "2020-01-01"}, "11 chiffres"),
        (
            {"rpps": "19999999999", "groupement": g002.pk, "start": "2020-01-01", "end": "2019-01-01"},
            "postérieure ou égale",
        ),
        ({"rpps": "10139478570", "groupement": g002.pk, "start": "2021-01-01"}, "déjà membre de G001"),
    ]:
        response = client.post(url, data)
        assert response.status_code == 200
        assert message in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model",
    [
        "financing_ledgerline",
        "financing_seedcredit",
        "financing_pilotproject",
        "financing_innovativeactionclaim",
        "groupements_wave",
        "groupements_member",
        "groupements_indicatorresult",
    ],
)
def test_the_reader_sees_every_table_of_the_programme_read_only(client, make_user, model):
    """README: the reader is read-only everywhere, innovative-action claims included."""
    client.force_login(make_user(role=roles.READER))
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:{model}_add")).status_code == 403


@pytest.mark.django_db
def test_two_overlapping_rows_of_one_rpps_in_the_groupement_members_inline_are_refused(
    client, superuser, loaded_reference
):
    from groupements.models import Member

    client.force_login(superuser)
    g002 = Groupement.objects.get(code="G002")
    members = list(g002.members.order_by("pk"))
    data = {
        "code": g002.code,
        "name": g002.name,
        "wave": g002.wave_id,
        "region": g002.region,
        "legal_entity": "",
        "iban": "",
        "active": "on",
        "members-TOTAL_FORMS": len(members) + 2,
        "members-INITIAL_FORMS": len(members),
        "members-MIN_NUM_FORMS": 0,
        "members-MAX_NUM_FORMS": 1000,
    }
    for i, member in enumerate(members):
        data.update(
            {
                f"members-{i}-id": member.pk,
                f"members-{i}-groupement": g002.pk,
                f"members-{i}-rpps": member.rpps,
                f"members-{i}-start": member.start.isoformat(),
                f"members-{i}-end": member.end.isoformat() if member.end else "",
            }
        )
    n = len(members)
    data.update(
        {
            f"members-{n}-groupement": g002.pk,
            f"members-{n}-rpps": "19999999999",
            f"members-{n}-start": "2020-01-01",
            f"members-{n}-end": "",
            f"members-{n + 1}-groupement": g002.pk,
            f"members-{n + 1}-rpps": "19999999999",
            f"members-{n + 1}-start": "2021-01-01",
            f"members-{n + 1}-end": "",
        }
    )
    before = Member.objects.count()

    response = client.post(reverse("admin:groupements_groupement_change", args=[g002.pk]), data)

    assert response.status_code == 200
    assert "figure deux fois" in response.content.decode()
    assert Member.objects.count() == before


HOSTILE_NAME = '=HYPERLINK("https://example.org/x","Cliquez ici")'


@pytest.mark.django_db
def test_the_export_of_a_hostile_name_is_text_in_csv_and_xlsx(client, superuser, loaded_reference):
    """Issue 16: a groupement named `=HYPERLINK(…)` was a live formula in an export."""
    import csv
    import io

    from import_export.formats.base_formats import XLSX
    from openpyxl import load_workbook

    from tests.admin_exports import export_form_data

    Groupement.objects.filter(code="G001").update(name=HOSTILE_NAME)
    client.force_login(superuser)
    export_url = reverse("admin:groupements_groupement_export")

    exported = client.post(export_url, export_form_data(Groupement, user=superuser)).content.decode("utf-8-sig")
    rows = {row[0]: row for row in csv.reader(io.StringIO(exported), delimiter=";")}
    assert rows["code"] == ["code", "nom", "vague", "region"]
    assert rows["G001"][1] == "'" + HOSTILE_NAME

    workbook = load_workbook(io.BytesIO(client.post(export_url, export_form_data(Groupement, XLSX, superuser)).content))
    cell = next(row[1] for row in workbook.active.iter_rows() if row[0].value == "G001")
    assert (cell.data_type, cell.value) == ("s", "'" + HOSTILE_NAME)


@pytest.mark.django_db
def test_negative_numbers_stay_numbers_in_an_export(client, superuser):
    """A negative value is a number, never neutralised (the safe formats touch only formula-like text)."""
    import io

    from tablib import Dataset

    from groupements.formats import BundleCSV

    dataset = Dataset(headers=["montant", "texte"])
    dataset.append([-1250.5, "-12,50"])
    dataset.append(["-3", "-x"])
    assert BundleCSV().export_data(dataset).splitlines() == ["montant;texte", "-1250.5;-12,50", "-3;'-x"]
    from openpyxl import load_workbook

    from common.importexport import SafeXLSX

    sheet = load_workbook(io.BytesIO(SafeXLSX().export_data(dataset))).active
    assert sheet["A2"].value == -1250.5 and sheet["A2"].data_type == "n" and sheet["B3"].value == "'-x"
