"""One typed field per campaign parameter (METHODOLOGY.md section 6), grouped as people think of them:
efficiency, quality, caps, robustness. Used to create a campaign, to change a draft's parameters and to
set up a what-if simulation.

A number is typed as a decimal (comma or point: `0,005`) or a fraction (`1/3`) and kept as exact text
(`"0.005"`, `"1/3"`), which the engine parses into a `Fraction`. Every refusal is given on its own field,
in French; the engine's own check (`Parameters.merge`) runs last, so the form can never accept a set
the computation would refuse.
"""

from __future__ import annotations

from fractions import Fraction

from django import forms

from calculations.engine import ParameterError, Parameters
from calculations.engine.parameters import AT_MOST_ONE, DEFAULT_LITERALS, INTEGER_VALUED, parse_exact

FORM_SOURCE = "formulaire"

CHOICE_LABELS = {
    "evolution_form": (("rate", "taux d'évolution"), ("absolute", "évolution absolue")),
    "noise_gate": (("off", "désactivé"), ("on", "activé")),
}

# name -> (label, help); the default is added to the help text.
DESCRIPTIONS = {
    "c_ecart": (
        "Poids de l'écart de dépenses",
        "Poids du niveau des dépenses dans le gain ; avec le poids de l'évolution, la somme doit faire 1.",
    ),
    "c_evolution": (
        "Poids de la différence d'évolution",
        "Poids de l'évolution des dépenses dans le gain ; avec le poids de l'écart, la somme doit faire 1.",
    ),
    "c_partage": ("Part du gain reversée", "Part du gain d'efficience versée au groupement (au plus 1)."),
    "evolution_form": (
        "Forme de l'évolution",
        "Taux d'évolution ou évolution absolue des dépenses par patient (étape 6).",
    ),
    "truncation_percentile": (
        "Centile d'écrêtement",
        "Les dépenses au-delà de ce centile sont écrêtées ; 100 désactive l'écrêtement.",
    ),
    "phase3_modulation": (
        "Modulation de l'efficience en phase 3",
        "L'efficience de phase 3 varie de ± cette part selon la qualité (au plus 1).",
    ),
    "quality_envelope_rate": (
        "Taux de l'enveloppe qualité",
        "Enveloppe qualité rapportée aux dépenses réelles de tous les groupements.",
    ),
    "phase3_quality_weight": (
        "Poids de la qualité en phase 3",
        "Paiement qualité de phase 3 rapporté à celui de phase 2 (au plus 1).",
    ),
    "socle_share_with_carte": (
        "Part des points sur les indicateurs socle",
        "Quand des indicateurs à la carte sont choisis, part des points de base portée par les indicateurs socle (au plus 1).",
    ),
    "base_points": ("Points de base", "Points des indicateurs (nombre entier)."),
    "max_experience_points": (
        "Points maximaux d'expérience patient",
        "S max = points de base + ce maximum (nombre entier).",
    ),
    "group_cap_rate": ("Plafond par groupement", "Part des dépenses réelles de l'année N du groupement."),
    "national_ceiling_rate": (
        "Plafond national",
        "Part des dépenses réelles de tous les groupements ; au-delà, les montants sont réduits par le coefficient national.",
    ),
    "min_patients": ("Nombre minimal de patients", "En dessous, le groupement est signalé (nombre entier)."),
    "confidence_level": (
        "Niveau de confiance",
        "Niveau des intervalles de confiance (étape 13), strictement entre 0 et 1 : 0,95 pour 95 %.",
    ),
    "noise_gate": (
        "Filtre du hasard",
        "Activé : un gain d'efficience que l'on ne peut distinguer du hasard n'est pas versé (étape 13).",
    ),
}

GROUPS = (
    (
        "Efficience",
        ("c_ecart", "c_evolution", "c_partage", "evolution_form", "truncation_percentile", "phase3_modulation"),
    ),
    (
        "Qualité",
        (
            "quality_envelope_rate",
            "phase3_quality_weight",
            "socle_share_with_carte",
            "base_points",
            "max_experience_points",
        ),
    ),
    ("Plafonds", ("group_cap_rate", "national_ceiling_rate")),
    ("Robustesse", ("min_patients", "confidence_level", "noise_gate")),
)
PARAMETER_NAMES = tuple(name for _, names in GROUPS for name in names)
assert sorted(PARAMETER_NAMES) == sorted(DEFAULT_LITERALS), "every parameter of section 6 has its field"

INVALID_NUMBER = (
    "Saisissez un nombre (virgule décimale acceptée, par exemple 0,005) ou une fraction a/b (par exemple 1/3)."
)


def shown(value) -> str:
    """A parameter's value as a French reader writes it: `0,005`, `1/3`, `99`."""
    return str(value).replace(".", ",")


def exact_text(text: str) -> str:
    """What a person typed, as the engine's literal text: spaces dropped, decimal comma to a point."""
    return "".join(str(text).split()).replace("\u202f", "").replace(",", ".")


class ExactNumberField(forms.CharField):
    """A decimal (comma or point) or a fraction a/b, cleaned to its exact literal text ("0.005", "1/3")."""

    def __init__(self, *, name: str, **kwargs):
        self.parameter = name
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return shown(value) if value not in (None, "") else value

    def has_changed(self, initial, data):
        try:
            typed = parse_exact(self.to_python(data))
        except forms.ValidationError:
            return True
        return typed is None or typed != parse_exact(initial)

    def to_python(self, value):
        text = exact_text(super().to_python(value))
        if text and parse_exact(text) is None:
            raise forms.ValidationError(INVALID_NUMBER, code="invalid")
        return text

    def validate(self, value):
        super().validate(value)
        number = parse_exact(value)
        if number is None:
            return
        for message in value_refusals(self.parameter, number):
            raise forms.ValidationError(message, code="out_of_range")


