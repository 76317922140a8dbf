"""Admin of what-if simulations (METHODOLOGY.md section 10): « Simuler » on a campaign page opens the
typed parameter form pre-filled with the campaign's own; the Celery task computes while the page shows
its progress; then the difference table (sortable, totals first, changes marked) and its CSV and XLSX.
Thin: the work is in calculations.services.simulations, the table in calculations.selectors.simulations."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from calculations.forms.parameters import ParameterForm, parameter_groups
from calculations.models import Campaign, Simulation
from calculations.selectors.simulations import campaign_simulations, difference_table
from calculations.services import simulations as services
from calculations.services.simulation_exports import differences_csv, differences_xlsx
from common.admin_numbers import FrenchNumbersMixin
from common.errors import ActionRefused
from common.formatting import format_money, french_typography

from .records import RecordAdminMixin

POLL_SECONDS = 0.5


class MissingObject(Exception):
    """No simulation has this id."""


def simulation_context(request, campaign: Campaign) -> dict:
    """What the campaign page shows of its simulations: the « Simuler » link and the list."""
    may_simulate = request.user.has_perm("calculations.add_simulation") and campaign.has_results
    may_read = request.user.has_perm("calculations.view_simulation")
    return {
        "simulate_url": reverse("admin:calculations_simulation_new", args=[campaign.pk]) if may_simulate else "",
        "simulations": [
            {
                "url": reverse("admin:calculations_simulation_change", args=[s.pk]),
                "simulation": s,
                "changed": ", ".join(f"{name} = {value}" for name, value in s.overrides.items()) or "aucun",
                "final": _final_text(s),
            }
            for s in campaign_simulations(campaign=campaign)[:50]
        ]
        if may_read
        else [],
    }


def _final_text(simulation: Simulation) -> str:
    if simulation.status != Simulation.Status.DONE or not simulation.result:
        return "–"
    total = simulation.result["differences"]["totals"]["final_amount"]
    return f"{format_money(total['simulated'])} (écart {format_money(total['difference'])})"


@admin.register(Simulation)
class SimulationAdmin(RecordAdminMixin, FrenchNumbersMixin, admin.ModelAdmin):
    list_display = ("__str__", "campaign", "status", "created_by", "created_at", "final_display")
    list_filter = ("status", "campaign")
    list_select_related = ("campaign", "created_by")
    change_form_template = "admin/calculations/simulation/detail.html"

    @admin.display(description="montant final simulé")
    def final_display(self, obj):
        return _final_text(obj)

    def get_urls(self):
        def view(function):
            return self.admin_site.admin_view(self._missing_to_list(function))

        return [
            path("campagne/<int:campaign_id>/simuler/", view(self.new_view), name="calculations_simulation_new"),
            path("<int:object_id>/etat/", view(self.status_view), name="calculations_simulation_status"),
            path("<int:object_id>/ecarts.csv", view(self.csv_view), name="calculations_simulation_csv"),
            path("<int:object_id>/ecarts.xlsx", view(self.xlsx_view), name="calculations_simulation_xlsx"),
            *super().get_urls(),
        ]

    def _viewable(self, request, object_id) -> Simulation:
        """The simulation when the user may read it (PermissionDenied otherwise); MissingObject when there
        is none, which the views answer as Django's admin does: back to the list with a message."""
        simulation = Simulation.objects.select_related("campaign", "created_by").filter(pk=object_id).first()
        if simulation is None:
            raise MissingObject(object_id)
        if not (self.has_view_permission(request, simulation) and request.user.has_perm("calculations.view_campaign")):
            raise PermissionDenied
        return simulation

    def new_view(self, request, campaign_id):
        """GET: the typed form with the campaign's parameters; POST: start the simulation, show its page."""
        if not request.user.has_perm("calculations.add_simulation"):
            raise PermissionDenied
        campaign = get_object_or_404(Campaign, pk=campaign_id)
        campaign_url = reverse("admin:calculations_campaign_change", args=[campaign.pk])
        form = ParameterForm(request.POST or None, initial_parameters=campaign.parameters)
        if request.method == "POST" and form.is_valid():
            try:
                simulation = services.start_simulation(
                    campaign=campaign, user=request.user, overrides=form.changed_parameters()
                )
            except ActionRefused as error:
                for line in error.messages:
                    messages.error(request, line)
                return HttpResponseRedirect(campaign_url)
            return HttpResponseRedirect(reverse("admin:calculations_simulation_change", args=[simulation.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Simuler la campagne {campaign.year} v{campaign.version}",
            "opts": self.model._meta,
            "campaign": campaign,
            "campaign_url": campaign_url,
            "form": form,
            "groups": parameter_groups(form),
        }
        return TemplateResponse(request, "admin/calculations/simulation/new.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            simulation = self._viewable(request, object_id)
        except MissingObject:
            return self._get_obj_does_not_exist_redirect(request, self.model._meta, object_id)
        order = request.GET.get("tri", "code")
        context = {
            **self.admin_site.each_context(request),
            "title": str(simulation),
            "opts": self.model._meta,
            "original": simulation,
            "simulation": simulation,
            "campaign_url": reverse("admin:calculations_campaign_change", args=[simulation.campaign_id]),
            "status_url": reverse("admin:calculations_simulation_status", args=[simulation.pk]),
            "csv_url": reverse("admin:calculations_simulation_csv", args=[simulation.pk]),
            "xlsx_url": reverse("admin:calculations_simulation_xlsx", args=[simulation.pk]),
            "poll_seconds": POLL_SECONDS,
            "progress_percent": round(simulation.progress * 100),
            "overrides": sorted(simulation.overrides.items()),
            "table": difference_table(simulation.result, order=order) if simulation.result else None,
            "datasets": sorted((simulation.input_checksums.get("datasets") or {}).items()),
            "snapshot_sha256": simulation.input_checksums.get("reference_snapshot_sha256", ""),
        }
        return TemplateResponse(request, self.change_form_template, context)

    def status_view(self, request, object_id):
        """Polled by the simulation page until the task has finished."""
        simulation = self._viewable(request, object_id)
        return JsonResponse(
            {
                "final": simulation.is_final,
                # Written into the page as is (static/ipep/progress.js): set like the text around it.
                "status_label": french_typography(simulation.get_status_display()),
                "step": simulation.progress_step and french_typography(simulation.progress_step),
                "percent": round(simulation.progress * 100),
            }
        )

    def _missing_to_list(self, function):
        def wrapped(request, *args, **kwargs):
            try:
                return function(request, *args, **kwargs)
            except MissingObject as missing:
                return self._get_obj_does_not_exist_redirect(request, self.model._meta, str(missing))

        return wrapped

    def _report(self, request, object_id) -> tuple[Simulation, dict | None]:
        simulation = self._viewable(request, object_id)
        if not simulation.result:
            messages.warning(request, f"{simulation} n'a pas encore de résultat à télécharger.")
        return simulation, simulation.result

    def _simulation_page(self, simulation: Simulation) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:calculations_simulation_change", args=[simulation.pk]))

    def csv_view(self, request, object_id):
        simulation, report = self._report(request, object_id)
        if report is None:
            return self._simulation_page(simulation)
        return _download(differences_csv(report), "text/csv; charset=utf-8", _filename(simulation, "csv"))

    def xlsx_view(self, request, object_id):
        simulation, report = self._report(request, object_id)
        if report is None:
            return self._simulation_page(simulation)
        content = differences_xlsx(report, title=f"{simulation} – écarts avec la campagne")
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return _download(content, kind, _filename(simulation, "xlsx"))


def _filename(simulation: Simulation, extension: str) -> str:
    campaign = simulation.campaign
    return f"simulation_{simulation.pk}_campagne_{campaign.year}_v{campaign.version}.{extension}"


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
