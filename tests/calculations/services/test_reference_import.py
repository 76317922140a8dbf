"""`import_reference_table`: the role check, the check-only mode, warnings named after the upload."""

import pytest

from calculations.bundle import BundleError
from calculations.services.reference_import import expected_columns, import_reference_table
from common.errors import PermissionRefused
from groupements import roles
from groupements.models import Groupement

GROUPEMENT_FILE = b"code;nom;vague;region;commentaire\nG013;MSP de S\xe8te;V2;Occitanie;x\n"  # Windows-1252


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.READER, roles.CALCULATOR, roles.VALIDATOR])
def test_only_a_role_that_may_change_the_table_imports_it(make_user, loaded_reference, role):
    with pytest.raises(PermissionRefused):
        import_reference_table(
            model_name="groupement", file_name="g.csv", content=GROUPEMENT_FILE, user=make_user(role=role)
        )
    assert not Groupement.objects.filter(code="G013").exists()


@pytest.mark.django_db
def test_check_only_counts_and_writes_nothing_then_the_import_writes(make_user, loaded_reference):
    manager = make_user(role=roles.DATA_MANAGER)
    checked = import_reference_table(
        model_name="groupement", file_name="g.csv", content=GROUPEMENT_FILE, user=manager, dry_run=True
    )
    assert checked.lines() == ["groupements: 1 créé(s), 0 modifié(s), 0 inchangé(s), 0 supprimé(s)"]
    assert checked.warnings == ["g.csv:1: commentaire: colonne inconnue ignorée"]
    assert not Groupement.objects.filter(code="G013").exists()

    import_reference_table(model_name="groupement", file_name="g.csv", content=GROUPEMENT_FILE, user=manager)
    assert Groupement.objects.get(code="G013").name == "MSP de Sète"


@pytest.mark.django_db
def test_every_problem_of_a_yearly_file_is_reported_in_upload_order(make_user, loaded_reference):
    content = b"annee;code_groupement;points\n2023;G001;25\n2022;G077;3\n2023;G002;-1\n"
    with pytest.raises(BundleError) as refused:
        import_reference_table(
            model_name="patientexperience", file_name="e.csv", content=content, user=make_user(role=roles.DATA_MANAGER)
        )
    assert [str(p) for p in refused.value.problems] == [
        "e.csv:2: points: doit être compris entre 0 et 20, reçu «\u202f25\u202f»",
        "e.csv:3: code_groupement: groupement inconnu «\u202fG077\u202f»",
        "e.csv:4: points: ne doit pas être négatif, reçu «\u202f-1\u202f»",
    ]


def test_the_expected_header_is_the_export_of_the_table():
    assert expected_columns("member") == ["code_groupement", "rpps", "date_debut", "date_fin"]
    assert expected_columns("indicatorresult") == [
        "annee",
        "code_groupement",
        "code_indicateur",
        "valeur_n",
        "valeur_n_1",
    ]
