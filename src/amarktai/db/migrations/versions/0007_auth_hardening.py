"""users.totp_last_step: the last TOTP time step accepted for the user

Revision ID: 0007
Revises: 0006

RFC 6238 §5.2: a verifier must not accept a one-time password twice. A code is good for
its 30-second step and one step either side (clock drift), so without a record of the
last step accepted the same code logged in again and again. NULL: no code accepted yet
for the current secret (every account at upgrade time, and after 2FA is disabled).
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    # A plain ALTER on SQLite too (3.35+), not batch mode's copy of the whole table.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE users DROP COLUMN totp_last_step')
    else:
        op.drop_column('users', 'totp_last_step')
