"""Rule packs and the regulation mappings, as data a reader can audit.

Rules are registered explicitly: each pack module exports a `RULES` tuple and `all_rules()`
concatenates them. Importing a module never registers anything by side effect.
"""
