"""Errors raised by the carbon domain package.

Everything this package raises on purpose derives from `DomainError`, so a
caller can catch the whole family in one place::

    DomainError                   base class; never raised itself
    ├── UnitError                 unknown unit, or two units of different dimensions
    ├── FactorNotFound            no factor row for a key at a time (series, scopes)
    │   └── AmbiguousFactor       rows from several series match; pick one series
    ├── FactorLibraryError        a row, CSV line or query the library cannot accept
    ├── FormulaInputError         a formula input outside the range the formula allows
    ├── ExpressionError           a configured formula (expression) that does not parse or uses what is not allowed
    ├── EfficiencyCodeError       碳效码 inputs or configuration the computation cannot take
    ├── GridFactorError           electricity-carbon factor inputs that cannot be traced, fitted or compared
    ├── ProjectError              a reduction project's stage change or period inputs that cannot be taken
    ├── AssetError                a carbon-asset transaction, allowance or compliance input that cannot be taken
    ├── ProtectionError           a protected payload (CFP1) is malformed, forged, tampered with or for an unknown key
    └── KeyMaterialError          payload protection secrets that do not fit their algorithms, or an algorithm
                                  the installed OpenSSL lacks

The classes also derive from the matching built-in (`ValueError`,
`LookupError`) so that pydantic validators and generic handlers treat them as
the kind of error they are. Messages say what was wrong, with the numbers, and
what to do about it.
"""

from __future__ import annotations

__all__ = [
    "DomainError",
    "UnitError",
    "FactorNotFound",
    "AmbiguousFactor",
    "FactorLibraryError",
    "FormulaInputError",
    "ExpressionError",
    "EfficiencyCodeError",
    "GridFactorError",
    "ProjectError",
    "AssetError",
    "KeyMaterialError",
    "ProtectionError",
]


class DomainError(Exception):
    """Base class of every error raised by `carbon_domain`."""


class UnitError(DomainError, ValueError):
    """A unit is unknown, or a conversion crosses dimensions (energy vs mass)."""


class FactorNotFound(DomainError, LookupError):
    """No factor row matches the key, time, series and scope chain asked for."""


class AmbiguousFactor(FactorNotFound):
    """Rows from more than one series match; the caller must choose a series."""


class FactorLibraryError(DomainError, ValueError):
    """A factor row, CSV line or resolve query that the library cannot accept."""


class FormulaInputError(DomainError, ValueError):
    """A formula received an input outside its valid range."""


class ExpressionError(DomainError, ValueError):
    """A configured expression does not parse, or uses a construct or name that is not allowed."""


class EfficiencyCodeError(DomainError, ValueError):
    """碳效码 inputs (a unit's figures, an industry code) or a configuration the computation cannot take."""
class GridFactorError(DomainError, ValueError):
    """Regions, flows or unit data that flow tracing, a factor fit or a third-party check cannot use."""


class ProtectionError(DomainError, ValueError):
    """A protected payload is malformed, forged, tampered with or for an unknown key."""


class KeyMaterialError(DomainError, ValueError):
    """Key material does not fit its algorithms (sizes, key id), or the algorithm is not available."""


class ProjectError(DomainError, ValueError):
    """A reduction project's stage change or monitoring-period inputs that the method cannot take."""


class AssetError(DomainError, ValueError):
    """A carbon-asset transaction (e.g. one that would make a balance negative) or compliance input."""
