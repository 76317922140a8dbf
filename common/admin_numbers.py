"""Numbers in the admin the French way, on input and on display.

Input: every decimal and float field accepts the French comma and grouping (« 60000,50 »,
« 60 000,50 », and « 60000.50 »), whatever the separator settings; its current value is shown as
« 60000,5 », never « 60000.5000 ».

Display, in lists and on read-only pages: money to the cent with grouping and the euro sign
(« 150 000,00 € »), ratios to 4 places, other figures to 2 places, decimals of the reference tables
without their padding zeros (« 14,1 », not « 14,100000 »). `FrenchNumbersMixin` does both for a
ModelAdmin; `number_formats` names the kind of the fields whose kind its type does not tell.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models

from .formatting import format_money, format_number

MONEY, RATIO, NUMBER, DECIMAL, INTEGER = "money", "ratio", "number", "decimal", "integer"
# Grouping a person may type: spaces, no-break and narrow no-break spaces, apostrophes.
_GROUPING = re.compile(r"[\s\u00a0\u202f'’]")


def parse_french_number(text: str) -> str:
    """`60 000,50` → `60000.50`: grouping removed, the comma read as the decimal separator."""
    value = _GROUPING.sub("", text.strip())
    if "," in value:
        if "." in value:
            raise ValidationError("Écrivez le nombre avec une virgule décimale, sans point : par exemple 60000,50.")
        value = value.replace(",", ".")
    return value


def plain_decimal_text(value) -> str:
    """`Decimal("16.4000")` → `16,4`: the value as typed back, without padding zeros or grouping."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}".rstrip("0")
    return text.rstrip(".").replace(".", ",") or "0"


class _FrenchInput:
    """A text input (not type=number, which refuses the comma) showing the value the French way."""

    def prepare_value(self, value):
        if isinstance(value, float | Decimal | int) and not isinstance(value, bool):
            return plain_decimal_text(value)
        return value

    def to_python(self, value):
        if isinstance(value, str):
            value = parse_french_number(value)
        return super().to_python(value)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("step", None)
        attrs.update({"inputmode": "decimal"})
        return attrs


class FrenchDecimalField(_FrenchInput, forms.DecimalField):
    widget = forms.TextInput


class FrenchFloatField(_FrenchInput, forms.FloatField):
    widget = forms.TextInput


FRENCH_FORMFIELDS = {
    models.DecimalField: {"form_class": FrenchDecimalField, "widget": forms.TextInput},
    models.FloatField: {"form_class": FrenchFloatField, "widget": forms.TextInput},
}


def format_kind(value, kind: str) -> str:
    if value is None or value == "":
        return "–"
    if kind == MONEY:
        return format_money(value)
    if kind == RATIO:
        return format_number(value, 4)
    if kind == INTEGER:
        return format_number(value, 0)
    if kind == DECIMAL:
        text = plain_decimal_text(value)
        whole, _, decimals = text.partition(",")
        return format_number(value, len(decimals))
    return format_number(value, 2)


def default_kind(field: models.Field) -> str | None:
    """The kind of a numeric field from its type: money for two-place decimals, figures for floats."""
    if isinstance(field, models.DecimalField):
        return MONEY if field.decimal_places == 2 else DECIMAL
    if isinstance(field, models.FloatField):
        return NUMBER
    return None


def _display(field: models.Field, kind: str):
    def show(obj):
        return format_kind(getattr(obj, field.name), kind)

    show.short_description = field.verbose_name
    show.admin_order_field = field.name
    show.french_field = field.name
    show.__name__ = show.__qualname__ = f"{field.name}_fr"
    return show


# The ModelAdmin methods whose answers name the fields shown; a subclass's own versions are wrapped too.
_HOOKS = ("get_list_display", "get_readonly_fields", "get_fields")


def _converting(hook: str, method):
    def converted(self, request, *args, **kwargs):
        return getattr(self, f"_french_{hook}")(request, method(self, request, *args, **kwargs), *args, **kwargs)

    converted.__name__ = converted.__qualname__ = hook
    converted.__doc__ = method.__doc__
    return converted


class FrenchNumbersMixin:
    """For a ModelAdmin: French input of decimals and floats; French display of them in lists and on
    read-only pages (see the module's docstring). `number_formats`: field name -> kind, for floats that
    are money or ratios, and to override the kind a field's type gives. Admins declaring `fieldsets`
    keep Django's display of their read-only numbers."""

    number_formats: dict[str, str] = {}
    formfield_overrides = FRENCH_FORMFIELDS

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for hook in _HOOKS:
            if hook in cls.__dict__:
                setattr(cls, hook, _converting(hook, cls.__dict__[hook]))

    def _french(self, name):
        if not isinstance(name, str):
            return name
        try:
            field = self.model._meta.get_field(name)
        except FieldDoesNotExist:  # a method, a relation path, a display callable: shown as it is
            return name
        kind = self.number_formats.get(name) or default_kind(field)
        if kind is None:
            return name
        displays = self.__dict__.setdefault("_french_displays", {})
        if name not in displays:
            displays[name] = _display(field, kind)
        return displays[name]

    def _french_get_list_display(self, request, names):
        return [self._french(name) for name in names]

    def _french_get_readonly_fields(self, request, names, obj=None):
        return [self._french(name) for name in names]

    def _french_get_fields(self, request, names, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return [self._french(name) for name in names]  # a page without a form: all read-only
        readonly = {getattr(f, "french_field", f) for f in self.get_readonly_fields(request, obj)}
        return [self._french(name) if name in readonly else name for name in names]

    def get_list_display(self, request):
        return self._french_get_list_display(request, super().get_list_display(request))

    def get_readonly_fields(self, request, obj=None):
        return self._french_get_readonly_fields(request, super().get_readonly_fields(request, obj), obj)

    def get_fields(self, request, obj=None):
        return self._french_get_fields(request, super().get_fields(request, obj), obj)
