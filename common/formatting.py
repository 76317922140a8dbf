"""French number formatting and typography for what a person reads (statements, reports, the portal,
e-mails): `12 345,67 €`, `−774 698,68 €`, `l’équipe`, `« Publier »`, `Montant : 3 553,13 €`.

Groups of three digits are separated by a no-break space (U+00A0) so an amount never wraps across
lines; pdftotext turns it back into a plain space, which is what tests match. Negative figures take a
true minus sign (U+2212). `french_typography` sets typographic apostrophes and narrow no-break spaces
(U+202F) before « ; : ! ? » and inside « »; `french_typography_html` does the same to the text of an
HTML page only (never tags, attributes, scripts, styles or form fields). Files meant for programs
(CSV, JSON, the public file) keep ASCII: they never go through this module's display functions.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: before ; : ! ? and inside « »
MINUS = "\u2212"
APOSTROPHE = "\u2019"
CENT = Decimal("0.01")


def to_decimal(value) -> Decimal:
    """Exact decimal of a Decimal, int or str; a float is read as its shortest round-trip text."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, float):
        return Decimal(repr(float(value)))  # numpy floats are floats whose repr is "np.float64(…)"
    if isinstance(value, int):
        return Decimal(value)
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def _group_thousands(digits: str, separator: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return separator.join(groups)


def format_number(value, places: int = 2, *, separator: str = NBSP, minus: str = MINUS) -> str:
    """`1234567.891` → `1 234 567,89`, `-3.5` → `−3,50` (half-up to `places` decimals; `-0,00` is
    written `0,00`). `minus` is the true minus sign unless told otherwise."""
    if value is None:
        return "–"
    quantum = Decimal(1).scaleb(-places)
    number = to_decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = minus if number < 0 else ""
    integer_part, _, fraction_part = f"{abs(number):f}".partition(".")
    text = _group_thousands(integer_part, separator)
    return f"{sign}{text},{fraction_part}" if places > 0 else f"{sign}{text}"


def format_money(value, *, separator: str = NBSP) -> str:
    """`12345.675` → `12 345,68 €`: two decimals, rounded half-up to the cent."""
    if value is None:
        return "–"
    return f"{format_number(value, 2, separator=separator)}{separator}€"


def format_integer(value, *, separator: str = NBSP) -> str:
    return format_number(value, 0, separator=separator)


def format_percent(value, places: int = 2, *, separator: str = NBSP) -> str:
    """A ratio as a percentage: `0.005` → `0,50 %`."""
    if value is None:
        return "–"
    return f"{format_number(to_decimal(value) * 100, places, separator=separator)}{separator}%"


def format_level(value, *, separator: str = NBSP) -> str:
    """A level given as an exact fraction (`0.95`, `19/20`, `0.975`) as a percentage without trailing zeros:
    `95 %`, `97,5 %` (a confidence level is read as a whole, "à 95 %", never "à 95,00 %")."""
    if value is None:
        return "–"
    share = Fraction(str(value).strip()) * 100
    places = 0
    while share * 10**places != int(share * 10**places) and places < 4:
        places += 1
    return f"{format_number(Decimal(share.numerator) / Decimal(share.denominator), places, separator=separator)}{separator}%"


def format_parameter(value) -> str:
    """A campaign parameter as stored (exact text): fractions stay `1/3`, decimals take a comma."""
    if value is None:
        return "–"
    text = str(value)
    if "/" in text:
        return text
    return text.replace(".", ",")


# Only where the text already has a space (or none, for « »): `14:03`, `https://`, `?next=` stay as they are.
_SPACE_BEFORE_PUNCTUATION = re.compile(r"(?<=\S)[ \u00a0\u202f]+([;:!?])")
_AFTER_OPENING_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSING_QUOTE = re.compile(r"[ \u00a0\u202f]*»")
_STRAIGHT_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")


def french_typography(text: str) -> str:
    """`l'équipe « Publier » : ok ?` → `l’équipe « Publier » : ok ?` (see the module docstring)."""
    text = _STRAIGHT_APOSTROPHE.sub(APOSTROPHE, text)
    text = _AFTER_OPENING_QUOTE.sub("«" + NNBSP, text)
    text = _BEFORE_CLOSING_QUOTE.sub(NNBSP + "»", text)
    return _SPACE_BEFORE_PUNCTUATION.sub(NNBSP + r"\1", text)


# Tags, comments, and elements whose content is code or a form value: left exactly as they are.
_HTML_UNTOUCHED = re.compile(
    r"<!--.*?-->|<(script|style|textarea|pre|code)\b.*?</\1\s*>|<[^>]*>", re.DOTALL | re.IGNORECASE
)
_ESCAPED_APOSTROPHE = re.compile(r"&#(?:x27|39);")
# A text that starts with the space before its punctuation, right after an element: `<b>3 €</b> ?`.
_LEADING_SPACE_BEFORE_PUNCTUATION = re.compile(r"^[ \u00a0\u202f]+([;:!?])")


def _html_text(text: str) -> str:
    # Django escapes ' in variables; in text (not attributes) the character itself is as safe.
    text = _LEADING_SPACE_BEFORE_PUNCTUATION.sub(NNBSP + r"\1", text)
    return french_typography(_ESCAPED_APOSTROPHE.sub("'", text))


def french_typography_html(html: str) -> str:
    """`french_typography` applied to the text between the tags of `html` only."""
    parts, position = [], 0
    for untouched in _HTML_UNTOUCHED.finditer(html):
        parts.append(_html_text(html[position : untouched.start()]))
        parts.append(untouched.group(0))
        position = untouched.end()
    parts.append(_html_text(html[position:]))
    return "".join(parts)
