"""Celery tasks (autodiscovered as calculations.tasks)."""
