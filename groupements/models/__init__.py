from .ledger import InnovativeActionClaim, LedgerLine, PilotProject, SeedCredit
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
    "InnovativeActionClaim",
    "LedgerLine",
    "PilotProject",
    "SeedCredit",
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
