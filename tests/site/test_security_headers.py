"""Every page, as every role, carries the Content-Security-Policy and the Permissions-Policy, answers
HEAD as it answers GET, and holds no inline script or style (the policy would block them); exports
survive unknown query parameters. A crawl of every URL pattern of the site (ipep_site/urls.py): a
new page is crawled without being listed here."""

import re

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from calculations.models import Dataset
from groupements import roles
from reports import services
from reports.models import Statement
from tests.reports.factories import golden_campaign, portal_user
from tests.typography import plain

pytestmark = pytest.mark.django_db

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# GET and HEAD of every page for these roles; GET of every page but the slow ones (charts, PDF) for the
# other staff roles, whose views take the code paths the reader's and the superuser's already took.
FULL_ROLES = ("anonyme", "groupement", roles.READER, "superuser")
GET_ROLES = (roles.DATA_MANAGER, roles.CALCULATOR, roles.VALIDATOR)
ROLES = FULL_ROLES + GET_ROLES
SLOW = ("/rapport-national/", "/rapport-national.pdf", "/rapport-fiss/", "/rapport-fiss.pdf")
NEVER_CRAWLED = {"admin:view_on_site"}  # a redirect to an object's public page: the project has none

INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>"  # inline script (JSON data blocks are not run)
    r"|<style\b"
    r"|\sstyle=\"[^\"]*\""
    r"|\son[a-z]+=\"[^\"]*\""
    r"|javascript:",
    re.IGNORECASE,
)
# django-import-export's export page: a handler re-attached by static/ipep/export_select_all.js and two
# cosmetic style attributes, blocked by the policy.
THIRD_PARTY_INLINE = {'onchange="onSelectToggleChange(event)"', 'style="padding: 0;"', 'style="font-weight: bold;"'}


@pytest.fixture
def site(loaded_reference, media_root, make_user):
    campaign = golden_campaign(status="published", codes=["G001", "G002"])
    services.render_campaign_statements(campaign=campaign)
    services.refresh_public_file()
    g001 = portal_user("G001")
    services.submit_contestation(
        campaign=campaign, groupement=g001.portal_access.groupement, user=g001, message="Écart sur les patients."
    )
    validating = Dataset.objects.create(
        year=2023, original_name="beneficiaires_2023.csv", sha256="0" * 64, size=10, status=Dataset.Status.VALIDATING
    )
    finished_simulation(campaign)  # its page, table and downloads are crawled too
    superuser = make_user(username="admin", is_staff=True, is_superuser=True)
    users = {role: make_user(role=role) for role in ROLES if role in roles.ALL_ROLES}
    users.update(anonyme=None, groupement=g001, superuser=superuser)
    statement = Statement.objects.get(campaign=campaign, groupement__code="G001")
    kwargs = {
        "campaign_id": campaign.pk,
        "statement_id": statement.pk,
        "app_label": "calculations",
        "url": "page-inconnue/",
        "id": superuser.pk,
        "model_name": "groupement",
        "uidb64": "MQ",  # a password-reset link that is not (or no longer) valid: its French refusal page
        "token": "lien-perime",
    }
    urls = crawlable_urls(kwargs)
    urls.append(reverse("admin:calculations_dataset_change", args=[validating.pk]))  # the page that polls
    return {"users": users, "urls": urls, "kwargs": kwargs}


def finished_simulation(campaign):
    """A what-if simulation of `campaign` as its task stores it (the engine's golden results compared)."""
    from calculations.models import Simulation
    from calculations.services.simulations import differences
    from tests.golden import golden_results

    results = golden_results()
    report = {
        "year": campaign.year,
        "version": campaign.version,
        "parameters": results.parameters.to_json_dict(),
        "simulation": results.to_json_dict(),
        "differences": differences(campaign, results),
    }
    return Simulation.objects.create(
        campaign=campaign, status=Simulation.Status.DONE, progress=1.0, parameters=report["parameters"], result=report
    )


def crawlable_urls(kwargs: dict) -> list[str]:
    """One URL per named pattern: `object_id` is the first object of the admin's model (or none: 0)."""
    object_ids = {}
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
        object_ids[f"admin:{model._meta.app_label}_{model._meta.model_name}_"] = first or 0
    urls = []

    def walk(patterns, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, ":".join(filter(None, [namespace, entry.namespace])))
                continue
            if not entry.name:
                continue  # Django's unnamed redirects of the admin (`<object_id>/` to its change page)
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            if name in NEVER_CRAWLED:
                continue
            keys = entry.pattern.converters.keys() if hasattr(entry.pattern, "converters") else ()
            keys = keys or entry.pattern.regex.groupindex.keys()
            values = {}
            for key in keys:
                if key == "object_id":
                    values[key] = next(pk for prefix, pk in object_ids.items() if name.startswith(prefix))
                else:
                    assert key in kwargs, f"{name}: give the crawl a value for « {key} »"
                    values[key] = kwargs[key]
            urls.append(reverse(name, kwargs=values))

    walk(get_resolver().url_patterns, "")
    return urls


