"""A statement's PDF becomes a FileField of the project's storage (same relative name as before)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.RenameField(model_name="statement", old_name="file_path", new_name="file"),
        migrations.AlterField(
            model_name="statement",
            name="file",
            field=models.FileField(max_length=500, upload_to="", verbose_name="fichier"),
        ),
    ]
