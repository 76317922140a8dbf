"""Roles are Django groups (created by migration 0002); their permissions are synced after every
migrate, because permissions of a fresh database only exist once all migrations have run.
"""

DATA_MANAGER = "Gestionnaire de données"
CALCULATOR = "Calculateur"
VALIDATOR = "Validateur"
READER = "Lecteur"
GROUPEMENT_USER = "Utilisateur groupement"

ALL_ROLES = (DATA_MANAGER, CALCULATOR, VALIDATOR, READER, GROUPEMENT_USER)

REFERENCE_MODELS = (
    "groupements.wave",
    "groupements.phasecalendar",
    "groupements.groupement",
    "groupements.member",
    "groupements.indicator",
    "groupements.yearlydecile",
    "groupements.indicatorresult",
    "groupements.patientexperience",
)

# The financing ledger (app `financing`; its models were in this app until the move of issue 13).
FINANCING_MODELS = (
    "financing.seedcredit",
    "financing.ledgerline",
    "financing.pilotproject",
    "financing.approvedinnovativeaction",
    "financing.innovativeactionclaim",
)


def _model_perms(models, actions):
    return {f"{m.split('.')[0]}.{action}_{m.split('.')[1]}" for m in models for action in actions}


# « Historique des modifications » (common.history): who changed what, for the validators and readers.
AUDIT_TRAIL = "pghistory.view_events"

# What-if simulations of a stored campaign: asked and read by calculators, validators and readers.
SIMULATION_PERMISSIONS = _model_perms(("calculations.simulation",), ("view", "add"))

# app_label.codename; a permission that does not exist (yet) is skipped.
ROLE_PERMISSIONS = {
    DATA_MANAGER: _model_perms(REFERENCE_MODELS, ("view", "add", "change", "delete"))
    | _model_perms(("calculations.dataset",), ("view", "add", "change", "delete"))
    | {"calculations.upload_dataset"}
    | _model_perms(FINANCING_MODELS, ("view", "add", "change", "delete"))
    | _model_perms(("calculations.campaign", "calculations.groupementresult"), ("view",)),
    CALCULATOR: _model_perms(REFERENCE_MODELS, ("view",))
    | _model_perms(
        ("calculations.dataset", "calculations.groupementresult", "calculations.campaigntransition"), ("view",)
    )
    | _model_perms(("calculations.campaign",), ("view", "add", "change"))
    | {"calculations.launch_campaign"}
    | SIMULATION_PERMISSIONS,
    VALIDATOR: _model_perms(REFERENCE_MODELS, ("view",))
    | _model_perms(
        (
            "calculations.dataset",
            "calculations.campaign",
            "calculations.groupementresult",
            "calculations.campaigntransition",
        ),
        ("view",),
    )
    | {
        "calculations.validate_campaign",
        "calculations.publish_campaign",
        "calculations.pay_campaign",
        "calculations.reject_campaign",
        AUDIT_TRAIL,
    }
    | SIMULATION_PERMISSIONS
    | _model_perms(("reports.contestation", "reports.statement"), ("view", "change")),
    READER: _model_perms(REFERENCE_MODELS, ("view",))
    | _model_perms(
        (
            "calculations.dataset",
            "calculations.campaign",
            "calculations.groupementresult",
            "calculations.campaigntransition",
            *FINANCING_MODELS,
            "reports.statement",
            "reports.contestation",
        ),
        ("view",),
    )
    | {AUDIT_TRAIL}
    | SIMULATION_PERMISSIONS,
    GROUPEMENT_USER: set(),
}


def sync_role_permissions(sender=None, **kwargs):
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in sorted(perms):
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
