"""Running one cell: the typed request (``request``), the run from skip to verdict (``cells``),
the process tree under a supervisor (``process``), and a server driven and stopped (``serve``).
What runs inside the cell is ``pytest_mpcompat._child`` (stdlib only, started by path).

PYTEST_DONT_REWRITE: the plugin's settings read the process tables' names from here.
"""
