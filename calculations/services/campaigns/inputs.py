"""What a campaign needs before it is launched: every missing file or table, grouped."""

from __future__ import annotations

from datetime import date

from calculations.bundle.problems import Problem
from calculations.models import Campaign
from calculations.selectors import campaigns as selectors
from calculations.selectors.datasets import (
    chosen_datasets,
    valid_dataset_for_year,
)

from ..dataset_files import parquet_exists
from ..transitions import (
    CampaignError,
)
from .creation import PARAMETERS_SOURCE, merge_parameters


def check_campaign_inputs(*, campaign: Campaign) -> tuple[dict, dict[int, object]]:
    """The reference snapshot and the dataset of each year needed; CampaignError lists every problem.

    Checked here so that a bad input is refused at launch, before any computing: parameters, at least
    one participating groupement, every socle indicator and its deciles for each of them, active
    members, and a valid national file (with its Parquet) for N and each reference year.
    """
    problems: list[str] = []
    try:
        merge_parameters((PARAMETERS_SOURCE, campaign.parameters))
    except CampaignError as error:
        problems.extend(error.messages)
    year = campaign.year
    snapshot = selectors.reference_snapshot(year=year)

    def problem(file, column, reason):
        problems.append(str(Problem(file, None, column, reason)))

    groupements = [g["code"] for g in snapshot["groupements"]]
    if not groupements:
        problem(
            "calendrier_phases.csv",
            "annee",
            f"aucun groupement ne participe à la campagne {year} (aucune vague n'a de ligne pour {year})",
        )
    socle = [i["code"] for i in snapshot["indicators"] if i["family"] == "socle"]
    if not socle:
        problem("indicateurs.csv", "famille", "aucun indicateur socle n'est défini")
    problems.extend(str(p) for p in _missing_reference_rows(snapshot, groupements=groupements, socle=socle))

    datasets = {}
    chosen = chosen_datasets(campaign=campaign)
    for needed in selectors.snapshot_inputs(snapshot).years_needed() if groupements else []:
        # The file chosen for the year; the latest valid one if none was chosen (none existed at creation).
        dataset = chosen[needed].dataset if needed in chosen else valid_dataset_for_year(year=needed)
        if dataset is None:
            problem(
                f"beneficiaires_{needed}.csv",
                None,
                f"aucun fichier national validé pour {needed} (nécessaire à la campagne {year})",
            )
        elif not parquet_exists(dataset):
            problem(
                f"beneficiaires_{needed}.csv",
                None,
                f"le fichier Parquet du jeu de données {dataset.pk} est introuvable",
            )
        else:
            datasets[needed] = dataset
    if problems:
        raise CampaignError(problems)
    return snapshot, datasets


def _listed(codes, limit: int = 10) -> str:
    """`G001, G002, G003` — the first `limit` codes, then how many more."""
    codes = sorted(codes)
    shown = ", ".join(codes[:limit])
    return f"{shown} … et {len(codes) - limit} autres" if len(codes) > limit else shown


def _groupements(count: int) -> str:
    return f"{count} groupement{'s' if count > 1 else ''}"


def _missing_reference_rows(snapshot: dict, *, groupements: list[str], socle: list[str]) -> list[Problem]:
    """What the reference tables lack for the campaign, one problem per missing file or table (never one
    per groupement × indicator): indicator results, deciles, members at 31/12 of N."""
    year = snapshot["year"]
    problems = []
    results_file = f"resultats_indicateurs_{year}.csv"
    present = {(r["groupement"], r["indicator"]) for r in snapshot["indicator_results"]}
    if groupements and socle and not present:
        problems.append(
            Problem(
                results_file,
                None,
                None,
                f"aucun résultat d'indicateur chargé pour {year} ({_groupements(len(groupements))} participants)",
            )
        )
    elif groupements and socle:
        missing: dict[str, list[str]] = {}
        for indicator in socle:
            absent = [code for code in groupements if (code, indicator) not in present]
            if absent:
                missing[indicator] = absent
        if missing:
            lacking = {code for codes in missing.values() for code in codes}
            detail = " ; ".join(f"{indicator} ({_listed(codes)})" for indicator, codes in missing.items())
            problems.append(
                Problem(
                    results_file,
                    None,
                    "code_indicateur",
                    f"indicateurs socle manquants pour {_groupements(len(lacking))} : {detail}",
                )
            )
    deciles_file = f"deciles_{year}.csv"
    with_deciles = {d["indicator"] for d in snapshot["deciles"]}
    # The deciles of every indicator with results; of every socle indicator when no result is loaded yet.
    used = {r["indicator"] for r in snapshot["indicator_results"]} or (set(socle) if groupements else set())
    if used and not with_deciles:
        problems.append(Problem(deciles_file, None, None, f"aucun décile chargé pour {year}"))
    elif used - with_deciles:
        problems.append(
            Problem(
                deciles_file,
                None,
                "code_indicateur",
                f"pas de déciles {year} pour les indicateurs {_listed(used - with_deciles)}",
            )
        )
    end_of_year = date(year, 12, 31).isoformat()
    active = {
        m["groupement"]
        for m in snapshot["members"]
        if m["start"] <= end_of_year and (m["end"] is None or m["end"] >= end_of_year)
    }
    without_members = [code for code in groupements if code not in active]
    if without_members:
        problems.append(
            Problem(
                "membres.csv",
                None,
                "code_groupement",
                f"aucun membre au 31/12/{year} pour {_groupements(len(without_members))} : {_listed(without_members)}",
            )
        )
    return problems