def client_as(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def policy(header: str) -> dict[str, str]:
    return dict(directive.strip().partition(" ")[::2] for directive in header.split(";") if directive.strip())


def header_problems(url, response) -> list[str]:
    problems = []
    if policy(response.get("Content-Security-Policy", "")) != EXPECTED_CSP:
        problems.append(f"{url}: Content-Security-Policy {response.get('Content-Security-Policy')!r}")
    if "camera=()" not in response.get("Permissions-Policy", ""):
        problems.append(f"{url}: Permissions-Policy {response.get('Permissions-Policy')!r}")
    for name, value in response.items():
        if re.search(r"django|python|wsgi|gunicorn", f"{name}: {value}", re.IGNORECASE):
            problems.append(f"{url}: header names the software: {name}: {value}")
    return problems


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def inline_code(response) -> set[str]:
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return set()
    found = {match.group(0).strip() for match in INLINE_CODE.finditer(body(response).decode())}
    return {snippet for snippet in found if snippet not in THIRD_PARTY_INLINE}


@pytest.mark.slow
def test_every_page_as_every_role_has_the_headers_answers_head_and_has_no_inline_code(site):
    problems, reached = [], set()
    for role in ROLES:
        client = client_as(site["users"][role])
        for url in site["urls"]:
            if role in GET_ROLES and url.endswith(SLOW):
                continue
            got = client.get(url)
            if got.status_code == 200:
                reached.add(url)
            if got.status_code >= 500:
                problems.append(f"{role} GET {url}: {got.status_code}")
            problems += [f"{role} GET {problem}" for problem in header_problems(url, got)]
            problems += [f"{role} GET {url}: inline {snippet}" for snippet in sorted(inline_code(got))]
            if role in GET_ROLES:
                continue
            head = client.head(url)
            problems += [f"{role} HEAD {problem}" for problem in header_problems(url, head)]
            if (head.status_code, head.get("Content-Type")) != (got.status_code, got.get("Content-Type")):
                problems.append(f"{role} HEAD {url}: {head.status_code} {head.get('Content-Type')} ≠ GET's")
            if body(head):
                problems.append(f"{role} HEAD {url}: a body")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:60])
    # The crawl reached the pages themselves, not only refusals: portal, change lists and forms, downloads.
    campaign, statement = site["kwargs"]["campaign_id"], site["kwargs"]["statement_id"]
    for url in (
        reverse("portal:home"),
        reverse("portal:campaign", args=[campaign]),
        reverse("portal:statement_download", args=[statement]),
        reverse("admin:calculations_campaign_changelist"),
        reverse("admin:calculations_campaign_change", args=[campaign]),
        reverse("admin:groupements_groupement_export"),
        reverse("reports:national_report_pdf", args=[campaign]),
        reverse("reports:national_report_csv", args=[campaign]),
        reverse("reports:statement_download", args=[statement]),
        reverse("public:data"),
        reverse("public:csv"),
        reverse("public:schema"),
    ):
        assert url in reached, url


def test_exports_answer_unknown_query_parameters_without_an_error(site):
    """An unknown parameter, then malformed values of the ones views and change lists read."""
    client = client_as(site["users"]["superuser"])
    exports = [url for url in site["urls"] if url.endswith(("/export/", ".csv", ".pdf", ".xlsx", "/telecharger/"))]
    assert len(exports) >= 15  # import-export pages, national report files, statements, problems, FISS PDF
    malformed = "campaign=abc&o=zz&p=-1&e=1&format=99&resource=9&q=%E9t%E9&_changelist_filters=inconnu%3D1"
    for url in exports:
        for query, methods in (("inconnu=1", (client.get,)), (malformed, (client.get, client.head))):
            for method in methods:
                response = method(f"{url}?{query}")
                assert response.status_code in (200, 302, 400), (method.__name__, url, query, response.status_code)


def test_an_unknown_filter_on_an_export_page_returns_to_it_with_a_message(site):
    client = client_as(site["users"]["superuser"])
    url = reverse("admin:groupements_groupement_export")
    response = client.get(f"{url}?inconnu=1", follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert "Filtre inconnu ou invalide dans l'adresse" in plain(response.content.decode())
