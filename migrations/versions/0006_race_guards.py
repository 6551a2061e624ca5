"""race guards: one waiting module submission and one waiting badge application per learner

Revision ID: 0006_race_guards
Revises: 0005_lti_tool
Create Date: 2026-12-01 08:00:00.000000

Concurrent requests (a double click) could store two submissions that both wait for review.
Twins already stored are resolved first: the earliest stays waiting, later ones are returned
with a note, so that the partial unique indexes can be built.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_race_guards'
down_revision = '0005_lti_tool'
branch_labels = None
depends_on = None

WAITING = "status = 'submitted'"
GUARDS = (
    ('evidence_submission', 'uq_evidence_submission_waiting', 'module_id'),
    ('badge_application', 'uq_badge_application_waiting', 'badge_class_id'),
)
NOTE = 'Sent twice at the same moment; the first copy waits for review.'


def upgrade():
    for table, index, key in GUARDS:
        op.execute(
            sa.text(
                f"UPDATE {table} SET status = 'returned', feedback = :note, "
                f"reviewed_at = CURRENT_TIMESTAMP WHERE {WAITING} AND EXISTS ("
                f"SELECT 1 FROM {table} AS earlier WHERE earlier.user_id = {table}.user_id "
                f"AND earlier.{key} = {table}.{key} AND earlier.status = 'submitted' "
                f"AND earlier.id < {table}.id)"
            ).bindparams(note=NOTE)
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                index,
                ['user_id', key],
                unique=True,
                sqlite_where=sa.text(WAITING),
                postgresql_where=sa.text(WAITING),
            )


def downgrade():
    for table, index, _key in GUARDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
