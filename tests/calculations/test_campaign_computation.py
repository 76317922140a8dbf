"""Launching and computing a campaign (eager Celery, any database): the stored results reproduce the
golden file to the exact cent, inputs are checked before computing, a failure is kept and relaunchable,
a dead worker is detected, and no retry or late message ever duplicates or overwrites results."""

import dataclasses
import datetime
import math

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from calculations.models import Campaign, CampaignTransition, GroupementResult
from calculations.selectors.campaigns import campaign_results_json
from calculations.services import campaigns as services
from calculations.services.transitions import CampaignError
from calculations.tasks.campaigns import compute_campaign_task
from groupements.models import Groupement, IndicatorResult, Member, Wave, YearlyDecile
from groupements.roles import CALCULATOR, VALIDATOR
from tests.calculations.campaign_factories import (  # noqa: F401
    exact_cents_differences,
    expected_golden,
    golden_parameters,
    launch_and_compute,
    store_golden_datasets,
)
from tests.golden import GOLDEN_DIR, GOLDEN_EXPECTED_V2, golden_results

Status = Campaign.Status


@pytest.fixture
def calculator(make_user):
    return make_user(role=CALCULATOR)


@pytest.fixture
def draft(loaded_reference, media_root, calculator):
    """Campaign 2022 in draft with the golden bundle's reference data, parameters and datasets."""
    store_golden_datasets()
    return services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())


@pytest.mark.django_db
def test_stored_results_reproduce_the_golden_file_to_the_exact_cent(
    draft, calculator, django_capture_on_commit_callbacks
):
    campaign = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)

    assert campaign.status == Status.COMPUTED, campaign.error
    stored = campaign_results_json(campaign=campaign)
    differences, compared = exact_cents_differences(expected_golden(), stored)
    assert differences == []
    assert compared > 300
    assert stored["totals"]["final_amount"] == "244528.88"
    assert stored["parameters"] == expected_golden()["parameters"]
    assert [list(g) for g in stored["groupements"]] == [list(g) for g in expected_golden()["groupements"]]
    # expected_2022.json (v2, steps 1–12) is still met: noise_gate = off changes nothing.
    assert exact_cents_differences(expected_golden(GOLDEN_EXPECTED_V2.name), stored)[0] == []
    assert GroupementResult.objects.filter(campaign=campaign).count() == 12
    assert (campaign.progress, campaign.progress_step) == (1.0, "terminé")
    # The datasets it used, with their checksums, and the reference rows, so it can be recomputed.
    assert {d.year: d.sha256 for d in campaign.campaign_datasets.all()} == {
        d.year: d.dataset.sha256 for d in campaign.campaign_datasets.all()
    }
    assert sorted(d.year for d in campaign.campaign_datasets.all()) == [2018, 2019, 2022]
    assert len(campaign.reference_snapshot["groupements"]) == 12
    history = list(campaign.transitions.values_list("from_status", "to_status", "user", "actor"))
    assert history == [("draft", "computing", calculator.pk, ""), ("computing", "computed", None, "tâche de calcul")]


@pytest.mark.django_db
def test_quality_details_are_the_points_of_step_7(draft, calculator, django_capture_on_commit_callbacks):
    campaign = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)
    g001 = campaign.results.get(code="G001")
    details = {d["code"]: d for d in g001.quality_details}

    # G001: 6 socle indicators share 0.7 · 100 = 70 points, its 1 carte indicator gets the other 30.
    assert details["VACC_GRIPPE"]["max_points"] == pytest.approx(70 / 6)
    assert details["SOINS_NON_PROG"]["max_points"] == 30
    # hausse, d3 51.4 ≤ 62.76 < d8 66.8: f = (62.76 − 51.4) / (66.8 − 51.4) = 11.36 / 15.4
    assert details["VACC_GRIPPE"]["fraction"] == pytest.approx(11.36 / 15.4)
    # hausse, 20.91 < d3 30.5: f = (20.91 − 25.42) / (48.0 − 30.5) = −4.51 / 17.5
    assert details["DEPIST_CCR"]["points"] == pytest.approx(70 / 6 * -4.51 / 17.5)
    # carte, hausse, 43.50 < d3 51.1: f = (43.50 − 45.82) / (63.4 − 51.1) = −2.32 / 12.3
    assert details["SOINS_NON_PROG"]["points"] == pytest.approx(30 * -2.32 / 12.3)
    assert g001.experience_points == 16.4
    assert math.fsum([*(d["points"] for d in details.values()), g001.experience_points]) == pytest.approx(
        g001.quality_score, rel=1e-12
    )


