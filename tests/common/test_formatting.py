"""French money and number formatting: `12 345,67 €`, half-up to the cent."""

from decimal import Decimal

import pytest

from common.formatting import (
    NBSP,
    format_integer,
    format_level,
    format_money,
    format_number,
    format_parameter,
    format_percent,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12345.67"), "12 345,67 €"),
        (Decimal("3553.13"), "3 553,13 €"),
        (Decimal("244528.88"), "244 528,88 €"),
        (1395000, "1 395 000,00 €"),
        (Decimal("0"), "0,00 €"),
        (Decimal("999.995"), "1 000,00 €"),  # half-up carries into a new group
        (Decimal("0.005"), "0,01 €"),
        (Decimal("0.0049"), "0,00 €"),
        (-239.7165240776651, "\u2212239,72 €"),  # a true minus
        (4192.767936946817, "4 192,77 €"),  # read as its shortest decimal 4192.767936946817
        (2.675, "2,68 €"),  # the double 2.675 is below 2.675, but its shortest text is 2.675: half-up → 2,68
        (Decimal("-0.001"), "0,00 €"),
        ("1234567.5", "1 234 567,50 €"),
    ],
)
def test_format_money(value, expected):
    assert format_money(value).replace(NBSP, " ") == expected


def test_money_uses_no_break_spaces_so_amounts_never_wrap():
    assert format_money(Decimal("12345.67")) == f"12{NBSP}345,67{NBSP}€"
    assert format_money(Decimal("12345.67"), separator=" ") == "12 345,67 €"


def test_format_number_integer_percent_parameter():
    assert format_number(0.8474434890307874, 6).replace(NBSP, " ") == "0,847443"
    assert format_number(1893.3006053244642).replace(NBSP, " ") == "1 893,30"
    assert format_integer(17755).replace(NBSP, " ") == "17 755"
    assert format_integer(999) == "999"
    assert format_percent("0.005").replace(NBSP, " ") == "0,50 %"
    assert format_parameter("1/3") == "1/3"
    assert format_parameter("0.0065") == "0,0065"
    assert format_parameter(99) == "99"
    assert format_money(None) == format_number(None) == "–"


def test_format_level_is_a_percentage_without_trailing_zeros():
    assert format_level("0.95").replace(NBSP, " ") == "95 %"
    assert format_level("19/20").replace(NBSP, " ") == "95 %"
    assert format_level("0.975").replace(NBSP, " ") == "97,5 %"
    assert format_level("0.9") == f"90{NBSP}%"
    assert format_level(None) == "–"


def test_format_refuses_what_is_not_a_number():
    with pytest.raises(ValueError):
        format_money("douze")
    with pytest.raises(TypeError):
        format_money(True)


NNBSP, MINUS = "\u202f", "\u2212"


def test_negative_figures_take_a_true_minus():
    assert format_money(-774698.68) == f"{MINUS}774{NBSP}698,68{NBSP}€"
    assert format_number(Decimal("-0.4251"), 4) == f"{MINUS}0,4251"
    assert format_number(-3, 0, minus="-") == "-3"  # for a program, when asked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("l'équipe d'aujourd'hui", "l’équipe d’aujourd’hui"),
        ("« Publier »", f"«{NNBSP}Publier{NNBSP}»"),
        ("«Publier»", f"«{NNBSP}Publier{NNBSP}»"),
        ("Montant : 3 €", f"Montant{NNBSP}: 3 €"),
        ("Trop tard ? Oui ; hélas !", f"Trop tard{NNBSP}? Oui{NNBSP}; hélas{NNBSP}!"),
        (f"Montant{NBSP}: 3 €", f"Montant{NNBSP}: 3 €"),
        # Where no space stands, nothing is added: times, addresses, file positions.
        ("à 14:03, https://ipep.example.org/?next=/ et G001.csv:12: colonne", None),
        ("'cité' et rock'n'roll", "'cité' et rock’n’roll"),  # only an apostrophe between two letters
    ],
)
def test_french_typography(text, expected):
    from common.formatting import french_typography

    assert french_typography(text) == (text if expected is None else expected)


def test_french_typography_html_touches_the_text_only():
    from common.formatting import french_typography_html

    html = (
        '<p title="Statut : ok ?">L&#x27;équipe : <strong>3 €</strong> ?</p>'
        "<textarea name=reason>Motif : à l'étude</textarea><script>a ? b : c</script>"
        '<a href="/connexion/?next=/campagnes/1/">Retour</a><!-- note : x -->'
    )
    assert french_typography_html(html) == (
        f'<p title="Statut : ok ?">L’équipe{NNBSP}: <strong>3 €</strong>{NNBSP}?</p>'
        "<textarea name=reason>Motif : à l'étude</textarea><script>a ? b : c</script>"
        '<a href="/connexion/?next=/campagnes/1/">Retour</a><!-- note : x -->'
    )


def test_the_template_filters():
    from django.template import Context, Template

    page = Template(
        "{% load french %}{% filter typography %}<p>{{ name }} : {{ amount|money }}</p>{% endfilter %}"
    ).render(Context({"name": "L'équipe <IPEP>", "amount": -12.5}))
    assert page == f"<p>L’équipe &lt;IPEP&gt;{NNBSP}: {MINUS}12,50{NBSP}€</p>"
    text = Template("{% load french %}{% filter typography_text %}{{ who }} : d'accord ?{% endfilter %}").render(
        Context({"who": "Anne"}, autoescape=False)
    )
    assert text == f"Anne{NNBSP}: d’accord{NNBSP}?"
