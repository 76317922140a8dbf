"""`manage.py simulate BUNDLE --year N`: compute a campaign from a bundle, without the database.

A what-if tool: try parameters (`--param c_partage=0.6`) and read the JSON of METHODOLOGY.md section 5
(or a `;`-separated CSV for a spreadsheet). Problems are printed to stderr as `file:line: column: reason`,
the reason in French (calculations.bundle.reasons), like everything else the command says.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

from django.core.management.base import CommandError

from calculations.bundle.beneficiaries import scan_beneficiaries
from calculations.bundle.problems import BundleError, Problem, format_problems
from calculations.bundle.reasons import reason
from calculations.bundle.reference import beneficiaries_path, bundle_from_records, read_reference_records
from calculations.engine import (
    CampaignInputs,
    CampaignResults,
    EngineError,
    ParameterError,
    Parameters,
    compute_campaign,
)
from calculations.engine.parameters import BUNDLE_SOURCE, OVERRIDE_SOURCE, split_assignments
from common.commands import ProjectCommand
from common.formatting import format_money
from common.spreadsheets import csv_writer


class Command(ProjectCommand):
    help = "Calcule la campagne N à partir d'un lot de fichiers, sans toucher à la base ; écrit du JSON (ou du CSV)."

    def add_arguments(self, parser):
        parser.add_argument("bundle", type=Path, help="dossier du lot (METHODOLOGY.md, section 3)")
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NOM=VALEUR",
            help="remplace un paramètre de la section 6 (répétable ; l'emporte sur parametres.json)",
        )
        parser.add_argument("--output", type=Path, help="écrit dans ce fichier plutôt que sur la sortie standard")
        parser.add_argument(
            "--format",
            choices=("json", "csv"),
            default="json",
            help="json (section 5) ou csv (une ligne par groupement, séparateur « ; »)",
        )

    def handle(self, *args, bundle: Path, year: int, param: list[str], output: Path | None, format: str, **options):
        if output and not output.parent.is_dir():  # said now, not after a long computation
            raise CommandError(f"{output} : le dossier {output.parent} n'existe pas")
        try:
            results = simulate(bundle, year, param, warn=self.stderr.write)
        except BundleError as error:  # a rejected beneficiaries file also counts the problems past the first 100
            raise self.refusal(error.lines(), error.problem_count, bundle, year) from error
        except (ParameterError, EngineError) as error:
            raise self.refusal(error.messages, len(error.problems), bundle, year) from error
        text = render(results, format)
        if output:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as error:
                raise CommandError(
                    f"{output} : impossible d'écrire les résultats : {error.strerror or error}"
                ) from None
            self.stderr.write(
                f"{output} : {len(results.groupements)} groupements, total {format_money(results.totals.final_amount)}"
            )
        else:
            sys.stdout.write(text)

    def refusal(self, lines: list[str], count: int, bundle: Path, year: int) -> CommandError:
        for line in lines:
            self.stderr.write(line)
        return CommandError(f"simulate {bundle} --year {year} : {count} problème(s), voir ci-dessus")


def simulate(
    bundle: Path, year: int, assignments: list[str], warn: Callable[[str], object] | None = None
) -> CampaignResults:
    """Read the bundle, merge parameters (defaults → parametres.json → assignments) and compute campaign `year`.

    Raises BundleError with every problem of every file and of the parameters (each file its own first
    problems and `… and K more`), or EngineError; `warn` receives the bundle's warnings (unknown
    columns…) as `file:line: column: reason`.
    """
    inputs, parameters = checked_inputs(bundle, year, assignments, warn)
    return compute_campaign(inputs, parameters)


def checked_inputs(
    bundle: Path, year: int, assignments: list[str], warn: Callable[[str], object] | None = None
) -> tuple[CampaignInputs, Parameters]:
    """The inputs and parameters of campaign `year`: every reference file, the parameters and every national
    file needed are checked before anything is refused (section 3: a refusal never stops at the first
    file with a problem)."""
    say = warn or (lambda text: None)
    records, collector = read_reference_records(Path(bundle), years=[year])
    if not Path(bundle).is_dir():
        raise collector.error()
    refusals = [collector.error()] if collector.problems else []
    reference = bundle_from_records(records, year)
    overrides, problems = split_assignments(assignments)
    parameters = None
    try:
        parameters = Parameters.merge((BUNDLE_SOURCE, reference.parameters), (OVERRIDE_SOURCE, overrides))
    except ParameterError as error:
        problems += error.problems
    if problems:
        refusals.append(BundleError(problems))
    beneficiaries, warnings = {}, list(reference.warnings)
    for y in reference.years_needed():
        path = beneficiaries_path(bundle, y)
        if not path.is_file():
            text = reason("missing_year_file", year=year, needed=y)
            refusals.append(BundleError([Problem(path.name, None, None, text, "missing_file")]))
            continue
        try:
            beneficiaries[y] = scan_beneficiaries(path, warnings=warnings)
        except BundleError as error:
            refusals.append(error)
            warnings += error.warnings
    for line in format_problems(warnings):
        say(f"avertissement : {line}")
    if refusals:
        raise BundleError.combine(refusals)
    return reference.with_beneficiaries(beneficiaries), parameters


def render(results: CampaignResults, format: str) -> str:
    if format == "csv":
        buffer = io.StringIO()
        csv_writer(buffer, delimiter=";", lineterminator="\n").writerows(results.csv_rows())
        return buffer.getvalue()
    return json.dumps(results.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
