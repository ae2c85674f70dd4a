"""Names and limits that settings, scenarios and results share: start methods and
what counts as a usable number of seconds.

Kept apart from ``model`` (and free of imports) because ``pytest_configure`` validates the
settings of every pytest run in an environment that has the plugin, used or not.

PYTEST_DONT_REWRITE: loaded by every pytest run, this module has no assertions to rewrite.
"""

from __future__ import annotations

__all__ = ["DEFAULT_EXIT_GRACE_S", "MAX_SECONDS", "START_METHODS", "seconds_problem"]

#: After a cell's main process exits, how long its other processes get to finish on their own
#: (multiprocessing's resource tracker and forkserver exit only once they see it gone) before
#: they are reported as leaked and killed.
DEFAULT_EXIT_GRACE_S = 2.0

#: The longest timeout or grace period accepted (a day): longer ones are typing mistakes, and
#: ``inf`` or ``nan`` would break the waits.
MAX_SECONDS = 86400.0


def seconds_problem(value: object, zero_ok: bool = False) -> str | None:
    """Why ``value`` is not a usable number of seconds ("must be ..."), or None."""
    kind = "a positive number of seconds" if not zero_ok else "a number of seconds >= 0"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be {kind}"
    if value != value or value in (float("inf"), float("-inf")):  # nan, inf
        return f"must be {kind} (a finite one)"
    if value < 0 or (value == 0 and not zero_ok):
        return f"must be {kind}"
    if value > MAX_SECONDS:
        return f"must be at most {MAX_SECONDS:g} seconds (a day)"
    return None


#: Every start method that CPython knows, in a stable display order.
START_METHODS: tuple[str, ...] = ("fork", "spawn", "forkserver")
