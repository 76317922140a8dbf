"""Read queries on datasets: the valid national file of a year, whether a campaign uses it, its
problem report. Its files are read through `calculations.services.dataset_files`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from calculations.bundle.problems import Problem, format_problems
from calculations.bundle.reasons import rule_label
from calculations.models import Campaign, CampaignDataset, Dataset
from common.formatting import format_integer
from common.storage import StoredFile
from groupements.models import Wave

# Characters of a SHA-256 shown to people: enough to tell two files apart at a glance.
SHA256_PREFIX = 12


def valid_datasets(*, year: int | None = None, kind: str = Dataset.Kind.BENEFICIARIES) -> QuerySet[Dataset]:
    queryset = Dataset.objects.filter(kind=kind, status=Dataset.Status.VALID)
    if year is not None:
        queryset = queryset.filter(year=year)
    return queryset.order_by("-validated_at", "-pk")


def valid_dataset_for_year(*, year: int, kind: str = Dataset.Kind.BENEFICIARIES) -> Dataset | None:
    """The latest valid dataset of `kind` for `year` (the one a new campaign uses), or None."""
    return valid_datasets(year=year, kind=kind).first()


def dataset_years_needed(*, year: int) -> list[int]:
    """The years whose national file campaign `year` needs: N and the reference year of every wave that
    has groupements and a phase in N (the same as `CampaignInputs.years_needed` on its snapshot)."""
    reference_years = (
        Wave.objects.filter(phases__year=year, groupements__isnull=False)
        .values_list("reference_year", flat=True)
        .distinct()
    )
    return sorted({year, *reference_years})


def default_datasets(*, years) -> dict[int, Dataset]:
    """The latest valid file of each year that has one: what a new campaign uses unless told otherwise."""
    defaults = {}
    for year in years:
        dataset = valid_dataset_for_year(year=year)
        if dataset is not None:
            defaults[year] = dataset
    return defaults


def chosen_datasets(*, campaign: Campaign) -> dict[int, CampaignDataset]:
    """The dataset chosen for each year of `campaign` (year -> CampaignDataset, with its dataset)."""
    rows = campaign.campaign_datasets.select_related("dataset").order_by("year") if campaign.pk else []
    return {row.year: row for row in rows}


def dataset_choice_label(dataset: Dataset) -> str:
    """One line that tells a file apart from the other files of its year: number, name, upload date, rows
    and the start of its SHA-256."""
    uploaded = timezone.localtime(dataset.created_at).strftime("%d/%m/%Y à %H:%M") if dataset.created_at else "–"
    rows = f"{format_integer(dataset.row_count)} lignes" if dataset.row_count is not None else "lignes inconnues"
    return (
        f"n° {dataset.pk} · {dataset.original_name} · déposé le {uploaded} · {rows} · "
        f"SHA-256 {dataset.sha256[:SHA256_PREFIX]}…"
    )


def dataset_by_content(*, sha256: str, kind: str = Dataset.Kind.BENEFICIARIES) -> Dataset | None:
    return Dataset.objects.filter(kind=kind, sha256=sha256).first()


def dataset_label(dataset: Dataset) -> str:
    return f"Jeu de données n° {dataset.pk} ({dataset.get_kind_display().lower()} {dataset.year})"


def stored_dataset_files() -> Iterator[StoredFile]:
    """Every stored file of the datasets with its recorded SHA-256: each Parquet, and each raw upload
    awaiting validation (named after the SHA-256 of its bytes)."""
    datasets = Dataset.objects.filter(~Q(parquet_file="") | ~Q(upload_file="")).order_by("year", "pk")
    for dataset in datasets.iterator():
        if dataset.parquet_file:
            yield StoredFile(f"{dataset_label(dataset)}, Parquet", dataset.parquet_file.name, dataset.parquet_sha256)
        if dataset.upload_file:
            yield StoredFile(f"{dataset_label(dataset)}, fichier déposé", dataset.upload_file.name, dataset.sha256)


def dataset_is_used(dataset: Dataset) -> bool:
    """Whether a campaign uses the dataset (it is then frozen: no change, no deletion)."""
    return dataset.pk is not None and dataset.campaign_uses.exists()


def datasets_awaiting_validation() -> QuerySet[Dataset]:
    return Dataset.objects.filter(status__in=(Dataset.Status.UPLOADED, Dataset.Status.VALIDATING)).order_by(
        "created_at"
    )


def remaining_problem_counts(dataset: Dataset) -> dict[str, int]:
    """Problems beyond the ones kept one by one, per rule (most frequent first)."""
    shown: dict[str, int] = {}
    for problem in dataset.problems:
        shown[problem.get("rule", "")] = shown.get(problem.get("rule", ""), 0) + 1
    rest = {rule: count - shown.get(rule, 0) for rule, count in (dataset.problem_counts or {}).items()}
    return dict(
        sorted(((rule, count) for rule, count in rest.items() if count > 0), key=lambda item: (-item[1], item[0]))
    )


def dataset_problem_lines(dataset: Dataset) -> list[str]:
    """The report as `file:line: column: reason` lines, then `… and K more (rule: n, …)`."""
    problems = [Problem(**record) for record in dataset.problems]
    return format_problems(problems, limit=len(problems), more=Counter(remaining_problem_counts(dataset)))


# `regle` is the rule's stable code (to filter or count on); `libelle_regle` says it in French.
PROBLEM_CSV_HEADER = ["fichier", "ligne", "colonne", "motif", "regle", "libelle_regle"]


def dataset_problem_rows(dataset: Dataset) -> list[list]:
    """The report as CSV rows (header first); problems beyond the first ones as one count per rule."""
    rows: list[list] = [PROBLEM_CSV_HEADER]
    for problem in dataset.problems:
        line = problem.get("line")
        rows.append(
            [
                problem.get("file", ""),
                "" if line is None else line,
                problem.get("column") or "",
                problem.get("reason", ""),
                problem.get("rule", ""),
                rule_label(problem.get("rule", "")),
            ]
        )
    for rule, count in remaining_problem_counts(dataset).items():
        rows.append(
            [dataset.original_name, "", "", f"… et {count} autre(s) problème(s) de ce type", rule, rule_label(rule)]
        )
    return rows


def dataset_status(dataset: Dataset) -> dict:
    """What the admin page polls while a dataset is being validated."""
    return {
        "id": dataset.pk,
        "status": dataset.status,
        "status_label": dataset.get_status_display(),
        "progress": round(float(dataset.progress or 0.0), 4),
        "percent": round(float(dataset.progress or 0.0) * 100),
        "step": dataset.progress_step,
        "final": dataset.is_final,
        "row_count": dataset.row_count,
        "problem_count": dataset.problem_count,
    }


def stale_validations(*, now=None) -> QuerySet[Dataset]:
    """Datasets `validating` whose task gave no sign of life for IPEP_DATASET_STALE_AFTER_SECONDS (it beats
    every IPEP_HEARTBEAT_SECONDS while it runs)."""
    limit = (now or timezone.now()) - timedelta(seconds=settings.IPEP_DATASET_STALE_AFTER_SECONDS)
    return Dataset.objects.filter(status=Dataset.Status.VALIDATING).filter(
        Q(heartbeat_at__lt=limit)
        | Q(heartbeat_at__isnull=True, validation_started_at__lt=limit)
        | Q(heartbeat_at__isnull=True, validation_started_at__isnull=True, created_at__lt=limit)
    )
