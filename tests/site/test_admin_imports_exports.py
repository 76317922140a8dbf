"""Who may import and export through the admin (issue 16, item 1): every ModelAdmin with a
django-import-export import or export is discovered from the admin site, whatever app it lives in,
and tried by every role. Import needs the model's change permission, export its view permission;
the reference tables' upload page needs the change permission of its table. The confirmation step
of an import reads only a file the preview stored, in a directory of its own."""

import os
import tempfile
import uuid

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.admin import ExportMixin, ImportMixin

from calculations.services.reference_import import REFERENCE_TABLES
from groupements import roles
from tests.admin_exports import export_form_data

SUPERUSER = "superutilisateur"
ROLES = [*roles.ALL_ROLES, SUPERUSER]


def admins_with(mixin):
    return sorted(
        (model for model, model_admin in admin.site._registry.items() if isinstance(model_admin, mixin)),
        key=lambda model: model._meta.label,
    )


IMPORT_MODELS = admins_with(ImportMixin)
EXPORT_MODELS = admins_with(ExportMixin)


def url(model, name):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}")


def permission(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


@pytest.fixture
def login(client, make_user):
    def log_in(role):
        user = make_user(is_superuser=True, is_staff=True) if role == SUPERUSER else make_user(role=role)
        client.force_login(user)
        return user

    return log_in


def refused(response, user) -> bool:
    """403 for staff without the permission; a groupement user never gets past the admin login."""
    if not user.is_staff:
        return response.status_code == 302 and "/admin/login/" in response["Location"]
    return response.status_code == 403


def test_the_admins_with_an_import_or_an_export_are_found():
    labels = {model._meta.model_name for model in IMPORT_MODELS + EXPORT_MODELS}
    assert {"seedcredit", "ledgerline", "groupement", "member", "yearlydecile"} <= labels
    assert {model._meta.model_name for model in EXPORT_MODELS} >= set(REFERENCE_TABLES)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", IMPORT_MODELS, ids=lambda model: model._meta.label)
def test_import_needs_the_change_permission_of_the_model(client, login, role, model):
    user = login(role)
    allowed = user.is_staff and user.has_perm(permission(model, "change"))
    rows = model.objects.count()

    page = client.get(url(model, "import"))
    upload = client.post(
        url(model, "import"),
        {"import_file": SimpleUploadedFile("f.csv", b"x;y\n1;2\n"), "format": "0", "resource": "0"},
    )
    confirm = client.post(
        url(model, "process_import"),
        {"import_file_name": uuid.uuid4().hex, "original_file_name": "f.csv", "format": "0", "resource": "0"},
    )

    if allowed:
        assert page.status_code == 200 and upload.status_code == 200
        assert confirm.status_code == 400  # a file name the preview did not give is refused, not a 500
    else:
        assert all(refused(response, user) for response in (page, upload, confirm))
        assert model.objects.count() == rows


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", EXPORT_MODELS, ids=lambda model: model._meta.label)
def test_export_needs_the_view_permission_of_the_model(client, login, role, model):
    user = login(role)
    allowed = user.is_staff and user.has_perm(permission(model, "view"))

    page = client.get(url(model, "export"))
    exported = client.post(url(model, "export"), export_form_data(model, user=user))

    if allowed:
        assert page.status_code == 200
        assert exported.status_code == 200 and "attachment" in exported["Content-Disposition"]
    else:
        assert refused(page, user) and refused(exported, user)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model_name", sorted(REFERENCE_TABLES))
def test_the_reference_upload_page_needs_the_change_permission_of_its_table(client, login, role, model_name):
    from django.apps import apps

    model = apps.get_model("groupements", model_name)
    user = login(role)
    allowed = user.is_staff and user.has_perm(permission(model, "change"))
    page_url = reverse("reference_import", args=[model_name])
    changelist = client.get(url(model, "changelist"))

    page = client.get(page_url)
    upload = client.post(page_url, {"file": SimpleUploadedFile("f.csv", b"x;y\n1;2\n"), "dry_run": "on"})

    if allowed:
        assert page.status_code == 200 and upload.status_code == 200
        assert page_url in changelist.content.decode()
    else:
        assert refused(page, user) and refused(upload, user)
        assert page_url not in changelist.content.decode()


@pytest.mark.django_db
def test_the_roles_themselves(make_user):
    """The rule above is not vacuous: the reader imports nothing, the calculator and the validator do
    not export the ledger, the data manager imports and exports it."""
    reader, calculator, validator, manager = (
        make_user(role=role) for role in (roles.READER, roles.CALCULATOR, roles.VALIDATOR, roles.DATA_MANAGER)
    )
    ledger = next(model for model in EXPORT_MODELS if model._meta.model_name == "ledgerline")
    seed_credits = next(model for model in IMPORT_MODELS if model._meta.model_name == "seedcredit")
    assert not any(reader.has_perm(permission(model, "change")) for model in IMPORT_MODELS)
    assert not calculator.has_perm(permission(ledger, "view")) and not validator.has_perm(permission(ledger, "view"))
    assert manager.has_perm(permission(seed_credits, "change")) and manager.has_perm(permission(ledger, "view"))


def seed_credit_import(client, content: bytes):
    model = next(model for model in IMPORT_MODELS if model._meta.model_name == "seedcredit")
    preview = client.post(
        url(model, "import"),
        {"import_file": SimpleUploadedFile("amorcage.csv", content), "format": "0", "resource": "0"},
    )
    assert preview.status_code == 200 and preview.context.get("confirm_form") is not None, preview.content[:2000]
    return model, preview.context["confirm_form"].initial


@pytest.mark.django_db
def test_a_reader_cannot_turn_a_seed_credit_into_one_euro_paid(client, login):
    """The reproduction: as « Lecteur », G001's 50 000 € seed credit became 1,00 € marked paid, by an
    upload of their own or by confirming an import another user previewed."""
    from tests.factories import GroupementFactory

    GroupementFactory(code="G001")
    hostile = b"code_groupement;annee;montant;statut\nG001;2019;1,00;paid\n"
    login(roles.DATA_MANAGER)
    model, confirm = seed_credit_import(client, b"code_groupement;annee;montant\nG001;2019;50000\n")
    assert client.post(url(model, "process_import"), confirm).status_code == 302
    _, pending = seed_credit_import(client, hostile)
    login(roles.READER)

    upload = client.post(
        url(model, "import"),
        {"import_file": SimpleUploadedFile("a.csv", hostile), "format": "0", "resource": "0"},
    )
    confirmed = client.post(url(model, "process_import"), pending)

    assert upload.status_code == 403 and confirmed.status_code == 403
    credit = model.objects.get(groupement__code="G001", year=2019)
    assert (str(credit.amount), credit.status) == ("50000.00", "planned")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.CALCULATOR, roles.VALIDATOR])
