"""Write the public results file (METHODOLOGY section 9) of the campaigns in force into a directory."""

from pathlib import Path

from common.commands import ProjectCommand
from reports import selectors, services


class Command(ProjectCommand):
    help = "Écrit le fichier public des résultats (CSV, XLSX et schema.json) des campagnes publiées dans un répertoire."

    def add_arguments(self, parser):
        parser.add_argument("--outdir", type=Path, required=True, help="répertoire de sortie (créé au besoin)")

    def handle(self, *args, outdir, **options):
        files = services.write_public_files(outdir)
        campaigns = [f"{c.year} v{c.version}" for c in selectors.public_campaigns()]
        self.stdout.write(
            f"Fichier public écrit dans {outdir} : {', '.join(sorted(files))} "
            f"(campagnes : {', '.join(campaigns) or 'aucune campagne publiée'})"
        )
