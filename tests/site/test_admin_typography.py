"""French typography on the pages the admin's templates make (Django's own and ours: the admin under
/admin/, the staff reports under /gestion/), set by ipep_site.middleware.AdminTypographyMiddleware, and on
the error pages (templates/error_page.html): narrow no-break spaces before « : ; ! ? », typographic
apostrophes, in the text only; scripts, styles, form values and attributes stay byte for byte."""

import pytest
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import RequestFactory
from django.urls import path, reverse
from django.views import defaults

from calculations.models import Campaign
from groupements import roles
from groupements.models import Groupement
from tests.reports.factories import golden_campaign
from tests.typography import APOSTROPHE, NNBSP, typography_faults, visible_text

pytestmark = pytest.mark.django_db

# A page whose text must change and whose code and form values must not.
UNTOUCHED = (
    '<script>const label = "l\'a : b";</script>'
    '<style>p::before { content: "l\'a : b"; }</style>'
    '<input name="note" value="l\'a : b" title="l\'a : b">'
    '<textarea name="motif">l\'a : b</textarea>'
    "<pre>l'a : b</pre><code>l'a : b</code>"
)
PAGE = f"<!DOCTYPE html><html><body><p>Qu'en dit l'équipe : « oui » ?</p>{UNTOUCHED}</body></html>"
SET = f"<p>Qu{APOSTROPHE}en dit l{APOSTROPHE}équipe{NNBSP}: «{NNBSP}oui{NNBSP}»{NNBSP}?</p>"


def page(request):
    return HttpResponse(PAGE)


urlpatterns = [
    path("admin/essai/", page),
    path("ailleurs/", page),
    path("admin/essai.json", lambda request: JsonResponse({"texte": "l'a : b"})),
    path("admin/essai-flux/", lambda request: StreamingHttpResponse(iter([PAGE]), content_type="text/html")),
]


def test_admin_pages_of_every_kind_are_set_in_french_typography(client, make_user):
    campaign = golden_campaign(status=Campaign.Status.COMPUTED, codes=["G001", "G004"], datasets=False)
    groupement = Groupement.objects.get(code="G001")
    client.force_login(make_user(role=roles.READER))
    pages = {
        url: client.get(url).content.decode()
        for url in (
            reverse("admin:index"),
            reverse("admin:calculations_campaign_changelist"),
            reverse("admin:calculations_campaign_change", args=[campaign.pk]),
            reverse("admin:calculations_campaign_history", args=[campaign.pk]),
            reverse("admin:groupements_groupement_change", args=[groupement.pk]),
            reverse("admin:financing_ledgerline_financing_report"),
            reverse("reports:national_report", args=[campaign.pk]),  # /gestion/, on the admin's templates
        )
    }
    for url, html in pages.items():
        assert typography_faults(visible_text(html)) == [], url
    index = pages[reverse("admin:index")]
    assert f"Back-office de l{APOSTROPHE}intéressement IPEP" in index  # ours (ipep_site/urls.py)
    assert f"(actuellement{NNBSP}: automatique)" in index  # Django's own template and translation

    client.force_login(make_user(role=roles.DATA_MANAGER))
    html = client.get(reverse("reference_import", args=["groupement"])).content.decode()
    assert typography_faults(visible_text(html)) == []
    assert f"Colonnes{NNBSP}:" in html and f"dans n{APOSTROPHE}importe quel ordre" in html
    assert f"<code>load_bundle</code>{NNBSP}; le fichier" in html  # a space after an element, before « ; »


def test_a_form_value_keeps_its_apostrophe_and_spaces(client, make_user, loaded_reference):
    groupement = Groupement.objects.get(code="G001")
    Groupement.objects.filter(pk=groupement.pk).update(name="MSP de l'Étang : nord")
    client.force_login(make_user(role=roles.DATA_MANAGER))
    html = client.get(reverse("admin:groupements_groupement_change", args=[groupement.pk])).content.decode()
    assert 'value="MSP de l&#x27;Étang : nord"' in html  # what the form sends back is what is stored
    assert typography_faults(visible_text(html)) == []


def test_the_progress_the_admin_pages_poll_is_set_like_the_page(client, make_user):
    """static/ipep/progress.js writes the polled label and step into the page as they come."""
    from calculations.models import Dataset, Simulation

    dataset = Dataset.objects.create(
        year=2022, original_name="b.csv", sha256="a" * 64, status="validating", progress_step="en file d'attente"
    )
    simulation = Simulation.objects.create(
        campaign=golden_campaign(status=Campaign.Status.COMPUTED, codes=["G001"], datasets=False),
        progress_step="en attente d'un worker",
    )
    client.force_login(make_user(role=roles.READER))
    dataset_status = client.get(reverse("admin:calculations_dataset_status", args=[dataset.pk])).json()
    assert dataset_status["step"] == f"en file d{APOSTROPHE}attente"
    simulation_status = client.get(reverse("admin:calculations_simulation_status", args=[simulation.pk])).json()
    assert simulation_status["step"] == f"en attente d{APOSTROPHE}un worker"
    page = client.get(reverse("admin:calculations_dataset_change", args=[dataset.pk])).content.decode()
    assert f"en file d{APOSTROPHE}attente" in page  # the same as the page first shows


@pytest.mark.urls(__name__)
def test_scripts_styles_and_form_values_stay_byte_for_byte(client):
    html = client.get("/admin/essai/").content.decode()
    assert html == PAGE.replace("<p>Qu'en dit l'équipe : « oui » ?</p>", SET)
    assert UNTOUCHED in html
    # Outside the admin, and other than a whole HTML page, nothing is touched.
    assert client.get("/ailleurs/").content.decode() == PAGE
    assert client.get("/admin/essai.json").json() == {"texte": "l'a : b"}
    assert b"".join(client.get("/admin/essai-flux/").streaming_content).decode() == PAGE


@pytest.mark.urls(__name__)
def test_the_content_length_is_that_of_the_typeset_body_and_head_still_answers(client):
    response = client.get("/admin/essai/")
    assert int(response["Content-Length"]) == len(response.content) > len(PAGE.encode())  # 3 bytes per U+202F
    head = client.head("/admin/essai/")
    assert (head.status_code, head["Content-Length"], head.content) == (200, response["Content-Length"], b"")


def test_an_admin_page_and_its_head_give_the_same_length(client, make_user):
    client.force_login(make_user(role=roles.READER))
    response = client.get(reverse("admin:index"))
    assert NNBSP.encode() in response.content
    assert response["Content-Length"] == str(len(response.content))
    head = client.head(reverse("admin:index"))
    assert (head.status_code, head["Content-Length"], head.content) == (200, response["Content-Length"], b"")


def test_error_pages_are_set_in_french_typography(client):
    response = client.get("/cette-page-n-existe-pas/")  # DEBUG is off: the 404 template
    html = response.content.decode()
    assert response.status_code == 404 and typography_faults(visible_text(html)) == []
    assert f"Retour à l{APOSTROPHE}accueil du portail" in html
    request = RequestFactory().get("/")
    for response in (
        defaults.server_error(request),  # rendered without the request's context
        defaults.permission_denied(request, Exception()),
        defaults.bad_request(request, Exception()),
    ):
        html = response.content.decode()
        assert "<h1>" in html and typography_faults(visible_text(html)) == [], response.status_code
    assert (
        f"s{APOSTROPHE}est produite{NNBSP}; elle a été enregistrée" in defaults.server_error(request).content.decode()
    )
