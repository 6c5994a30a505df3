"""The command line's error types, shared by its command modules (and light: `main` catches them
without importing the modules that raise them)."""


class UsageError(Exception):
    """Bad arguments or an unusable repository or store: exit 2 with one clear line."""


class GitError(RuntimeError):
    """A git command failed; the message is git's own first line."""
