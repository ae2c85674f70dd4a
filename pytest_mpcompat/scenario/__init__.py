"""A scenario: a script whose PEP 723 block says how to run it (``load``), what it needs of the
machine (``requirements``), for a server, how to drive it (``serve``), and what its path and
docstring tell a report (``facts``: its family, its fix)."""

from __future__ import annotations

from .load import ExpectRule, Scenario, ScenarioError, load_scenario

__all__ = ["ExpectRule", "Scenario", "ScenarioError", "load_scenario"]
