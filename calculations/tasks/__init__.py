"""Celery tasks (autodiscovered as calculations.tasks)."""

from . import campaigns, simulations  # noqa: F401
from .datasets import validate_dataset_task  # noqa: F401
