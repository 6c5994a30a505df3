"""Tests of the Terraform parser package, one file per concern."""
