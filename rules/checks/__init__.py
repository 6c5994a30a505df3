"""Checks that need more than attribute comparisons, shared by the packs and named by specs."""
