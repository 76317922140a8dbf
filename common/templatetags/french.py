"""Template filters for French figures: {{ amount|money }}, {{ value|number:4 }}, {{ n|integer }}."""

from django import template

from common import formatting

register = template.Library()


@register.filter
def money(value):
    return formatting.format_money(value)


@register.filter
def number(value, places=2):
    return formatting.format_number(value, int(places))


@register.filter
def integer(value):
    return formatting.format_integer(value)


@register.filter
def percent(value, places=2):
    return formatting.format_percent(value, int(places))


@register.filter
def parameter(value):
    return formatting.format_parameter(value)


@register.filter
def level(value):
    return formatting.format_level(value)
