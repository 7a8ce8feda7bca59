"""Use cases. Every function takes (db session, actor), enforces scope, writes the audit
record, owns its transaction, and returns plain dataclasses or DataFrames."""
