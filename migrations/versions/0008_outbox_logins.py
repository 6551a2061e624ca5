"""after-commit outbox for follow-ups; one row per login so that logout ends it

Moves grades still waiting for an LMS from lti_grade_outbox into the outbox (kind "lti.grade"),
then drops that table. Everyone logs in again once: logins now live in login_session.

Revision ID: 0008_outbox_logins
Revises: 0007_login_devices
Create Date: 2026-12-01 11:00:00.000000

"""
import json
from datetime import UTC
from datetime import datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_outbox_logins'
down_revision = '0007_login_devices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_item'))
    )
    with op.batch_alter_table('outbox_item', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_item_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_item_user_id'), ['user_id'], unique=False)

    op.create_table('login_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_login_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_login_session'))
    )
    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_session_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_session_user_id'), ['user_id'], unique=False)

    _move_waiting_grades()
    with op.batch_alter_table('lti_grade_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_grade_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_lti_grade_outbox_grade_target_id'))
    op.drop_table('lti_grade_outbox')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_session_token'), type_='unique')
        batch_op.drop_column('session_token')


def _move_waiting_grades():
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT o.grade_target_id, o.payload, o.attempts, o.last_error, t.user_id"
        " FROM lti_grade_outbox o JOIN lti_grade_target t ON t.id = o.grade_target_id"
        " WHERE o.status != 'sent'"
    )).fetchall()
    outbox = sa.table(
        'outbox_item',
        sa.column('kind', sa.String), sa.column('payload', sa.JSON), sa.column('user_id', sa.Integer),
        sa.column('status', sa.String), sa.column('attempts', sa.Integer),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('next_attempt_at', sa.DateTime(timezone=True)),
        sa.column('last_error', sa.Text),
    )
    now = datetime.now(UTC)
    items = []
    for target_id, payload, attempts, last_error, user_id in rows:
        payload = json.loads(payload) if isinstance(payload, str) else dict(payload)
        payload["grade_target_id"] = target_id
        items.append({
            "kind": "lti.grade", "payload": payload, "user_id": user_id, "status": "pending",
            "attempts": 0, "created_at": now, "next_attempt_at": now,
            "last_error": last_error,
        })
    if items:
        op.bulk_insert(outbox, items)


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    import secrets
    for (user_id,) in connection.execute(sa.text('SELECT id FROM "user"')).fetchall():
        connection.execute(
            sa.text('UPDATE "user" SET session_token = :token WHERE id = :id'),
            {"token": secrets.token_urlsafe(32), "id": user_id},
        )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('session_token', nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_user_session_token'), ['session_token'])

    op.create_table('lti_grade_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grade_target_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['grade_target_id'], ['lti_grade_target.id'], name=op.f('fk_lti_grade_outbox_grade_target_id_lti_grade_target'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_grade_outbox'))
    )
    with op.batch_alter_table('lti_grade_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_grade_outbox_grade_target_id'), ['grade_target_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_grade_outbox_status'), ['status'], unique=False)

    with op.batch_alter_table('login_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_session_created_at'))
    op.drop_table('login_session')

    with op.batch_alter_table('outbox_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_item_user_id'))
        batch_op.drop_index('ix_outbox_item_due')
    op.drop_table('outbox_item')
