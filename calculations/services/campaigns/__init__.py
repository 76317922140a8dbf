"""Business actions on campaigns (METHODOLOGY.md section 8): create, set parameters, launch the Celery
computation, store its results, reject, validate (four eyes), publish (superseding the previous version)
and mark paid. Status changes go through `transitions.apply_transition` (lock + checks + audit row).

The computation (`run_campaign_computation`, the body of the Celery task) is idempotent: it works only
while the campaign is `computing` with the token the launch gave it, and replaces the results
(delete then insert) in the same transaction as the status change, under the row lock. A worker killed
mid-way leaves a stale heartbeat, which `fail_stale_campaigns` turns into `failed` (relaunchable).

By concern: `creation`, `inputs`, `computation`, `lifecycle`."""

from ..transitions import CampaignError  # what every action here raises when it refuses
from .computation import (
    ComputationAbandoned,
    fail_stale_campaigns,
    launch_campaign,
    run_campaign_computation,
    stored_campaign_inputs,
    wait_for_computation,
)
from .creation import (
    PARAMETERS_SOURCE,
    PREVIOUS_VERSION_SOURCE,
    campaign_creation_problems,
    check_year,
    checked_dataset_choices,
    choose_campaign_datasets,
    create_campaign,
    merge_parameters,
    update_campaign_parameters,
)
from .inputs import check_campaign_inputs
from .lifecycle import (
    SERVICES_BY_TARGET,
    pay_campaign,
    publish_campaign,
    reject_campaign,
    transition_campaign,
    validate_campaign,
)

__all__ = [
    "CampaignError",
    "ComputationAbandoned",
    "PARAMETERS_SOURCE",
    "PREVIOUS_VERSION_SOURCE",
    "SERVICES_BY_TARGET",
    "campaign_creation_problems",
    "check_campaign_inputs",
    "check_year",
    "checked_dataset_choices",
    "choose_campaign_datasets",
    "create_campaign",
    "fail_stale_campaigns",
    "launch_campaign",
    "merge_parameters",
    "pay_campaign",
    "publish_campaign",
    "reject_campaign",
    "run_campaign_computation",
    "stored_campaign_inputs",
    "transition_campaign",
    "update_campaign_parameters",
    "validate_campaign",
    "wait_for_computation",
]
