"""URLs of the reports app, mounted at the site root: the groupement portal (namespace `portal`), the
staff reports (namespace `reports`, linked from the admin) and the public results file (namespace
`public`, no login)."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import password_reset, public_views, views

portal_patterns = [
    path("", views.portal_home, name="home"),
    path("connexion/", views.PortalLoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/oubli/", password_reset.PasswordResetView.as_view(), name="password_reset"),
    path("mot-de-passe/oubli/envoye/", password_reset.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "mot-de-passe/nouveau/<uidb64>/<token>/",
        password_reset.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "mot-de-passe/enregistre/", password_reset.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("campagnes/<int:campaign_id>/", views.portal_campaign, name="campaign"),
    path("releves/<int:statement_id>/telecharger/", views.portal_statement_download, name="statement_download"),
]

staff_patterns = [
    path("campagnes/<int:campaign_id>/rapport-national/", views.national_report, name="national_report"),
    path("campagnes/<int:campaign_id>/rapport-national.pdf", views.national_report_pdf, name="national_report_pdf"),
    path("campagnes/<int:campaign_id>/rapport-national.csv", views.national_report_csv, name="national_report_csv"),
    path("campagnes/<int:campaign_id>/rapport-national.xlsx", views.national_report_xlsx, name="national_report_xlsx"),
    path("releves/<int:statement_id>/telecharger/", views.staff_statement_download, name="statement_download"),
]

public_patterns = [
    path("", public_views.public_data_page, name="data"),
    path("ipep_resultats.csv", public_views.public_csv, name="csv"),
    path("ipep_resultats.xlsx", public_views.public_xlsx, name="xlsx"),
    path("schema.json", public_views.public_schema, name="schema"),
]

urlpatterns = [
    path("donnees-publiques/", include((public_patterns, "public"))),
    path("gestion/", include((staff_patterns, "reports"))),
    path("", include((portal_patterns, "portal"))),
]
