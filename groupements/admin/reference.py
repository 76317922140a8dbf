from django import forms
from django.contrib import admin

from common.admin_numbers import FrenchNumbersMixin
from common.audit import AuditHistoryMixin
from common.importexport import FilteredExportMixin

from .. import resources
from ..formats import FORMATS
from ..models import (
    Groupement,
    Indicator,
    IndicatorResult,
    Member,
    PatientExperience,
    PhaseCalendar,
    PortalAccess,
    Wave,
    YearlyDecile,
)
from ..models.reference import periods_overlap


class ReferenceAdmin(FrenchNumbersMixin, AuditHistoryMixin, FilteredExportMixin, admin.ModelAdmin):
    """Reference tables: exported in the bundle's CSV (and XLSX) with its French column names; imported
    one file at a time by the upload page linked from the change list (`reference_import`, which
    reads the file with the bundle's rules), for the roles that may change the table."""

    export_formats = FORMATS
    import_export_change_list_template = "admin/groupements/reference_change_list.html"
    list_per_page = 50

    def changelist_view(self, request, extra_context=None):
        extra = {"has_import_permission": self.has_change_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra)


class PhaseInline(admin.TabularInline):
    model = PhaseCalendar
    extra = 0


@admin.register(Wave)
class WaveAdmin(ReferenceAdmin):
    resource_classes = [resources.WaveResource]
    list_display = ("code", "label", "entry_year", "reference_year")
    search_fields = ("code", "label")
    inlines = [PhaseInline]


@admin.register(PhaseCalendar)
class PhaseCalendarAdmin(ReferenceAdmin):
    resource_classes = [resources.PhaseCalendarResource]
    list_display = ("wave", "year", "phase")
    list_filter = ("wave", "year", "phase")


class MemberInlineFormSet(forms.BaseInlineFormSet):
    """Member.clean compares a row with the stored ones; rows of the same submission are compared here
    (an RPPS may not be a member twice on the same day, dates inclusive)."""

    def clean(self):
        super().clean()
        periods = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("rpps") or not data.get("start"):
                continue
            start, end = data["start"], data.get("end")
            for other_start, other_end in periods.get(data["rpps"], []):
                if periods_overlap(start, end, other_start, other_end):
                    raise forms.ValidationError(
                        f"Le RPPS {data['rpps']} figure deux fois sur des périodes qui se chevauchent."
                    )
            periods.setdefault(data["rpps"], []).append((start, end))


class MemberInline(admin.TabularInline):
    model = Member
    formset = MemberInlineFormSet
    extra = 0


@admin.register(Groupement)
class GroupementAdmin(ReferenceAdmin):
    resource_classes = [resources.GroupementResource]
    list_display = ("code", "name", "wave", "region", "active")
    list_filter = ("wave", "region", "active")
    search_fields = ("code", "name", "region", "legal_entity")
    inlines = [MemberInline]


@admin.register(Member)
class MemberAdmin(ReferenceAdmin):
    resource_classes = [resources.MemberResource]
    list_display = ("rpps", "groupement", "start", "end")
    list_filter = ("groupement__wave", "groupement")
    search_fields = ("rpps", "groupement__code", "groupement__name")
    date_hierarchy = "start"
    list_select_related = ("groupement",)


@admin.register(Indicator)
class IndicatorAdmin(ReferenceAdmin):
    resource_classes = [resources.IndicatorResource]
    list_display = ("code", "label", "family", "direction")
    list_filter = ("family", "direction")
    search_fields = ("code", "label")


@admin.register(YearlyDecile)
class YearlyDecileAdmin(ReferenceAdmin):
    resource_classes = [resources.YearlyDecileResource]
    list_display = ("year", "indicator", "d2", "d3", "d7", "d8")
    list_filter = ("year", "indicator__family")
    search_fields = ("indicator__code", "indicator__label")
    list_select_related = ("indicator",)


@admin.register(IndicatorResult)
class IndicatorResultAdmin(ReferenceAdmin):
    resource_classes = [resources.IndicatorResultResource]
    list_display = ("year", "groupement", "indicator", "value_n", "value_n_1")
    list_filter = ("year", "indicator__family", "indicator", "groupement__wave")
    search_fields = ("groupement__code", "groupement__name", "indicator__code")
    list_select_related = ("groupement", "indicator")


@admin.register(PatientExperience)
class PatientExperienceAdmin(ReferenceAdmin):
    resource_classes = [resources.PatientExperienceResource]
    list_display = ("year", "groupement", "points")
    list_filter = ("year", "groupement__wave")
    search_fields = ("groupement__code", "groupement__name")
    list_select_related = ("groupement",)


@admin.register(PortalAccess)
class PortalAccessAdmin(admin.ModelAdmin):
    list_display = ("user", "groupement")
    list_filter = ("groupement",)
    search_fields = ("user__username", "user__email", "groupement__code")
    autocomplete_fields = ("groupement",)
