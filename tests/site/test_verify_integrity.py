"""`manage.py verify_integrity`: every stored file against the SHA-256 recorded when it was written, on
the local disk and in a bucket of the real S3 API server; exit status 1 naming each file that differs."""

import io

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from reports import services as reports
from reports.models import Statement
from tests.calculations.campaign_factories import store_golden_datasets
from tests.reports.factories import golden_campaign


def run():
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_integrity", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["local", "s3"])
def test_verify_integrity_names_each_changed_or_missing_file_and_exits_1(where, request):
    if where == "s3":
        bucket = request.getfixturevalue("s3_storage")
        read, write, delete = (
            bucket.read,
            bucket.write,
            lambda key: bucket.client.delete_object(Bucket=bucket.name, Key=key),
        )
    else:
        media = request.getfixturevalue("media_root")
        read = lambda name: (media / name).read_bytes()  # noqa: E731
        write = lambda name, content: (media / name).write_bytes(content)  # noqa: E731
        delete = lambda name: (media / name).unlink()  # noqa: E731
    datasets = store_golden_datasets(years=(2018, 2019))
    campaign = golden_campaign(status="computed", codes=["G001", "G002"], datasets=False)
    reports.render_campaign_statements(campaign=campaign)
    g001, g002 = (Statement.objects.get(campaign=campaign, groupement__code=code) for code in ("G001", "G002"))

    out, err = run()
    assert err == ""
    assert "Vérification de 4 fichier(s)" in out and "4 fichier(s) conforme(s) à leur empreinte SHA-256" in out
    if where == "s3":
        assert f"compartiment S3 « {bucket.name} »" in out

    # The 2018 Parquet replaced by another valid Parquet, G001's PDF altered, G002's PDF gone.
    year_2018 = datasets[2018]
    write(year_2018.parquet_file.name, read(datasets[2019].parquet_file.name))
    write(g001.file.name, read(g001.file.name).replace(b"%PDF-", b"%PDF-\n% altered\n", 1))
    delete(g002.file.name)
    with pytest.raises(CommandError) as failed:
        run_output = io.StringIO()
        call_command("verify_integrity", stdout=io.StringIO(), stderr=run_output)
    assert failed.value.returncode == 1
    assert str(failed.value).startswith("3 fichier(s) sur 4 manquant(s) ou modifié(s) depuis leur écriture")
    lines = run_output.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(
        f"NON CONFORME – Jeu de données n° {year_2018.pk} (bénéficiaires 2018), Parquet : le fichier "
        f"{year_2018.parquet_file.name} ne correspond plus à son empreinte SHA-256 (enregistrée "
        f"{year_2018.parquet_sha256[:16]}…, trouvée "
    )
    version = campaign.version
    assert lines[1].startswith(
        f"NON CONFORME – Relevé G001 – 2022 v{version} : le fichier {g001.file.name} ne correspond plus "
    )
    assert lines[2] == f"NON CONFORME – Relevé G002 – 2022 v{version} : fichier {g002.file.name} introuvable"
    assert dict(pl.read_parquet(io.BytesIO(read(year_2018.parquet_file.name))).schema)  # still a valid Parquet
