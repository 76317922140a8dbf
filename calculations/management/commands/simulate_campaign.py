"""`manage.py simulate_campaign --year N [--campaign-version V] [--param name=value …] --output FILE`: a what-if
on a stored campaign (METHODOLOGY.md section 10), read-only.

Recomputes the campaign (latest version by default) on exactly its datasets (SHA-256 checked) and its
reference snapshot, with the `--param` values merged over its own parameters, and writes the JSON
(year, version, parameters, simulation, differences) or, with `--format csv`, the difference table.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError

from common.commands import ProjectCommand
from common.formatting import format_money


class Command(ProjectCommand):
    help = (
        "Simule une campagne enregistrée avec d'autres paramètres, sur exactement ses données, sans rien "
        "modifier ; écrit le JSON (ou le CSV des écarts)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="année N de la campagne")
        parser.add_argument(
            "--campaign-version", type=int, default=None, help="version de la campagne (par défaut la dernière)"
        )
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NOM=VALEUR",
            help="paramètre de la section 6 remplaçant celui de la campagne (répétable)",
        )
        parser.add_argument("--output", type=Path, required=True, help="fichier à écrire")
        parser.add_argument(
            "--format", choices=("json", "csv"), default="json", help="json (complet) ou csv (tableau des écarts)"
        )

    def handle(self, *args, year, campaign_version, param, output: Path, format: str, **options):
        if not output.parent.is_dir():  # said now, not after a long computation
            raise CommandError(f"{output} : le dossier {output.parent} n'existe pas")
        from calculations.engine import ParameterError
        from calculations.engine.parameters import parse_assignments
        from calculations.services.simulation_exports import differences_csv
        from calculations.services.simulations import simulate_stored_campaign, simulation_report, stored_campaign
        from calculations.services.transitions import CampaignError

        try:
            overrides = parse_assignments(param)
            campaign = stored_campaign(year=year, version=campaign_version)
            outcome = simulate_stored_campaign(campaign=campaign, overrides=overrides)
        except (CampaignError, ParameterError) as error:
            for line in error.messages:
                self.stderr.write(line)
            raise CommandError(f"simulate_campaign --year {year} : simulation refusée, voir ci-dessus") from None
        report = simulation_report(outcome)
        if format == "csv":
            content = differences_csv(report)
        else:
            content = (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            output.write_bytes(content)
        except OSError as error:
            raise CommandError(f"{output} : écriture impossible : {error.strerror or error}") from None
        total = report["differences"]["totals"]["final_amount"]
        self.stderr.write(
            f"{output} : campagne {year} v{campaign.version}, montant final {format_money(total['campaign'])} "
            f"→ simulé {format_money(total['simulated'])} (écart {format_money(total['difference'])})"
        )
