from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "IPEP – administration"
admin.site.site_title = "IPEP"
admin.site.index_title = "Back-office de l'intéressement IPEP"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
