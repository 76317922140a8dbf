"""Business actions on reference data (load_bundle, the admin import)."""