@pytest.mark.django_db
def test_stored_results_hold_every_figure_the_engine_returned(draft, calculator, django_capture_on_commit_callbacks):
    """The statement figures (S max, phase-3 factor, indicator lines…) are stored as the engine computed them,
    exactly as `simulate` returns them for the same bundle."""
    campaign = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)
    stored = {r.code: r for r in campaign.results.all()}
    for row in golden_results().groupements:
        result = stored[row.code]
        for field in dataclasses.fields(row):
            value = getattr(row, field.name)
            if field.name == "quality_details":
                value = [line.to_json_dict() for line in value]
            assert getattr(result, field.name) == value, (row.code, field.name)
    g001 = stored["G001"]  # phase 3, q = 0.3241…: 1 − 0.2 + 2 × 0.2 × q
    assert g001.phase3_factor == 1 - 0.2 + 2 * 0.2 * g001.quality_ratio
    assert g001.score_max == 120.0
    assert g001.indicator_points == math.fsum(d["points"] for d in g001.quality_details)
    assert g001.amount_after_coefficient == g001.amount_after_cap * campaign.national_coefficient
    assert {r.phase3_factor for r in stored.values() if r.phase != 3} == {None}


@pytest.mark.django_db
def test_a_stored_campaign_with_the_noise_gate_on_pays_what_simulate_pays(
    loaded_reference, media_root, calculator, django_capture_on_commit_callbacks
):
    """noise_gate = on: G004's gain (the only one flagged) is not paid, and the cents are shared again."""
    from calculations.management.commands.simulate import simulate

    store_golden_datasets()
    gated = services.create_campaign(year=2022, user=calculator, parameters={**golden_parameters(), "noise_gate": "on"})
    campaign = launch_and_compute(gated, calculator, django_capture_on_commit_callbacks)
    stored = campaign_results_json(campaign=campaign)
    expected = simulate(GOLDEN_DIR, 2022, ["noise_gate=on"]).to_json_dict()
    assert exact_cents_differences(expected, stored)[0] == []
    assert stored["parameters"]["noise_gate"] == "on"
    g004 = next(g for g in stored["groupements"] if g["code"] == "G004")
    assert g004["efficiency_noise"] and (g004["amount_per_patient"], g004["efficiency_amount"]) == (0.0, 0.0)
    ungated = {g["code"]: g for g in expected_golden()["groupements"]}
    assert g004["efficiency_amount_untruncated"] == ungated["G004"]["efficiency_amount_untruncated"]
    assert g004["final_amount"] != ungated["G004"]["final_amount"]
    assert stored["totals"]["final_amount"] == "244528.88"  # the ceiling still binds: the same total, shared again


@pytest.mark.django_db
def test_a_retry_or_a_late_message_never_duplicates_or_overwrites_results(
    draft, calculator, make_user, django_capture_on_commit_callbacks
):
    campaign = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)
    first_token, first_ids = campaign.task_id, set(campaign.results.values_list("pk", flat=True))

    # A redelivered message (same token) finds the campaign computed: nothing happens.
    assert services.run_campaign_computation(campaign_id=campaign.pk, token=first_token) is None
    compute_campaign_task.delay(campaign.pk, first_token)
    assert set(campaign.results.values_list("pk", flat=True)) == first_ids
    assert campaign.transitions.count() == 2
    # The database itself refuses a second result for a groupement.
    duplicate = campaign.results.get(code="G001")
    duplicate.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()

    services.reject_campaign(campaign=campaign, user=make_user(role=VALIDATOR), reason="à refaire")
    relaunched = launch_and_compute(campaign, calculator, django_capture_on_commit_callbacks)

    assert relaunched.status == Status.COMPUTED
    assert relaunched.task_id != first_token
    assert relaunched.results.count() == 12  # replaced, not added
    assert not set(relaunched.results.values_list("pk", flat=True)) & first_ids
    # The first launch's message arriving now is outdated: ignored.
    assert services.run_campaign_computation(campaign_id=campaign.pk, token=first_token) is None
    assert relaunched.results.count() == 12


