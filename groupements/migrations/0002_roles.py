"""Create the role groups. Their permissions are synced by groupements.roles.sync_role_permissions
after each migrate (permissions of a fresh database only exist once every migration has run)."""
from django.db import migrations

ROLES = ("Gestionnaire de données", "Calculateur", "Validateur", "Lecteur", "Utilisateur groupement")


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("groupements", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, delete_roles)]
