"""Datasets' files become FileFields of the project's storage (same relative names as before), and each
Parquet gets its own SHA-256, checked before every use. Parquet files already stored are hashed here."""

import hashlib

from django.core.files.storage import default_storage
from django.db import migrations, models


def record_parquet_checksums(apps, schema_editor):
    Dataset = apps.get_model("calculations", "Dataset")
    for dataset in Dataset.objects.exclude(parquet_file="").filter(parquet_sha256=""):
        name = dataset.parquet_file.name
        if not default_storage.exists(name):
            continue  # left without a checksum: verify_integrity and the computation name it
        digest = hashlib.sha256()
        with default_storage.open(name, "rb") as stream:
            while chunk := stream.read(8 << 20):
                digest.update(chunk)
        Dataset.objects.filter(pk=dataset.pk).update(parquet_sha256=digest.hexdigest())


class Migration(migrations.Migration):
    dependencies = [
        ("calculations", "0005_frozen_results"),
    ]

    operations = [
        migrations.RenameField(model_name="dataset", old_name="upload_path", new_name="upload_file"),
        migrations.RenameField(model_name="dataset", old_name="parquet_path", new_name="parquet_file"),
        migrations.AlterField(
            model_name="dataset",
            name="upload_file",
            field=models.FileField(blank=True, max_length=500, upload_to="", verbose_name="fichier déposé"),
        ),
        migrations.AlterField(
            model_name="dataset",
            name="parquet_file",
            field=models.FileField(blank=True, max_length=500, upload_to="", verbose_name="fichier Parquet"),
        ),
        migrations.AddField(
            model_name="dataset",
            name="parquet_sha256",
            field=models.CharField(blank=True, max_length=64, verbose_name="SHA-256 du Parquet"),
        ),
        migrations.RunPython(record_parquet_checksums, migrations.RunPython.noop),
    ]
