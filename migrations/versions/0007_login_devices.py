"""login failures per device cookie; registration attempts per address

Revision ID: 0007_login_devices
Revises: 0006_race_guards
Create Date: 2026-12-01 08:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_login_devices'
down_revision = '0006_race_guards'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('registration_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_attempt'))
    )
    with op.batch_alter_table('registration_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_attempt_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_attempt_remote_addr'), ['remote_addr'], unique=False)

    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_column('device')

    with op.batch_alter_table('registration_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_attempt_remote_addr'))
        batch_op.drop_index(batch_op.f('ix_registration_attempt_attempted_at'))

    op.drop_table('registration_attempt')
