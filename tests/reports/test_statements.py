"""The statement PDF: every step from the stored result to the amount, PROJET until validation, stored
with its checksum, re-rendered idempotently. Figures come from expected_2022.json (G001)."""

import hashlib
import re
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.template.loader import get_template
from django.utils import timezone

from calculations.models import Campaign
from common.storage import LocalStorage
from reports import services
from reports.models import Statement
from reports.statements import render_statement_pdf
from tests.conftest import GOLDEN_DIR
from tests.reports.conftest import pdf_text
from tests.reports.factories import VALIDATED_AT, golden_campaign

pytestmark = pytest.mark.django_db


def g001_result(campaign):
    return campaign.results.select_related("campaign", "groupement__wave").get(code="G001")


@pytest.fixture
def computed(media_root):
    return golden_campaign(status="computed", codes=["G001", "G002"])


def test_statement_shows_every_step_and_the_exact_amount(computed):
    result = g001_result(computed)
    result.campaign.validated_at = VALIDATED_AT
    text = pdf_text(render_statement_pdf(result, draft=False))
    flat = re.sub(r"\s+", " ", text)
    assert "G001 – MSP de Saint-Amand" in flat
    assert "Montant à verser au titre de 2022 : 3 553,13 €" in flat
    assert "Vague 1 (V1)" in flat and "Phase 3 en 2022" in flat and "version" in flat
    assert "2 442" in flat and "2 438" in flat  # patients N and R
    assert "2 133,02 €" in flat and "1 893,30 €" in flat  # DR N, DA N
    assert "1 486,96 €" in flat and "1 522,59 €" in flat  # DR R, DA R
    assert "-239,72 €" in flat  # E = 1 893,30 − 2 133,02
    assert "-284,01 €" in flat  # Ev = 1 486,96 × 1 893,30 / 1 522,59 − 2 133,02
    assert "C_écart = 1/3 ; C_évolution = 2/3 ; C_partage = 1/2" in flat
    assert "8,61 / 11,67" in flat  # VACC_GRIPPE: 70/6 × (62,76 − 51,4)/(66,8 − 51,4)
    assert "-5,66 / 30,00" in flat  # SOINS_NON_PROG (carte): 30 × (43,50 − 45,82)/(63,4 − 51,1)
    assert "16,40" in flat and "38,90" in flat and "0,3241" in flat  # experience, S, q = 38,8956 / 120
    assert "25 870,92 €" in flat  # drawing right = 188 099,1394 × 2 442 / 17 755
    assert "8 385,54 €" in flat and "4 192,77 €" in flat  # quality value = right × q; phase 3: × 1/2
    assert "0,9297" in flat  # modulation 1 − 0,2 + 2 × 0,2 × 0,3241
    assert "118 875,66 €" in flat  # cap = 0,02 × 5 943 782,89
    assert "244 528,88 €" in flat and "0,847443" in flat  # C = 0,0065 × 37 619 827,88; k = C / 288 548,89
    assert "-693 552,84 €" in flat  # garantie budgétaire gain
    assert "national_ceiling_rate" in flat and "0,0065" in flat
    sha_2022 = hashlib.sha256((GOLDEN_DIR / "beneficiaires_2022.csv").read_bytes()).hexdigest()
    assert sha_2022 in flat
    assert "PROJET" not in text
    assert "20 mars 2023" in flat  # the validation date, not the rendering date


def test_below_min_patients_is_flagged(computed):
    result = g001_result(computed)
    result.below_min_patients = True
    text = re.sub(r"\s+", " ", pdf_text(render_statement_pdf(result, draft=True)))
    assert "inférieure au seuil de 300 patients" in text


def test_draft_statement_is_watermarked_projet(computed):
    text = pdf_text(render_statement_pdf(g001_result(computed), draft=True))
    assert "PROJET" in text
    assert "14 mars 2023" in re.sub(r"\s+", " ", text)  # computation date


def test_statement_is_a4_and_fetches_nothing(computed, tmp_path):
    pdf = render_statement_pdf(g001_result(computed), draft=True)
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    for name in ("reports/statement.html", "reports/statement.css", "reports/national_report_pdf.html"):
        source = Path(get_template(name).origin.name).read_text(encoding="utf-8")
        assert "http://" not in source and "https://" not in source and "url(" not in source
    assert "DejaVu" in subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout


def test_rendering_twice_gives_the_same_bytes(computed):
    result = g001_result(computed)
    assert render_statement_pdf(result, draft=True) == render_statement_pdf(result, draft=True)


