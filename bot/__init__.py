"""Compliance Bot: reviews infrastructure changes in pull requests against compliance rules."""

__version__ = "0.1.0"
