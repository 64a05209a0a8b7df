"""Task records, accounts and credits: SQLAlchemy models, sessions and migrations."""