def test_campaign_statements_are_stored_with_their_checksum_and_rerendering_is_idempotent(
    computed, media_root, monkeypatch
):
    services.render_campaign_statements(campaign=computed)
    statements = {s.groupement.code: s for s in Statement.objects.filter(campaign=computed)}
    assert sorted(statements) == ["G001", "G002"]
    for statement in statements.values():
        path = media_root / statement.file.name
        assert statement.file.name.startswith("statements/2022/2022_")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == statement.sha256
        assert statement.draft is True
    assert "PROJET" in pdf_text((media_root / statements["G001"].file.name).read_bytes())

    files_before = sorted(p.name for p in (media_root / "statements" / "2022").iterdir())
    writes = []
    real_save = LocalStorage._save
    monkeypatch.setattr(
        LocalStorage, "_save", lambda self, name, content: writes.append(name) or real_save(self, name, content)
    )
    services.render_campaign_statements(campaign=computed)
    assert writes == []  # the same bytes: nothing written
    again = {s.groupement.code: s for s in Statement.objects.filter(campaign=computed)}
    assert {c: (s.sha256, s.rendered_at, s.file.name) for c, s in again.items()} == {
        c: (s.sha256, s.rendered_at, s.file.name) for c, s in statements.items()
    }
    assert sorted(p.name for p in (media_root / "statements" / "2022").iterdir()) == files_before


def test_validation_rerenders_without_projet_and_removes_the_draft_file(
    computed, media_root, django_capture_on_commit_callbacks
):
    services.render_campaign_statements(campaign=computed)
    draft = Statement.objects.get(campaign=computed, groupement__code="G001")
    Campaign.objects.filter(pk=computed.pk).update(status=Campaign.Status.VALIDATED, validated_at=VALIDATED_AT)
    computed.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.render_campaign_statements(campaign=computed)
    final = Statement.objects.get(pk=draft.pk)
    assert final.draft is False and final.sha256 != draft.sha256 and final.rendered_at > draft.rendered_at
    text = pdf_text((media_root / final.file.name).read_bytes())
    assert "PROJET" not in text and "3 553,13 €" in text
    assert not (media_root / draft.file.name).exists()
    assert len(list((media_root / "statements" / "2022").glob("2022_G001_*"))) == 1


def test_status_change_during_rendering_is_not_lost(computed, media_root, monkeypatch):
    """A draft drawn while the campaign gets validated is drawn again, final."""
    real_render = services.render_statement_pdf
    calls = []

    def render_then_validate(result, *, draft):
        calls.append(draft)
        pdf = real_render(result, draft=draft)
        if len(calls) == 1:
            Campaign.objects.filter(pk=result.campaign_id).update(
                status=Campaign.Status.VALIDATED, validated_at=timezone.now()
            )
        return pdf

    monkeypatch.setattr(services, "render_statement_pdf", render_then_validate)
    group = computed.results.get(code="G001").groupement
    statement = services.render_statement(campaign_id=computed.pk, groupement_id=group.pk)
    assert calls == [True, False]
    assert statement.draft is False
    assert "PROJET" not in pdf_text((media_root / statement.file.name).read_bytes())
    assert [p.name for p in (media_root / "statements" / "2022").iterdir()] == [
        Path(statement.file.name).name
    ]  # stale draft removed


def test_statements_of_groupements_without_result_are_removed(computed, media_root, django_capture_on_commit_callbacks):
    services.render_campaign_statements(campaign=computed)
    g002 = Statement.objects.get(campaign=computed, groupement__code="G002")
    computed.results.filter(code="G002").delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.render_campaign_statements(campaign=computed)
    assert list(Statement.objects.filter(campaign=computed).values_list("groupement__code", flat=True)) == ["G001"]
    assert not (media_root / g002.file.name).exists()


def test_render_statements_command_uses_the_latest_version(media_root, tmp_path):
    golden_campaign(status="superseded", codes=["G001"], datasets=False, version=1)
    latest = golden_campaign(status="validated", codes=["G001", "G002"], datasets=False, version=2)
    call_command("render_statements", year=2022, outdir=tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["2022_G001_v2.pdf", "2022_G002_v2.pdf"]
    text = pdf_text((tmp_path / "out" / "2022_G002_v2.pdf").read_bytes())
    assert "G002" in text and "4 432,52 €" in text and "PROJET" not in text
    assert latest.version == 2


def test_render_statements_command_without_campaign_fails(tmp_path):
    with pytest.raises(CommandError, match="Aucune campagne 2031"):
        call_command("render_statements", year=2031, outdir=tmp_path)


def test_render_statements_command_renders_the_version_asked(media_root, tmp_path):
    golden_campaign(status="superseded", codes=["G001"], datasets=False, version=1)
    golden_campaign(status="validated", codes=["G001", "G002"], datasets=False, version=2)
    call_command("render_statements", "--year", "2022", "--campaign-version", "1", "--outdir", str(tmp_path / "v1"))
    assert sorted(p.name for p in (tmp_path / "v1").iterdir()) == ["2022_G001_v1.pdf"]
    with pytest.raises(CommandError, match="La campagne 2022 v7 n'existe pas ou n'a pas de résultats"):
        call_command("render_statements", "--year", "2022", "--campaign-version", "7", "--outdir", str(tmp_path))


def test_statement_dates_are_french_whatever_the_requester_language(computed):
    """Rendering may run inside a request (eager Celery) whose LocaleMiddleware activated English."""
    from django.utils import translation

    result = g001_result(computed)
    result.campaign.validated_at = VALIDATED_AT
    with translation.override("en"):
        flat = re.sub(r"\s+", " ", pdf_text(render_statement_pdf(result, draft=False)))
    assert "20 mars 2023" in flat and "March" not in flat
