"""Rules and the regulation mappings, as data a reader can audit.

Every rule is a spec (rules/specs/<pack>/<ID>.yml) that `all_rules()` loads and compiles; a
check more than a few attribute comparisons is a Python function the spec names through the
explicit table rules/spec/functions.py. Importing a module never registers anything by side effect.
"""
