"""Python checks that specs name with `python: <name>` (registered in rules/spec/functions.py)."""
