"""Tests of the YAML reader and the resources it extracts, one file per module."""
