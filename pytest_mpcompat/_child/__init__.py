"""Code that runs inside a cell's processes, by path, with the standard library only.

Nothing here imports the rest of the plugin (or anything heavy): ``bootstrap.py`` is re-imported
by every interpreter a scenario spawns, and ``supervisor.py`` must start in milliseconds.
"""
