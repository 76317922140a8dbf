"""Driving django-import-export's admin export page from tests: the POST of its form."""

from django.contrib import admin
from django.test import RequestFactory
from import_export.forms import SelectableFieldsExportForm


def export_form_data(model, format_class=None, user=None) -> dict:
    """What the export page posts: a format (the first, or `format_class`), the first resource, every field."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    formats = model_admin.get_export_formats()
    index = 0 if format_class is None else next(i for i, f in enumerate(formats) if issubclass(f, format_class))
    resource = model_admin.get_export_resource_classes(request)[0]
    fields = resource().get_export_order()
    return {
        "format": str(index),
        "resource": "0",
        **{SelectableFieldsExportForm.create_boolean_field_name(resource, name): "on" for name in fields},
    }
