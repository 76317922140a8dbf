"""The admin's labels read as French for every registered model: a plural that is one (no « Supprimer
les grand livre des financements sélectionnés »), no « de » before a vowel (no « Ajout de accès
portail »), no agreement the name cannot give (no « les campagnes sélectionnés »): the project's
wordings (locale/fr) need neither elision nor agreement, and every name is checked."""

import re

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.utils.translation import gettext


def registered():
    admin.autodiscover()  # the admin's modules are discovered by the URLs (ipep_site.apps.LazyAdminConfig)
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.mark.parametrize("model", [m for m, _ in registered()], ids=lambda m: m._meta.label)
def test_plurals_are_plural_and_names_are_lower_case(model):
    singular, plural = str(model._meta.verbose_name), str(model._meta.verbose_name_plural)
    head = plural.split()[0]
    assert head.endswith(("s", "x")), f"« {plural} » is not a plural"
    assert singular == singular.lower() and plural == plural.lower()  # Django capitalises where needed


@pytest.mark.django_db
def test_the_delete_action_and_the_add_title_read_correctly_for_every_model(make_user):
    request = RequestFactory().get("/admin/")
    request.user = make_user(is_superuser=True, is_staff=True)
    labels = {}
    for model, model_admin in registered():
        actions = dict(model_admin.get_action_choices(request, default_choices=[]))
        if "delete_selected" in actions:
            labels[model._meta.label] = actions["delete_selected"]
        labels[f"{model._meta.label} (ajout)"] = gettext("Add %s") % model._meta.verbose_name
    assert labels["financing.LedgerLine"] == "Supprimer la sélection (lignes du grand livre)"
    assert labels["groupements.Indicator (ajout)"] == "Ajout : indicateur"
    assert labels["groupements.PortalAccess (ajout)"] == "Ajout : droit d'accès au portail"
    assert labels["axes.AccessFailureLog (ajout)"] == "Ajout : échec de connexion"
    for model, label in labels.items():
        assert not re.search(r"\b(de|le|la) [aeiouyhàâéèêîôû]", label, re.IGNORECASE), (model, label)
        assert "sélectionnés" not in label, (model, label)
