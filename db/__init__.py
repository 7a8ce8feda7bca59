"""Persistence: SQLAlchemy models, engine factory, read-side queries, migrations.

Never imports `dashboard` or `streamlit`: the database layer stands alone.
"""
