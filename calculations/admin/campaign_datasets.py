"""The dataset-of-each-year selects of the campaign forms (creation, and change while in draft).

One select per year the campaign needs, listing the valid national files of that year (latest first,
with upload date, rows and the start of the SHA-256); the latest one is preselected, or the one the
campaign already uses. The years depend on the campaign year: when the year typed at creation needs
other years than the selects shown, the form is shown again with the right selects.
"""

from __future__ import annotations

from django import forms

from calculations.models import Campaign, Dataset
from calculations.selectors.campaigns import latest_campaign_year
from calculations.selectors.datasets import (
    chosen_datasets,
    dataset_choice_label,
    dataset_years_needed,
    valid_datasets,
)
from calculations.services.datasets import supported_year

YEARS_FIELD = "dataset_years"


def dataset_field_name(year: int) -> str:
    return f"dataset_{year}"


class DatasetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Dataset) -> str:
        return dataset_choice_label(obj)


class DatasetChoiceMixin:
    """Cleans the selects; `dataset_choices()` gives year -> Dataset (None: no valid file of that year)."""

    needed_dataset_years: list[int] = []
    dataset_campaign_year: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        shown = self.data.get(YEARS_FIELD) if self.is_bound else None
        self.years_shown = shown
        if self.is_bound and shown is not None:
            # The selects shown from now on are those of the year in the form: say so in the hidden field.
            self.data = self.data.copy()
            self.data[YEARS_FIELD] = self.fields[YEARS_FIELD].initial

    def clean(self):
        cleaned = super().clean()
        # A form posted without the selects (a script) takes the latest valid file of each year.
        if self.years_shown is not None and self.years_shown != years_text(self.needed_dataset_years):
            self.add_error(
                None,
                f"La campagne {self.dataset_campaign_year} utilise les fichiers nationaux de "
                f"{', '.join(str(y) for y in self.needed_dataset_years)} : choisissez-les ci-dessous puis enregistrez.",
            )
        return cleaned

    def dataset_choices(self) -> dict[int, Dataset | None]:
        return {year: self.cleaned_data.get(dataset_field_name(year)) for year in self.needed_dataset_years}


def years_text(years) -> str:
    return ",".join(str(y) for y in years)


def requested_year(request, campaign: Campaign | None) -> int | None:
    """The campaign year whose selects to show: the campaign's, else the year posted or asked
    (`?year=`), else the latest year a campaign can use."""
    if campaign is not None:
        return campaign.year
    text = request.POST.get("year") if request.method == "POST" else request.GET.get("year")
    if text is None:
        return latest_campaign_year()
    try:
        year = int(text)
    except ValueError:
        return None
    return year if supported_year(year) else None


def dataset_fields(*, year: int | None, campaign: Campaign | None = None) -> dict[str, forms.Field]:
    """The form fields (name -> field) of the selects for campaign `year`, in year order."""
    if year is None:
        return {}
    chosen = chosen_datasets(campaign=campaign) if campaign is not None else {}
    years = dataset_years_needed(year=year)
    fields: dict[str, forms.Field] = {}
    for needed in years:
        queryset = valid_datasets(year=needed)
        latest = queryset.first()
        initial = chosen[needed].dataset_id if needed in chosen else (latest.pk if latest else None)
        fields[dataset_field_name(needed)] = DatasetChoiceField(
            queryset,
            required=False,
            label=f"fichier national {needed}",
            # No empty choice when there is a file: the campaign always names one.
            empty_label=None if latest else f"aucun fichier validé pour {needed} : le plus récent au lancement",
            initial=initial,
            help_text="Par défaut le plus récent fichier valide de l'année ; un dépôt ultérieur ne change pas "
            "le fichier d'une campagne existante.",
        )
    fields[YEARS_FIELD] = forms.CharField(widget=forms.HiddenInput, required=False, initial=years_text(years))
    return fields


def form_with_dataset_choices(base: type[forms.ModelForm], *, year: int | None, campaign: Campaign | None = None):
    """`base` with the selects of campaign `year` declared (the admin lists them by name)."""
    fields = dataset_fields(year=year, campaign=campaign)
    years = [int(name.removeprefix("dataset_")) for name in fields if name != YEARS_FIELD]
    return type(
        base.__name__,
        (DatasetChoiceMixin, base),
        {**fields, "needed_dataset_years": years, "dataset_campaign_year": year},
    )
