"""orders.triggered: whether a stop order's trigger price has traded

Revision ID: 0006
Revises: 0005

A paper venue starts empty after a restart and is refilled from the open orders stored
here; without this flag a stop-limit that had triggered but not yet filled came back
armed again.
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        'orders',
        sa.Column('triggered', sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # A plain ALTER on SQLite too (3.35+), not batch mode's copy of the whole table.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE orders DROP COLUMN triggered')
    else:
        op.drop_column('orders', 'triggered')