def value_refusals(name: str, number: Fraction) -> list[str]:
    """The rules of section 6 on one value, in French (the same rules `Parameters.merge` applies)."""
    if number < 0:
        return ["La valeur ne peut pas être négative."]
    refusals = []
    if name in AT_MOST_ONE and number > 1:
        refusals.append("La valeur doit être au plus 1 (c'est une part).")
    if name in INTEGER_VALUED and number.denominator != 1:
        refusals.append("Un nombre entier est attendu.")
    if name == "truncation_percentile" and not 0 < number <= 100:
        refusals.append("Le centile doit être strictement supérieur à 0 et au plus 100.")
    if name == "confidence_level" and not 0 < number < 1:
        refusals.append("Le niveau doit être strictement entre 0 et 1 (0,95 pour 95 %).")
    return refusals


def parameter_field(name: str) -> forms.Field:
    label, help_text = DESCRIPTIONS[name]
    default = DEFAULT_LITERALS[name]
    if name in CHOICE_LABELS:
        choices = CHOICE_LABELS[name]
        default_label = dict(choices)[default]
        return forms.ChoiceField(
            label=label, choices=choices, initial=default, help_text=f"{help_text} Par défaut : {default_label}."
        )
    return ExactNumberField(
        name=name,
        label=label,
        initial=default,
        max_length=40,
        help_text=f"{help_text} Par défaut : {shown(default)}.",
        widget=forms.TextInput(attrs={"size": 12, "inputmode": "decimal", "class": "parameter-value"}),
    )


class ParameterFieldsMixin(forms.Form):
    """The parameter fields and their cross-checks; mixed into a campaign form or used alone.

    `initial_parameters` (a campaign's parameters) pre-fills them; otherwise they show the defaults.
    """

    c_ecart = parameter_field("c_ecart")
    c_evolution = parameter_field("c_evolution")
    c_partage = parameter_field("c_partage")
    evolution_form = parameter_field("evolution_form")
    truncation_percentile = parameter_field("truncation_percentile")
    phase3_modulation = parameter_field("phase3_modulation")
    quality_envelope_rate = parameter_field("quality_envelope_rate")
    phase3_quality_weight = parameter_field("phase3_quality_weight")
    socle_share_with_carte = parameter_field("socle_share_with_carte")
    base_points = parameter_field("base_points")
    max_experience_points = parameter_field("max_experience_points")
    group_cap_rate = parameter_field("group_cap_rate")
    national_ceiling_rate = parameter_field("national_ceiling_rate")
    min_patients = parameter_field("min_patients")
    confidence_level = parameter_field("confidence_level")
    noise_gate = parameter_field("noise_gate")

    def __init__(self, *args, initial_parameters: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, value in (initial_parameters or {}).items():
            if name in self.fields:
                self.initial[name] = value

    def clean(self):
        cleaned = super().clean()
        numbers = {name: parse_exact(cleaned.get(name)) for name in PARAMETER_NAMES if name not in CHOICE_LABELS}
        if numbers.get("c_ecart") is not None and numbers.get("c_evolution") is not None:
            total = numbers["c_ecart"] + numbers["c_evolution"]
            if total != 1:
                message = f"Les poids de l'écart et de l'évolution doivent faire 1 ensemble (ici {shown(total)})."
                self.add_error("c_ecart", message)
                self.add_error("c_evolution", message)
        points = (numbers.get("base_points"), numbers.get("max_experience_points"))
        if None not in points and sum(points) == 0:
            self.add_error(
                "base_points", "Points de base et points d'expérience ne peuvent pas être nuls tous les deux."
            )
        if not self.errors:
            self._engine_check()
        return cleaned

    def _engine_check(self) -> None:
        """The engine's own check of the whole set, each problem on its parameter's field."""
        try:
            Parameters.merge((FORM_SOURCE, self.parameter_values()))
        except ParameterError as error:
            for problem in error.problems:
                field = problem.column if problem.column in self.fields else None
                self.add_error(field, problem.reason)

    def parameter_values(self) -> dict[str, str]:
        """Every parameter as cleaned ({name: exact text or choice}), in the order of section 6."""
        return {name: self.cleaned_data[name] for name in DEFAULT_LITERALS if name in self.cleaned_data}

    def changed_parameters(self) -> dict[str, str]:
        """Only the parameters whose value differs from what the form showed."""
        return {name: value for name, value in self.parameter_values().items() if name in self.changed_data}


class ParameterForm(ParameterFieldsMixin):
    """The parameter fields alone (the what-if simulation's form)."""


def parameter_fieldsets(*, description: str = "") -> list[tuple[str, dict]]:
    """The admin's fieldsets of the parameter fields, one per group."""
    return [
        (title, {"fields": names, "description": description if i == 0 else ""})
        for i, (title, names) in enumerate(GROUPS)
    ]


def parameter_groups(form: forms.Form) -> list[tuple[str, list]]:
    """(group title, its bound fields) for a template that lays out the form by group."""
    return [(title, [form[name] for name in names]) for title, names in GROUPS]
