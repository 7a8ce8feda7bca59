"""Bondline: a case-management dashboard for couples counselors."""