@pytest.mark.django_db
def test_missing_dataset_and_missing_socle_indicator_are_refused_at_launch_all_listed(
    loaded_reference, media_root, calculator
):
    store_golden_datasets(years=(2019, 2022))
    IndicatorResult.objects.filter(year=2022, groupement__code="G003", indicator__code="HOSP_EVIT").delete()
    campaign = services.create_campaign(year=2022, user=calculator, parameters=golden_parameters())

    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(campaign=campaign, user=calculator)

    assert refused.value.messages == [
        "resultats_indicateurs_2022.csv: code_indicateur: indicateurs socle manquants pour 1 groupement : HOSP_EVIT (G003)",
        "beneficiaires_2018.csv: -: aucun fichier national validé pour 2018 (nécessaire à la campagne 2022)",
    ]
    campaign.refresh_from_db()
    assert (campaign.status, campaign.task_id, campaign.reference_snapshot) == (Status.DRAFT, "", {})
    assert not campaign.transitions.exists()
    assert sorted(campaign.campaign_datasets.values_list("year", flat=True)) == [2019, 2022]  # chosen at creation


@pytest.mark.django_db
def test_missing_reference_data_is_reported_one_line_per_missing_file_or_table(
    loaded_reference, media_root, calculator
):
    store_golden_datasets()
    # 2023: the calendar has it, nothing else is loaded yet (no results, deciles, experience, national file).
    campaign = services.create_campaign(year=2023, user=calculator)
    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(campaign=campaign, user=calculator)
    assert refused.value.messages == [
        "resultats_indicateurs_2023.csv: -: aucun résultat d'indicateur chargé pour 2023 (12 groupements participants)",
        "deciles_2023.csv: -: aucun décile chargé pour 2023",
        "beneficiaires_2023.csv: -: aucun fichier national validé pour 2023 (nécessaire à la campagne 2023)",
    ]

    # 2022 with holes: two socle indicators missing for several groupements, a decile row, every member of two.
    IndicatorResult.objects.filter(year=2022, groupement__code__in=["G001", "G002", "G003"]).filter(
        indicator__code__in=["HOSP_EVIT", "POLYMED_75"]
    ).delete()
    YearlyDecile.objects.filter(year=2022, indicator__code="VACC_GRIPPE").delete()
    Member.objects.filter(groupement__code__in=["G010", "G011"]).delete()
    campaign = services.create_campaign(year=2022, user=calculator)
    with pytest.raises(CampaignError) as refused:
        services.launch_campaign(campaign=campaign, user=calculator)
    assert refused.value.messages == [
        "resultats_indicateurs_2022.csv: code_indicateur: indicateurs socle manquants pour 3 groupements : "
        "HOSP_EVIT (G001, G002, G003) ; POLYMED_75 (G001, G002, G003)",
        "deciles_2022.csv: code_indicateur: pas de déciles 2022 pour les indicateurs VACC_GRIPPE",
        "membres.csv: code_groupement: aucun membre au 31/12/2022 pour 2 groupements : G010, G011",
    ]


@pytest.mark.django_db
def test_a_year_without_participants_is_refused_at_launch(loaded_reference, media_root, calculator):
    campaign = services.create_campaign(year=2030, user=calculator)
    with pytest.raises(CampaignError, match="aucun groupement ne participe à la campagne 2030"):
        services.launch_campaign(campaign=campaign, user=calculator)


