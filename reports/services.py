"""Business actions of the reports app: rendering and storing statements, telling groupements they are
published, contestations.

Contract with the campaigns service (called through `transaction.on_commit`):
- `render_campaign_statements(campaign=...)` when a campaign reaches `computed` and again at `validated`;
- `publish_statements(campaign=...)` when it is `published`: statements drawn again with their
  contestation deadline, then `notify_statement_publication`;
- `refresh_public_file()` when a version is published or superseded.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from pathlib import Path

from celery import group
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from calculations.models import Campaign, GroupementResult
from common.errors import ActionRefused, PermissionRefused, require_permission
from common.formatting import format_money, french_typography
from common.storage import delete_stored, project_storage, store_immutable, verified_copy
from groupements.models import Groupement, PortalAccess

from . import public_data, renderings, selectors
from .models import Contestation, Statement
from .statements import is_draft, render_statement_pdf

logger = logging.getLogger(__name__)

STATEMENTS_DIR = "statements"
MAX_CONTESTATION_LENGTH = 5000
# A status change while a PDF is being drawn makes it stale; draw again, a few times at most.
MAX_RENDER_ATTEMPTS = 3


class ContestationRefused(ActionRefused):
    """A contestation that may not be filed; the message is shown to the groupement user as is."""


# --- Statements ------------------------------------------------------------------------------------


def render_campaign_statements(*, campaign: Campaign):
    """Fan out one Celery task per groupement result of `campaign` (draft until validated).

    Statements of groupements that no longer have a result (campaign recomputed) are removed. Returns
    the Celery GroupResult (already complete in eager mode).
    """
    from .tasks import render_statement_task

    groupement_ids = list(campaign.results.order_by("code").values_list("groupement_id", flat=True))
    for stale in Statement.objects.filter(campaign=campaign).exclude(groupement_id__in=groupement_ids):
        _delete_statement(stale)
    rendering = renderings.start_rendering(
        campaign=campaign, final=not is_draft(campaign), groupement_ids=groupement_ids
    )
    return group(
        render_statement_task.s(campaign.pk, groupement_id, rendering.pk) for groupement_id in groupement_ids
    ).apply_async()


def render_statement_job(
    *, campaign_id: int, groupement_id: int, rendering_id: int | None, worker: str = "", redelivered: bool = False
) -> str | None:
    """The body of one task of the fan-out: counts the attempt, renders, marks the job ended (the last
    one ends the rendering). Returns the statement's SHA-256 (None when the result no longer exists)."""
    if rendering_id is None:  # a message sent before renderings were recorded
        statement = render_statement(campaign_id=campaign_id, groupement_id=groupement_id)
        return statement.sha256 if statement else None
    job = {"rendering_id": rendering_id, "groupement_id": groupement_id}
    renderings.job_taken(**job, worker=worker, redelivered=redelivered)
    try:
        statement = render_statement(campaign_id=campaign_id, groupement_id=groupement_id)
    except Exception as error:
        renderings.job_ended(**job, error=f"{type(error).__name__}: {error}")
        raise
    renderings.job_ended(**job, sha256=statement.sha256 if statement else "")
    return statement.sha256 if statement else None


def render_statement(*, campaign_id: int, groupement_id: int) -> Statement | None:
    """Render one statement from the stored result and make the Statement row point to it.

    Idempotent: the same result and status give the same bytes, and then nothing is written. The file
    is named after its checksum and stored whole before the row points to it, so the row switches
    atomically from one complete file to the next; the old file is removed after commit. Returns None
    when the groupement has no result any more.
    """
    for _attempt in range(MAX_RENDER_ATTEMPTS):
        result = (
            GroupementResult.objects.select_related("campaign", "groupement__wave")
            .filter(campaign_id=campaign_id, groupement_id=groupement_id)
            .first()
        )
        if result is None:
            return None
        draft = is_draft(result.campaign)
        pdf = render_statement_pdf(result, draft=draft)
        sha256 = hashlib.sha256(pdf).hexdigest()
        name = _statement_name(result.campaign, result.groupement, sha256)
        store_immutable(project_storage(), name, ContentFile(pdf), sha256=sha256)
        try:
            with transaction.atomic():
                campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
                stale = is_draft(campaign) != draft
                if not stale:
                    statement = _save_statement(
                        campaign=campaign,
                        groupement_id=groupement_id,
                        draft=draft,
                        name=name,
                        sha256=sha256,
                        size=len(pdf),
                    )
        except IntegrityError:
            # Another worker created the row between our read and our insert: its turn is over, retry.
            stale = True
        if not stale:
            return statement
        _remove_unreferenced(name)
    raise RuntimeError(
        f"statement of groupement {groupement_id} for campaign {campaign_id}: status kept changing while rendering"
    )


