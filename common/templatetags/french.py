"""Template filters for French figures: {{ amount|money }}, {{ value|number:4 }}, {{ n|integer }}, and
French typography over a whole page or text: {% filter typography %}…{% endfilter %} (HTML: text between
tags only) and {% filter typography_text %}…{% endfilter %} (plain-text e-mails)."""

from django import template
from django.utils.safestring import SafeData, mark_safe

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


@register.filter
def typography(html):
    """HTML in, HTML out: safe input stays safe (the page's own markup), anything else is escaped first."""
    if not isinstance(html, SafeData):
        from django.utils.html import escape

        html = escape(html)
    # Only characters of the text change (spaces, apostrophes), never markup: what was safe stays safe.
    return mark_safe(formatting.french_typography_html(str(html)))  # noqa: S308


@register.filter
def typography_text(text):
    result = formatting.french_typography(str(text))
    return mark_safe(result) if isinstance(text, SafeData) else result  # noqa: S308 (safe stays safe)
