from common.commands import ProjectCommand
from financing.selectors.programme import programme_csv, programme_text, programme_view, with_programme_json
from financing.selectors.report import financing_csv, financing_json, financing_report, financing_text


def _text(report, programme):
    extra = programme_text(programme)
    return financing_text(report) + (f"\n{extra}" if extra else "")


def _csv(report, programme):
    extra = programme_csv(programme)
    return financing_csv(report) + (f"\n{extra}" if extra else "")


def _json(report, programme):
    return with_programme_json(financing_json(report), programme)


RENDERERS = {"text": _text, "csv": _csv, "json": _json}


class Command(ProjectCommand):
    help = (
        "Rapport de financement FISS : versements payés par année, vague et nature, enveloppe prévue et total "
        "général ; puis, dès qu'une campagne est publiée, le tableau cumulé du programme (versé, gains observés, "
        "point mort, financement à ce jour)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=sorted(RENDERERS), default="text")

    def handle(self, *args, format, **options):
        self.stdout.write(RENDERERS[format](financing_report(), programme_view()), ending="")
