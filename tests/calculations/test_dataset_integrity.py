"""A dataset's Parquet carries its own SHA-256, recorded when it is written and checked before every use:
a file replaced by another valid one is refused, in French, instead of paying other amounts."""

import hashlib
import importlib
import shutil

import polars as pl
import pytest
from django.apps import apps

from calculations.bundle.beneficiaries import BENEFICIARY_SCHEMA
from calculations.models import Campaign, Dataset
from calculations.services import campaigns as services
from calculations.services.dataset_files import verified_beneficiaries, verified_beneficiaries_by_year
from common.storage import FileIntegrityError
from groupements.roles import CALCULATOR
from tests.calculations.campaign_factories import golden_parameters, launch_and_compute, store_golden_datasets

pytestmark = pytest.mark.django_db


@pytest.fixture
def calculator(make_user):
    return make_user(role=CALCULATOR)


@pytest.fixture
def golden_datasets(loaded_reference, media_root):
    return store_golden_datasets()


def test_a_parquet_replaced_by_another_valid_one_is_refused_by_the_computation(
    golden_datasets, calculator, media_root, django_capture_on_commit_callbacks
):
    draft = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    with django_capture_on_commit_callbacks() as queued:
        services.launch_campaign(campaign=draft, user=calculator)
    # Between the launch and the computation, the 2022 file is replaced by another valid one (2019's).
    year_2022, year_2019 = golden_datasets[2022], golden_datasets[2019]
    target = media_root / year_2022.parquet_file.name
    original = target.read_bytes()
    shutil.copyfile(media_root / year_2019.parquet_file.name, target)
    assert dict(pl.read_parquet(target).schema) == BENEFICIARY_SCHEMA  # a perfectly readable file
    for callback in queued:
        callback()
    campaign = Campaign.objects.get(pk=draft.pk)

    assert campaign.status == Campaign.Status.FAILED
    assert not campaign.results.exists() and campaign.final_amount is None
    assert campaign.error == (
        "Échec à l'étape « chargement des données » :\n"
        f"Jeu de données n° {year_2022.pk} (bénéficiaires 2022) : le fichier "
        f"{year_2022.parquet_file.name} ne correspond plus à son empreinte SHA-256 "
        f"(enregistrée {year_2022.parquet_sha256[:16]}…, trouvée {hashlib.sha256(target.read_bytes()).hexdigest()[:16]}…).\n"
        "Calcul refusé : un fichier de données a été modifié ou perdu depuis sa validation ; "
        "déposez de nouveau le fichier national."
    )

    target.write_bytes(original)  # the right file back: the relaunch computes the golden cents
    relaunched = launch_and_compute(campaign, calculator, django_capture_on_commit_callbacks)
    assert relaunched.status == Campaign.Status.COMPUTED and str(relaunched.final_amount) == "244528.88"


def test_a_missing_parquet_is_refused_at_launch(golden_datasets, calculator, media_root):
    draft = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())
    (media_root / golden_datasets[2019].parquet_file.name).unlink()
    with pytest.raises(services.CampaignError, match=r"beneficiaires_2019.*fichier Parquet .* introuvable"):
        services.launch_campaign(campaign=draft, user=calculator)


def test_verified_beneficiaries_is_the_one_checked_way_to_read_a_dataset(golden_datasets, media_root):
    """What the computation and the what-if simulations call."""
    dataset = golden_datasets[2018]
    assert verified_beneficiaries(dataset).select(pl.len()).collect().item() == dataset.row_count == 25_000
    path = media_root / dataset.parquet_file.name
    pl.read_parquet(path).head(10).write_parquet(path)
    with pytest.raises(FileIntegrityError, match=r"^Jeu de données n° \d+ \(bénéficiaires 2018\) : le fichier "):
        verified_beneficiaries(dataset)
    Dataset.objects.filter(pk=dataset.pk).update(parquet_sha256="")  # written before checksums were kept
    dataset.refresh_from_db()
    with pytest.raises(FileIntegrityError, match="aucune empreinte SHA-256 enregistrée"):
        verified_beneficiaries(dataset)


def test_the_migration_records_the_checksum_of_parquet_files_already_stored(golden_datasets, media_root):
    migration = importlib.import_module("calculations.migrations.0006_dataset_files_in_storage")
    Dataset.objects.update(parquet_sha256="")
    (media_root / golden_datasets[2019].parquet_file.name).unlink()
    migration.record_parquet_checksums(apps, None)
    recorded = dict(Dataset.objects.values_list("year", "parquet_sha256"))
    assert recorded[2019] == ""  # no file, no checksum: the computation and verify_integrity name it
    for year in (2018, 2022):
        path = media_root / golden_datasets[year].parquet_file.name
        assert recorded[year] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_changed_parquet_of_a_campaign_is_named_at_once(golden_datasets, media_root):
    for year in (2018, 2022):
        (media_root / golden_datasets[year].parquet_file.name).write_bytes(b"PAR1 not a parquet PAR1")
    with pytest.raises(FileIntegrityError) as refused:
        verified_beneficiaries_by_year(golden_datasets)
    assert [message.split(" : ")[0] for message in refused.value.messages] == [
        f"Jeu de données n° {golden_datasets[2018].pk} (bénéficiaires 2018)",
        f"Jeu de données n° {golden_datasets[2022].pk} (bénéficiaires 2022)",
    ]
