"""Results of a validated, published, paid or superseded campaign cannot be changed or deleted, even by
SQL that bypasses the models (a PostgreSQL trigger; SQLite relies on GroupementResult's guard)."""
from django.db import migrations

FROZEN_STATUSES = ("validated", "published", "paid", "superseded")

CREATE = f"""
CREATE OR REPLACE FUNCTION ipep_frozen_results() RETURNS trigger AS $$
DECLARE
    frozen_campaign bigint;
BEGIN
    SELECT id INTO frozen_campaign FROM calculations_campaign
    WHERE status IN ({", ".join(f"'{status}'" for status in FROZEN_STATUSES)})
      AND id IN (OLD.campaign_id, CASE WHEN TG_OP = 'UPDATE' THEN NEW.campaign_id END);
    IF frozen_campaign IS NOT NULL THEN
        RAISE EXCEPTION 'results of campaign % are frozen (validated or later)', frozen_campaign
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ipep_frozen_results ON calculations_groupementresult;
CREATE TRIGGER ipep_frozen_results BEFORE UPDATE OR DELETE ON calculations_groupementresult
    FOR EACH ROW EXECUTE FUNCTION ipep_frozen_results();
"""

DROP = """
DROP TRIGGER IF EXISTS ipep_frozen_results ON calculations_groupementresult;
DROP FUNCTION IF EXISTS ipep_frozen_results();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)  # no parameters: the '%' of RAISE are not placeholders


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("calculations", "0004_dataset_ingestion")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
