from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from common.history import history_view
from ipep_site.health import HealthView
from reports import password_reset
from reports.forms import StaffAuthenticationForm

admin.site.site_header = "IPEP – administration"
admin.site.site_title = "IPEP"
admin.site.index_title = "Back-office de l'intéressement IPEP"
admin.site.login_form = StaffAuthenticationForm  # shows the lock-out (ipep_site.lockout), as on the portal
# Here rather than at start-up (SimpleAdminConfig in settings): only a process that serves URLs needs them.
admin.autodiscover()

urlpatterns = [
    # The state of the database, cache, storage, broker and worker: no login, no detail (ipep_site.health).
    path("health/", HealthView.as_view(), name="health"),
    # The reference tables' upload page (calculations), before the admin's own catch-all URLs.
    path("admin/", include("calculations.admin.reference_import")),
    # The audit trail of every tracked model (on PostgreSQL; SQLite says it keeps none).
    path("admin/historique/", admin.site.admin_view(history_view), name="change_history"),
    path("admin/pghistory/events/", RedirectView.as_view(pattern_name="change_history", permanent=True)),
    # The admin login page shows « mot de passe oublié ? » when this name exists: the portal's flow.
    path("admin/mot-de-passe-oublie/", password_reset.PasswordResetView.as_view(), name="admin_password_reset"),
    path("admin/", admin.site.urls),
    path("", include("reports.urls")),  # groupement portal at the root, staff reports under /gestion/
]
