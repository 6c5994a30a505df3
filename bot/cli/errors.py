"""The command line's one error type, shared by its command modules."""


class UsageError(Exception):
    """Bad arguments or an unusable repository or store: exit 2 with one clear line."""