def _save_statement(*, campaign, groupement_id, draft, name, sha256, size) -> Statement:
    statement = Statement.objects.select_for_update().filter(campaign=campaign, groupement_id=groupement_id).first()
    if statement is None:
        return Statement.objects.create(
            campaign=campaign,
            groupement_id=groupement_id,
            draft=draft,
            file=name,
            sha256=sha256,
            size=size,
            rendered_at=timezone.now(),
        )
    if statement.sha256 == sha256 and statement.file.name == name and statement.draft == draft:
        return statement
    previous_name = statement.file.name
    statement.draft, statement.file, statement.sha256, statement.size = draft, name, sha256, size
    statement.rendered_at = timezone.now()
    statement.save(update_fields=["draft", "file", "sha256", "size", "rendered_at"])
    if previous_name != name:
        transaction.on_commit(lambda: _remove_unreferenced(previous_name))
    return statement


def _statement_name(campaign: Campaign, groupement: Groupement, sha256: str) -> str:
    return f"{STATEMENTS_DIR}/{campaign.year}/{statement_file_name(campaign, groupement)[:-4]}_{sha256[:16]}.pdf"


def statement_file_name(campaign: Campaign, groupement: Groupement) -> str:
    """`2023_G001_v1.pdf`: year, groupement code and campaign version."""
    return f"{campaign.year}_{groupement.code}_v{campaign.version}.pdf"


def verified_statement_file(statement: Statement):
    """The statement's PDF as an open temporary file, only if it still has the SHA-256 recorded when it
    was rendered (FileIntegrityError otherwise, in French): downloads serve what was verified."""
    return verified_copy(project_storage(), statement.file.name, statement.sha256, label=str(statement))


def _remove_unreferenced(name: str) -> None:
    if not Statement.objects.filter(file=name).exists():
        delete_stored(project_storage(), name)


def _delete_statement(statement: Statement) -> None:
    name = statement.file.name
    statement.delete()
    transaction.on_commit(lambda: _remove_unreferenced(name))


def export_campaign_statements(*, campaign: Campaign, outdir: Path) -> list[Path]:
    """Render every statement of `campaign` from its stored results into `outdir` (`2023_G001_v1.pdf`)."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    draft = is_draft(campaign)
    written = []
    for result in campaign.results.select_related("campaign", "groupement__wave").order_by("code"):
        path = outdir / statement_file_name(campaign, result.groupement)
        path.write_bytes(render_statement_pdf(result, draft=draft))
        written.append(path)
    return written


# --- Publication -----------------------------------------------------------------------------------


def publish_statements(*, campaign: Campaign) -> int:
    """At publication: the final statements are drawn again, now with their contestation deadline (known
    from the publication on), then the groupements are told. Returns the number of e-mails sent."""
    render_campaign_statements(campaign=campaign)
    return notify_statement_publication(campaign=campaign)


def notify_statement_publication(*, campaign: Campaign) -> int:
    """E-mail every active portal user of the campaign's groupements that their statement is published.

    Statements still missing or drafted (their rendering lagged behind validation) are rendered first,
    so that nobody is told to download a file that is not there. Returns the number of e-mails sent.
    """
    campaign.refresh_from_db()
    final = set(Statement.objects.filter(campaign=campaign, draft=False).values_list("groupement_id", flat=True))
    for groupement_id in campaign.results.exclude(groupement_id__in=final).values_list("groupement_id", flat=True):
        logger.warning("statement of groupement %s for %s rendered at publication", groupement_id, campaign)
        render_statement(campaign_id=campaign.pk, groupement_id=groupement_id)

    results = {r.groupement_id: r for r in campaign.results.select_related("groupement")}
    corrected = campaign.supersedes
    previous_results = (
        {r.groupement_id: r for r in corrected.results.filter(groupement_id__in=results)} if corrected else {}
    )
    reason = selectors.publication_reason(campaign) if corrected else ""
    accesses = (
        PortalAccess.objects.filter(groupement_id__in=results, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "groupement")
        .order_by("groupement__code", "user__username")
    )
    messages = []
    for access in accesses:
        result = results[access.groupement_id]
        context = {
            "user": access.user,
            "groupement": access.groupement,
            "campaign": campaign,
            "amount": format_money(result.final_amount, separator=" "),
            "deadline": selectors.contestation_deadline(campaign),
            "url": _absolute_url(reverse("portal:campaign", args=[campaign.pk])),
            "corrected": corrected,
            "previous_amount": _previous_amount(previous_results.get(access.groupement_id)),
            "reason": reason,
        }
        subject = f"IPEP – votre relevé d'intéressement {campaign.year} est disponible"
        if corrected:
            subject = (
                f"IPEP – votre relevé d'intéressement {campaign.year} corrigé : "
                f"la version {campaign.version} remplace la version {corrected.version}"
            )
        with translation.override(settings.LANGUAGE_CODE):  # dates in French whoever publishes
            body = render_to_string("reports/email/statement_published.txt", context)
        messages.append(
            EmailMessage(french_typography(subject), body, settings.DEFAULT_FROM_EMAIL, [access.user.email])
        )
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


def _previous_amount(result: GroupementResult | None) -> str:
    return format_money(result.final_amount, separator=" ") if result is not None else ""


def _absolute_url(path: str) -> str:
    return settings.IPEP_SITE_URL.rstrip("/") + path


# --- Contestations ---------------------------------------------------------------------------------


def submit_contestation(
    *, campaign: Campaign, groupement: Groupement, user, message: str, now: datetime | None = None
) -> Contestation:
    """File a contestation of `groupement`'s statement for `campaign`, within the contestation window."""
    message = (message or "").strip()
    access = PortalAccess.objects.filter(user=user, groupement=groupement).first()
    if access is None:
        raise PermissionRefused("Ce compte n'est pas rattaché à ce groupement.")
    if not campaign.results.filter(groupement=groupement).exists():
        raise ContestationRefused("Ce groupement n'a pas de relevé pour cette campagne.")
    if not selectors.contestation_open(campaign, now=now):
        deadline = selectors.contestation_deadline(campaign)
        if deadline is None or not campaign.status_properties.contestable:
            raise ContestationRefused("Cette campagne n'est pas ouverte aux contestations.")
        raise ContestationRefused(
            f"Le délai de contestation a expiré le {timezone.localtime(deadline):%d/%m/%Y à %H:%M}."
        )
    if not message:
        raise ContestationRefused("Le message de contestation est vide.")
    if len(message) > MAX_CONTESTATION_LENGTH:
        raise ContestationRefused(f"Le message dépasse {MAX_CONTESTATION_LENGTH} caractères.")
    return Contestation.objects.create(campaign=campaign, groupement=groupement, user=user, message=message)


