"""The scenario registry: every module in this package that defines ``SCENARIO`` (or a
``SCENARIOS`` sequence) contributes its scenarios, keyed by name."""

from __future__ import annotations

import importlib
import pkgutil
import traceback

from bench.scenario import Scenario


class ScenarioLoadError(RuntimeError):
    pass


def load_scenarios(
    strict: bool = True, errors: dict[str, str] | None = None
) -> dict[str, Scenario]:
    """Import every scenario module.

    With ``strict`` a module that fails to import raises; otherwise its error (the last lines
    of the traceback) goes into ``errors`` under the module name and the others still load,
    so that one scenario under construction does not stop the rest from running.
    """
    found: dict[str, Scenario] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        name = f"{__name__}.{info.name}"
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            if strict:
                raise ScenarioLoadError(f"cannot import {name}: {exc}") from exc
            if errors is not None:
                errors[info.name] = "".join(traceback.format_exception_only(exc)).strip()
            continue
        scenarios = list(getattr(module, "SCENARIOS", ()))
        if hasattr(module, "SCENARIO"):
            scenarios.append(module.SCENARIO)
        for scenario in scenarios:
            if not isinstance(scenario, Scenario):
                raise TypeError(f"{module.__name__}: {scenario!r} is not a Scenario")
            if scenario.name in found:
                raise ValueError(f"scenario {scenario.name!r} is defined twice")
            found[scenario.name] = scenario
    return found