@pytest.mark.django_db
def test_an_engine_error_fails_the_campaign_with_its_message_and_it_can_be_relaunched(
    draft, calculator, django_capture_on_commit_callbacks
):
    # A participating groupement whose only doctor has no patient: the inputs are complete, the computation is not possible.
    empty = Groupement.objects.create(code="G999", name="MSP vide", wave=Wave.objects.get(code="V1"), region="Corse")
    Member.objects.create(groupement=empty, rpps="19999999999", start=datetime.date(2019, 1, 1))
    for result in IndicatorResult.objects.filter(year=2022, groupement__code="G001"):
        IndicatorResult.objects.create(year=2022, groupement=empty, indicator=result.indicator, value_n=result.value_n)

    failed = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)

    assert failed.status == Status.FAILED
    assert "groupement G999\u202f: patientèle vide en 2022" in failed.error
    assert not failed.results.exists()
    last = failed.transitions.last()
    assert (last.from_status, last.to_status, last.actor) == ("computing", "failed", "tâche de calcul")
    assert "G999" in last.reason

    IndicatorResult.objects.filter(groupement=empty).delete()
    Member.objects.filter(groupement=empty).delete()
    empty.delete()
    relaunched = launch_and_compute(failed, calculator, django_capture_on_commit_callbacks)
    assert relaunched.status == Status.COMPUTED and relaunched.error == ""
    assert exact_cents_differences(expected_golden(), campaign_results_json(campaign=relaunched))[0] == []


@pytest.mark.django_db
def test_a_dead_worker_is_detected_and_the_campaign_relaunched_cleanly(
    draft, calculator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as lost_messages:
        services.launch_campaign(campaign=draft, user=calculator)  # the worker dies: the task never runs
    draft.refresh_from_db()
    assert draft.status == Status.COMPUTING
    assert services.fail_stale_campaigns() == []  # a fresh heartbeat is a live task

    stale_after = datetime.timedelta(seconds=settings.IPEP_CAMPAIGN_STALE_AFTER_SECONDS + 1)
    Campaign.objects.filter(pk=draft.pk).update(
        heartbeat_at=timezone.now() - stale_after, progress_step="4. risk model"
    )
    [failed] = services.fail_stale_campaigns()

    assert failed.status == Status.FAILED
    assert "Calcul interrompu" in failed.error and "4. risk model" in failed.error
    last = failed.transitions.last()
    assert (last.to_status, last.user, last.actor) == ("failed", None, "détection des calculs interrompus")
    # The lost message delivered late (broker redelivery) finds a failed campaign: it does nothing.
    for message in lost_messages:
        message()
    failed.refresh_from_db()
    assert failed.status == Status.FAILED and not failed.results.exists()

    relaunched = launch_and_compute(failed, calculator, django_capture_on_commit_callbacks)
    assert relaunched.status == Status.COMPUTED
    assert relaunched.results.count() == 12
    assert [t.to_status for t in relaunched.transitions.all()] == ["computing", "failed", "computing", "computed"]


@pytest.mark.django_db
def test_a_computation_that_lost_its_campaign_stops_without_storing(
    draft, calculator, monkeypatch, django_capture_on_commit_callbacks
):
    import calculations.engine.compute as engine

    real_engine = engine.compute_campaign

    def engine_after_the_campaign_was_marked_failed(inputs, parameters, progress=None):
        Campaign.objects.filter(pk=draft.pk).update(status=Status.FAILED)  # as the interruption check would
        return real_engine(inputs, parameters, progress)

    monkeypatch.setattr(engine, "compute_campaign", engine_after_the_campaign_was_marked_failed)
    campaign = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)

    assert campaign.status == Status.FAILED
    assert not campaign.results.exists()
    assert campaign.final_amount is None


@pytest.mark.django_db
def test_an_unreachable_broker_fails_the_launch_at_once(
    draft, calculator, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("redis://127.0.0.1:6379 refused the connection")

    monkeypatch.setattr(compute_campaign_task, "apply_async", broker_down)
    campaign = launch_and_compute(draft, calculator, django_capture_on_commit_callbacks)

    assert campaign.status == Status.FAILED
    assert "Impossible de mettre le calcul en file d'attente" in campaign.error
    assert CampaignTransition.objects.filter(campaign=campaign, to_status="failed").count() == 1
    # Logged under the module that enqueues, so its level and handlers can be set for it alone.
    assert [r.name for r in caplog.records if "could not enqueue" in r.getMessage()] == [
        "calculations.services.campaigns.computation"
    ]
