"""Celery task of the what-if simulations: a thin wrapper around `calculations.services.simulations`."""

from celery import shared_task

from calculations.services import simulations as services


@shared_task(name="calculations.run_simulation", acks_late=True, ignore_result=True)
def run_simulation_task(simulation_id: int) -> None:
    """Compute and store simulation `simulation_id`; a redelivered message does nothing (see the service)."""
    services.run_simulation(simulation_id=simulation_id)