def test_calculators_and_validators_cannot_post_to_the_ledger_export(client, login, role):
    ledger = next(model for model in EXPORT_MODELS if model._meta.model_name == "ledgerline")
    user = login(role)
    assert client.post(url(ledger, "export"), export_form_data(ledger, user=user)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["planted", uuid.uuid4().hex])
def test_the_confirmation_step_neither_reads_nor_deletes_a_file_it_did_not_store(client, login, name):
    """The reproduction: the confirmation imported, then deleted, a file planted in /tmp."""
    from tests.factories import GroupementFactory

    GroupementFactory(code="G001")
    login(roles.DATA_MANAGER)
    model, confirm = seed_credit_import(client, b"code_groupement;annee;montant\nG001;2019;50000\n")
    planted = os.path.join(tempfile.gettempdir(), name)
    with open(planted, "w", encoding="utf-8") as handle:
        handle.write("code_groupement;annee;montant;statut\nG001;2019;1,00;paid\n")
    try:
        response = client.post(url(model, "process_import"), {**confirm, "import_file_name": name})
        assert response.status_code == 400
        assert os.path.exists(planted)
        assert not model.objects.exists()
    finally:
        os.remove(planted)


@pytest.mark.django_db
def test_import_files_wait_for_their_confirmation_in_a_private_directory(client, login):
    from common.importexport import PrivateTempStorage
    from tests.factories import GroupementFactory

    GroupementFactory(code="G001")
    login(roles.DATA_MANAGER)
    model, confirm = seed_credit_import(client, b"code_groupement;annee;montant\nG001;2019;50000\n")
    stored = PrivateTempStorage(name=confirm["import_file_name"]).get_full_path()
    directory = os.path.dirname(stored)
    assert os.stat(directory).st_mode & 0o777 == 0o700 and os.stat(stored).st_mode & 0o777 == 0o600
    assert directory != tempfile.gettempdir()
    assert client.post(url(model, "process_import"), confirm).status_code == 302
    assert not os.path.exists(stored)
    assert str(model.objects.get().amount) == "50000.00"


@pytest.mark.parametrize("model", EXPORT_MODELS, ids=lambda model: model._meta.label)
def test_every_admin_export_format_writes_cells_safe_for_spreadsheets(model):
    """Issue 16, item 2: each export of the admin goes through common.spreadsheets.safe_cell."""
    from common.importexport import SafeExport

    formats = admin.site._registry[model].get_export_formats()
    assert formats and all(issubclass(export_format, SafeExport) for export_format in formats)


@pytest.mark.s3
@pytest.mark.django_db
def test_with_a_bucket_an_import_waits_there_so_another_web_host_confirms_it(
    client, login, s3_storage, local_temp, settings, tmp_path
):
    """IPEP_STORAGE=s3: the preview (one web host) leaves the file in the private bucket, the confirmation
    (another host, another local directory) finds it there and removes it; nothing on either local disk."""
    from tests.factories import GroupementFactory

    GroupementFactory(code="G001")
    login(roles.DATA_MANAGER)
    settings.IMPORT_EXPORT_TMP_DIR = str(tmp_path / "host-a-imports")
    model, confirm = seed_credit_import(client, b"code_groupement;annee;montant\nG001;2019;50000\n")
    assert s3_storage.object_keys() == [f"imports/{confirm['import_file_name']}"]
    settings.IMPORT_EXPORT_TMP_DIR = str(tmp_path / "host-b-imports")
    assert client.post(url(model, "process_import"), confirm).status_code == 302
    assert str(model.objects.get().amount) == "50000.00"
    assert s3_storage.object_keys() == []
    assert not (tmp_path / "host-a-imports").exists() and not (tmp_path / "host-b-imports").exists()
    assert list(local_temp.iterdir()) == []
    # A name the preview did not give is still refused, bucket or not.
    planted = {**confirm, "import_file_name": uuid.uuid4().hex}
    assert client.post(url(model, "process_import"), planted).status_code == 400
