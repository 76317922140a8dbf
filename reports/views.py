"""Views: the groupement portal (its own groupement only) and the staff national report.

Portal views look everything up from the user's groupement, so an id from another groupement is
simply not found (404). Staff views need a staff account with the right permission (403 otherwise).
"""

from __future__ import annotations

import logging
from functools import wraps

from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from calculations.models import Campaign
from common.storage import FileIntegrityError

from . import national, selectors, services
from .forms import ContestationForm, PortalAuthenticationForm
from .models import Statement

logger = logging.getLogger(__name__)
# A stored file that no longer has its checksum: the request conflicts with the state of the server.
INTEGRITY_REFUSAL_STATUS = 409


# --- Groupement portal -----------------------------------------------------------------------------


def portal_view(view):
    """Logged-in portal users only; passes their groupement. Staff without portal access go to the admin."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        groupement = selectors.portal_groupement(request.user)
        if groupement is None:
            if request.user.is_staff:
                return redirect("admin:index")
            return render(request, "portal/no_access.html", status=403)
        return view(request, groupement, *args, **kwargs)

    return wrapper


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    authentication_form = PortalAuthenticationForm
    redirect_authenticated_user = True


@require_safe
@portal_view
def portal_home(request, groupement):
    statements = {s.campaign_id: s for s in selectors.portal_statements(groupement=groupement)}
    lines = [
        selectors.portal_version(campaign=result.campaign, result=result, statement=statements.get(result.campaign_id))
        for result in selectors.portal_results(groupement=groupement)
    ]
    return render(request, "portal/home.html", {"groupement": groupement, "lines": lines})


@require_http_methods(["GET", "HEAD", "POST"])
@portal_view
def portal_campaign(request, groupement, campaign_id: int):
    result = selectors.portal_result(groupement=groupement, campaign_id=campaign_id)
    if result is None:
        raise Http404("Campagne introuvable.")
    campaign = result.campaign
    statement = selectors.portal_statements(groupement=groupement).filter(campaign=campaign).first()
    # One reading of the clock for the whole page: the form is offered exactly when the window says open.
    version = selectors.portal_version(campaign=campaign, result=result, statement=statement)
    form = ContestationForm(request.POST or None) if version.window == "open" else None
    if request.method == "POST":
        if form is None:
            messages.error(request, "Cette campagne n'est pas ouverte aux contestations.")
            return redirect("portal:campaign", campaign_id=campaign.pk)
        if form.is_valid():
            try:
                services.submit_contestation(
                    campaign=campaign, groupement=groupement, user=request.user, message=form.cleaned_data["message"]
                )
            except services.ContestationRefused as refusal:
                form.add_error("message", str(refusal))
            else:
                messages.success(
                    request, "Votre contestation a été enregistrée ; vous recevrez une réponse par courriel."
                )
                return redirect("portal:campaign", campaign_id=campaign.pk)
    return render(
        request,
        "portal/campaign.html",
        {
            "groupement": groupement,
            "campaign": campaign,
            "result": result,
            "statement": statement,
            "version": version,
            "form": form,
            "contestations": selectors.portal_contestations(groupement=groupement, campaign=campaign),
        },
    )


@require_safe
@portal_view
def portal_statement_download(request, groupement, statement_id: int):
    statement = get_object_or_404(selectors.portal_statements(groupement=groupement), pk=statement_id)
    return _statement_file_response(request, statement)


def _statement_file_response(request, statement: Statement) -> HttpResponse:
    """The stored PDF, streamed, only if it still has the checksum recorded when it was rendered."""
    try:
        content = services.verified_statement_file(statement)
    except FileIntegrityError as refusal:
        logger.error("statement %s refused: %s", statement.pk, refusal)
        context = {"message": refusal.messages[0]}
        return render(request, "portal/file_refused.html", context, status=INTEGRITY_REFUSAL_STATUS)
    response = FileResponse(
        content, as_attachment=True, filename=statement.download_name, content_type="application/pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Staff -----------------------------------------------------------------------------------------


def staff_permission_required(permission: str):
    """Staff accounts holding `permission`; anonymous users go to the admin login, others get 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not (request.user.is_active and request.user.is_staff and request.user.has_perm(permission)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def _reportable_campaign(campaign_id: int) -> Campaign:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    if not campaign.results.exists():
        raise Http404("Cette campagne n'a pas de résultats.")
    return campaign


@require_safe
@staff_permission_required("calculations.view_campaign")
def national_report(request, campaign_id: int):
    campaign = _reportable_campaign(campaign_id)
    context = {
        **admin.site.each_context(request),
        **national.report_context(campaign, charts_as="uri"),
        "title": f"Rapport national – campagne {campaign.year} v{campaign.version}",
        "statements": Statement.objects.filter(campaign=campaign)
        .select_related("groupement")
        .order_by("groupement__code"),
        "contestation_count": campaign.contestations.count(),
    }
    return render(request, "reports/national_report.html", context)


def _national_report_download(campaign_id: int, render, content_type: str, extension: str) -> HttpResponse:
    campaign = _reportable_campaign(campaign_id)
    response = HttpResponse(render(campaign), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="rapport_national_{campaign.year}_v{campaign.version}.{extension}"'
    )
    return response


@require_safe
@staff_permission_required("calculations.view_campaign")
def national_report_pdf(request, campaign_id: int):
    return _national_report_download(campaign_id, national.national_report_pdf, "application/pdf", "pdf")


@require_safe
@staff_permission_required("calculations.view_campaign")
def national_report_csv(request, campaign_id: int):
    return _national_report_download(campaign_id, national.national_report_csv, "text/csv; charset=utf-8", "csv")


@require_safe
@staff_permission_required("calculations.view_campaign")
def national_report_xlsx(request, campaign_id: int):
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _national_report_download(campaign_id, national.national_report_xlsx, xlsx, "xlsx")


@require_safe
@staff_permission_required("reports.view_statement")
def staff_statement_download(request, statement_id: int):
    return _statement_file_response(
        request, get_object_or_404(Statement.objects.select_related("campaign", "groupement"), pk=statement_id)
    )