def answer_contestation(*, contestation: Contestation, user, status: str, answer: str) -> Contestation:
    """Staff answer to a contestation; the groupement user who filed it is told by e-mail."""
    require_permission(user, "reports.change_contestation", "répondre à une contestation")
    if status not in Contestation.Status.values:
        raise ValueError(f"unknown contestation status {status!r}")
    answer = (answer or "").strip()
    stored = Contestation.objects.filter(pk=contestation.pk).values("status", "answer").first()
    if stored is not None and (stored["status"], stored["answer"]) == (status, answer):
        return contestation  # saved again unchanged: not a new answer, the groupement is not mailed twice
    contestation.status = status
    contestation.answer = answer
    contestation.answered_by = user
    contestation.answered_at = timezone.now()
    contestation.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    if contestation.answer and contestation.user.email:
        with translation.override(settings.LANGUAGE_CODE):
            body = render_to_string(
                "reports/email/contestation_answered.txt",
                {
                    "contestation": contestation,
                    "url": _absolute_url(reverse("portal:campaign", args=[contestation.campaign_id])),
                },
            )
        message = EmailMessage(
            french_typography(f"IPEP – réponse à votre contestation ({contestation.campaign.year})"),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [contestation.user.email],
        )
        transaction.on_commit(message.send)  # never announce an answer whose save is rolled back
    return contestation


# --- Public results file (METHODOLOGY section 9) ---------------------------------------------------

PUBLIC_DIR = "donnees-publiques"
PUBLIC_MANIFEST = "manifeste.json"


def public_file_name(name: str) -> str:
    return f"{PUBLIC_DIR}/{name}"


def write_public_files(outdir: Path) -> dict[str, bytes]:
    """The public files of the campaigns in force, written into a local directory (the export command)."""
    files = public_data.public_files(selectors.public_results())
    outdir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (outdir / name).write_bytes(content)
    return files


def refresh_public_file() -> dict:
    """Rebuild the public files in the project's storage from the campaigns in force, with a manifest
    (when, which campaign versions, each file's SHA-256) that the public page reads. Returns the manifest."""
    storage = project_storage()
    files = public_data.public_files(selectors.public_results())
    manifest = {
        "generated_at": timezone.now().isoformat(timespec="seconds"),
        "campaigns": [
            {
                "year": c.year,
                "version": c.version,
                "published_at": c.published_at.isoformat() if c.published_at else None,
            }
            for c in selectors.public_campaigns()
        ],
        "files": {
            name: {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
            for name, content in files.items()
        },
    }
    for name, content in [*files.items(), (PUBLIC_MANIFEST, json.dumps(manifest, indent=1).encode("utf-8"))]:
        stored = storage.save(public_file_name(name), ContentFile(content))
        if stored != public_file_name(name):  # a storage that renames instead of overwriting
            delete_stored(storage, stored)
            raise RuntimeError(f"{public_file_name(name)}: the storage did not overwrite the public file")
    logger.info("Public results file rebuilt: %s", [(c["year"], c["version"]) for c in manifest["campaigns"]])
    return manifest


def public_manifest() -> dict | None:
    storage = project_storage()
    name = public_file_name(PUBLIC_MANIFEST)
    if not storage.exists(name):
        return None
    with storage.open(name, "rb") as handle:
        return json.loads(handle.read().decode("utf-8"))
