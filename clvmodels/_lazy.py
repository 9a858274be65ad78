"""PEP 562 lazy exports shared by the subpackages, so importing them stays cheap."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, namespace: dict, names: dict[str, str]):
    """Return ``(__getattr__, __dir__)`` that import each name from its module on first use.

    Parameters
    ----------
    package : str
        The package's name, for error messages.
    namespace : dict
        The package's ``globals()``; resolved names are cached there.
    names : dict of str -> str
        Public name -> module that defines it.
    """

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name]), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(list(namespace) + list(names))

    return __getattr__, __dir__
