"""Read queries of the reports app. Portal queries always start from the user's own groupement, so an
id taken from a URL can only ever select among that groupement's rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from calculations.models import Campaign, GroupementResult
from common.storage import StoredFile
from groupements.models import Groupement, PortalAccess

from .models import Contestation, Statement


def portal_visible(campaign: str = "campaign__") -> Q:
    """Campaigns whose statements a groupement sees (the status table's `portal_visible`; a superseded one
    only if it had been published: the groupement keeps what it was sent), through the relation
    `campaign`: a join, not a subquery, on the most requested pages of the site."""
    return Q(**{f"{campaign}status__in": Campaign.statuses_where("portal_visible")}) & ~Q(
        **{f"{campaign}status": Campaign.Status.SUPERSEDED, f"{campaign}published_at__isnull": True}
    )


def portal_groupement(user) -> Groupement | None:
    """The one groupement a portal user belongs to, or None (staff, or no access configured)."""
    if not user.is_authenticated:
        return None
    access = PortalAccess.objects.select_related("groupement__wave").filter(user=user).first()
    return access.groupement if access else None


# What the portal never shows of a campaign: the reference data it was computed with (about 20 kB of JSON
# decoded for every row read) — loaded on access if ever needed.
PORTAL_DEFERRED = ("campaign__reference_snapshot",)


def portal_results(*, groupement: Groupement) -> QuerySet[GroupementResult]:
    """`groupement`'s results in published (or paid, or published then superseded) campaigns, newest first,
    each with its campaign (one result per campaign and groupement)."""
    return (
        GroupementResult.objects.filter(portal_visible(), groupement=groupement)
        .select_related("campaign")
        .defer("quality_details", *PORTAL_DEFERRED)
        .order_by("-campaign__year", "-campaign__version")
    )


def portal_statements(*, groupement: Groupement) -> QuerySet[Statement]:
    """Final statements of `groupement` in campaigns it may see."""
    return (
        Statement.objects.filter(portal_visible(), groupement=groupement, draft=False)
        .select_related("campaign", "groupement")
        .defer(*PORTAL_DEFERRED)
        .order_by("-campaign__year", "-campaign__version")
    )


def portal_result(*, groupement: Groupement, campaign_id: int) -> GroupementResult | None:
    return (
        GroupementResult.objects.select_related("campaign", "groupement")
        .defer(*PORTAL_DEFERRED)
        .filter(portal_visible(), groupement=groupement, campaign_id=campaign_id)
        .first()
    )


def portal_contestations(*, groupement: Groupement, campaign: Campaign) -> QuerySet[Contestation]:
    return (
        Contestation.objects.filter(groupement=groupement, campaign=campaign)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def contestation_deadline(campaign: Campaign) -> datetime | None:
    """End of the contestation window: `contestation_days` after publication (None before it)."""
    if campaign.published_at is None:
        return None
    return campaign.published_at + timedelta(days=campaign.contestation_days)


def contestation_open(campaign: Campaign, *, now: datetime | None = None) -> bool:
    deadline = contestation_deadline(campaign)
    if deadline is None or not campaign.status_properties.contestable:
        return False
    return campaign.published_at <= (now or timezone.now()) <= deadline


def replacement(campaign: Campaign) -> Campaign | None:
    """The version that superseded `campaign` (None while it is in force)."""
    if campaign.status != Campaign.Status.SUPERSEDED:
        return None
    return Campaign.objects.filter(supersedes=campaign).first()


@dataclass(frozen=True)
class PortalVersion:
    """What the portal says about one campaign version of a groupement: which amount it is (to be paid,
    paid, or replaced), whether the national ceiling scaled it, and where its contestation window stands.

    `window` is `open` (until `deadline`), `closed` (since `deadline`, in the past), `replaced` (a
    superseded version is contested through the version that replaced it) or `none` (no window)."""

    campaign: Campaign
    result: GroupementResult | None
    statement: Statement | None
    replaced_by: Campaign | None
    deadline: datetime | None
    window: str

    @property
    def amount_label(self) -> str:
        if self.replaced_by is not None or self.campaign.status == Campaign.Status.SUPERSEDED:
            return "Montant de cette version (non versé)"
        if self.campaign.status == Campaign.Status.PAID:
            return "Montant versé"
        return "Montant à verser"

    @property
    def scaled(self) -> bool:
        """True when the national ceiling scaled every amount (coefficient below 1)."""
        coefficient = self.campaign.national_coefficient
        return coefficient is not None and coefficient < 1


def portal_version(*, campaign: Campaign, result=None, statement=None, now: datetime | None = None) -> PortalVersion:
    replaced_by = replacement(campaign)
    deadline = contestation_deadline(campaign)
    if replaced_by is not None:
        window = "replaced"
    elif contestation_open(campaign, now=now):
        window = "open"
    elif deadline is not None and deadline < (now or timezone.now()):
        window = "closed"
    else:
        window = "none"
    return PortalVersion(campaign, result, statement, replaced_by, deadline, window)


def publication_reason(campaign: Campaign) -> str:
    """What the publisher wrote when publishing `campaign` (for a correction: why it was corrected)."""
    transition = campaign.transitions.filter(to_status=Campaign.Status.PUBLISHED).order_by("-at", "-pk").first()
    return transition.reason if transition else ""


def latest_campaign_with_results(year: int) -> Campaign | None:
    """The highest version of year `year` that has stored results."""
    return Campaign.objects.filter(year=year, results__isnull=False).distinct().order_by("-version").first()


def campaign_with_results(year: int, version: int) -> Campaign | None:
    """Version `version` of campaign `year`, if it has stored results."""
    return Campaign.objects.filter(year=year, version=version, results__isnull=False).distinct().first()


def stored_statement_files() -> Iterator[StoredFile]:
    """Every statement PDF with the SHA-256 recorded when it was rendered."""
    statements = Statement.objects.select_related("campaign", "groupement").order_by(
        "campaign__year", "campaign__version", "groupement__code"
    )
    for statement in statements.iterator():
        yield StoredFile(str(statement), statement.file.name, statement.sha256)


def public_results() -> QuerySet[GroupementResult]:
    """Results of the public file: the campaign in force of each year (published or paid, never superseded:
    at most one per year), so nothing of an unpublished, rejected or superseded version."""
    return GroupementResult.objects.filter(campaign__status__in=Campaign.IN_FORCE_STATUSES).select_related(
        "campaign", "groupement"
    )


def public_campaigns() -> QuerySet[Campaign]:
    return Campaign.objects.filter(status__in=Campaign.IN_FORCE_STATUSES).order_by("year")
