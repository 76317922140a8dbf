"""Creating a campaign: its year, its parameters and the national files it will use."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from calculations.engine import ParameterError, Parameters
from calculations.models import Campaign, CampaignDataset, Dataset
from calculations.selectors.datasets import (
    chosen_datasets,
    dataset_years_needed,
    default_datasets,
)
from common.errors import require_permission

from ..datasets import MAX_YEAR, MIN_YEAR, supported_year
from ..transitions import (
    CampaignError,
    CampaignPermissionDenied,
    actor_user,
    audit_context,
)

Status = Campaign.Status


PARAMETERS_SOURCE = "paramètres de la campagne"


PREVIOUS_VERSION_SOURCE = "version précédente"


def _require(actor, permission: str, action: str) -> None:
    require_permission(actor, permission, action, refusal=CampaignPermissionDenied)


def merge_parameters(*layers: tuple[str, dict]) -> Parameters:
    """Defaults, then each layer (later wins), checked as section 6 says; CampaignError lists every problem."""
    try:
        return Parameters.merge(*layers)
    except ParameterError as error:
        raise CampaignError(error.messages) from None


def check_year(year) -> int:
    """`year` when a campaign may be created for it; CampaignError otherwise (a date must exist for it)."""
    if not supported_year(year):
        raise CampaignError(f"Année de campagne invalide : {year!r} (attendu entre {MIN_YEAR} et {MAX_YEAR}).")
    return year


def checked_dataset_choices(*, year: int, datasets: dict[int, Dataset | None] | None = None) -> dict[int, Dataset]:
    """The dataset of each year campaign `year` needs: the one given in `datasets` (year -> Dataset), else
    the latest valid file of that year (a year without any valid file is left out: chosen at launch).
    CampaignError when a given dataset is not a valid national file of its year, or of a year not needed."""
    needed = dataset_years_needed(year=year)
    given = {y: dataset for y, dataset in (datasets or {}).items() if dataset is not None}
    problems = []
    for chosen_year, dataset in sorted(given.items()):
        if chosen_year not in needed:
            years = ", ".join(str(y) for y in needed)
            problems.append(
                f"La campagne {year} n'utilise pas de fichier national de {chosen_year} (années utilisées : {years})."
            )
        elif (dataset.year, dataset.status, dataset.kind) != (
            chosen_year,
            Dataset.Status.VALID,
            Dataset.Kind.BENEFICIARIES,
        ):
            problems.append(f"Le jeu de données n° {dataset.pk} n'est pas un fichier national validé de {chosen_year}.")
    if problems:
        raise CampaignError(problems)
    defaults = default_datasets(years=[y for y in needed if y not in given])
    return dict(sorted({**defaults, **given}.items()))


def _record_dataset_choices(*, campaign: Campaign, datasets: dict[int, Dataset], user) -> None:
    """Store `datasets` (year -> Dataset) as the campaign's choice: rows of other years are removed, a row
    already naming the same dataset is kept as it is (who chose it, and when)."""
    current = chosen_datasets(campaign=campaign)
    stale = [row.pk for y, row in current.items() if y not in datasets or row.dataset_id != datasets[y].pk]
    CampaignDataset.objects.filter(pk__in=stale).delete()
    now = timezone.now()
    CampaignDataset.objects.bulk_create(
        CampaignDataset(
            campaign=campaign,
            dataset=dataset,
            year=y,
            sha256=dataset.sha256,
            chosen_by=actor_user(user),
            chosen_at=now,
        )
        for y, dataset in sorted(datasets.items())
        if y not in current or current[y].pk in stale
    )


def _creation_plan(
    *, year, layers: list[tuple[str, dict]], datasets: dict[int, Dataset | None] | None, existing: list[Campaign]
) -> tuple[list[str], Parameters | None, dict[int, Dataset], Campaign | None]:
    """Every reason to refuse creating campaign `year` over the `existing` campaigns of that year, then
    what to create when there is none: the merged parameters, the datasets and the campaign in force.
    Each check runs whatever the others found, so that one refusal lists every problem."""
    problems: list[str] = []
    choices: dict[int, Dataset] = {}
    try:
        check_year(year)
    except CampaignError as error:
        problems += error.messages
    else:
        try:
            choices = checked_dataset_choices(year=year, datasets=datasets)
        except CampaignError as error:
            problems += error.messages
    open_ones = [c for c in existing if c.status in Campaign.OPEN_STATUSES]
    if open_ones:
        current = open_ones[0]
        problems.append(
            f"La campagne {year} v{current.version} est en cours ({current.get_status_display()}) : "
            "modifiez-la ou relancez-la plutôt que d'en créer une autre."
        )
    in_force = next((c for c in existing if c.status in Campaign.IN_FORCE_STATUSES), None)
    # A new version starts from the parameters of the one in force: the overrides are checked over them.
    previous = [(PREVIOUS_VERSION_SOURCE, in_force.parameters)] if in_force else []
    merged = None
    try:
        merged = merge_parameters(*previous, *layers)
    except CampaignError as error:
        problems += error.messages
    return problems, merged, choices, in_force


def campaign_creation_problems(
    *, year, parameter_layers: list[tuple[str, dict]], datasets: dict[int, Dataset | None] | None = None
) -> list[str]:
    """Every reason `create_campaign` would refuse these inputs now (empty: it would create the campaign),
    for a caller that has problems of its own to report with them. Creates nothing."""
    existing = list(Campaign.objects.filter(year=year).order_by("-version")) if supported_year(year) else []
    return _creation_plan(year=year, layers=parameter_layers, datasets=datasets, existing=existing)[0]


def create_campaign(
    *,
    year: int,
    user,
    parameters: dict | None = None,
    datasets: dict[int, Dataset | None] | None = None,
    parameter_layers: list[tuple[str, dict]] | None = None,
) -> Campaign:
    """A new campaign for `year` in draft, with the dataset of each year it needs: those of `datasets`
    (year -> Dataset), the latest valid file of the other years. A later upload never changes them.

    The parameters are `parameters`, or `parameter_layers` — `(source, values)` pairs, later wins — when
    a refusal should name where each value came from (parametres.json, --param).

    When a campaign of that year is in force (published or paid), the new one is its next version,
    supersedes it (once published) and starts from its parameters. Refused while another campaign of
    the year is being prepared. A refusal lists every problem found (year, datasets, parameters).
    """
    _require(user, "calculations.add_campaign", "créer une campagne")
    layers = parameter_layers if parameter_layers is not None else [(PARAMETERS_SOURCE, parameters or {})]
    with audit_context(user), transaction.atomic():
        existing = (
            list(Campaign.objects.select_for_update().filter(year=year).order_by("-version"))
            if supported_year(year)
            else []
        )
        problems, merged, choices, in_force = _creation_plan(
            year=year, layers=layers, datasets=datasets, existing=existing
        )
        if problems:
            raise CampaignError(problems)
        try:
            with transaction.atomic():
                created = Campaign.objects.create(
                    year=year,
                    version=(existing[0].version + 1) if existing else 1,
                    parameters=merged.to_json_dict(),
                    supersedes=in_force,
                    created_by=actor_user(user),
                    contestation_days=settings.IPEP_CONTESTATION_DAYS,
                )
        except IntegrityError:
            # Another creation for the same year committed first (the partial unique index caught it).
            raise CampaignError(f"Une autre campagne {year} vient d'être créée : rechargez la page.") from None
        _record_dataset_choices(campaign=created, datasets=choices, user=user)
        return created


def choose_campaign_datasets(*, campaign: Campaign, user, datasets: dict[int, Dataset | None]) -> Campaign:
    """Change the datasets of a draft (or failed) campaign: `datasets` (year -> Dataset, None for the latest
    valid file of the year) for every year it needs; refused once the campaign has been launched."""
    _require(user, "calculations.change_campaign", "modifier une campagne")
    with audit_context(user), transaction.atomic():
        locked = _locked_while_editable(campaign, what="Les jeux de données")
        _record_dataset_choices(
            campaign=locked, datasets=checked_dataset_choices(year=locked.year, datasets=datasets), user=user
        )
        return locked


def update_campaign_parameters(*, campaign: Campaign, user, parameters: dict) -> Campaign:
    """Replace the parameters of a draft (or failed) campaign: `parameters` merged over the defaults."""
    _require(user, "calculations.change_campaign", "modifier une campagne")
    merged = merge_parameters((PARAMETERS_SOURCE, parameters or {}))
    with audit_context(user), transaction.atomic():
        locked = _locked_while_editable(campaign, what="Les paramètres")
        locked.parameters = merged.to_json_dict()
        locked.save(update_fields=["parameters"])
        return locked


def _locked_while_editable(campaign: Campaign, *, what: str) -> Campaign:
    """`campaign` locked for the rest of the transaction, refused unless still a draft (or failed)."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not locked.parameters_editable:
        raise CampaignError(
            f"{what} de la campagne {locked.year} v{locked.version} ne sont plus modifiables "
            f"(« {locked.get_status_display()} »)."
        )
    return locked
