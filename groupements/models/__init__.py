from .reference import (
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

__all__ = [
    "Groupement",
    "Indicator",
    "IndicatorResult",
    "Member",
    "PatientExperience",
    "PhaseCalendar",
    "PortalAccess",
    "Wave",
    "YearlyDecile",
]
