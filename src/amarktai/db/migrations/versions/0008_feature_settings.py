"""feature_settings: features an admin hid, per role or for the whole installation

Revision ID: 0008
Revises: 0007

No row means visible, so an upgraded installation shows everything it showed before.
"""

from alembic import op
import sqlalchemy as sa

from amarktai.db.base import UTCDateTime


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'feature_settings',
        sa.Column('feature', sa.String(length=40), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('updated_at', UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=26), nullable=True),
        sa.PrimaryKeyConstraint('feature', 'scope', name=op.f('pk_feature_settings')),
    )


def downgrade() -> None:
    op.drop_table('feature_settings')
