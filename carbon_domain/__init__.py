"""carbon_domain: the pure domain package every carbonflow stage imports.

Wire schemas (`schemas`), units (`units`), the versioned factor library
(`factors`), accounting formulas (`formulas`) and the package's exception tree
(`errors`); submodules imported by name include the Modbus register codec
(`registers`), byte encodings (`wire`) and end-to-end payload protection
(`protection`, shared by the edge agent that protects and ingest that checks),
the 碳效码 computation (`efficiency_code`), the safe expression language of
its configured formulas (`expressions`) and the electricity-carbon factors
(`grid_factors`: flow tracing, factor fits, electricity-to-fuel models), project reductions (`projects`),
carbon assets (`assets`) and analysis and planning (`analysis`: decoupling, LMDI, STIRPAT, targets).
It imports no I/O library: only the standard library, pydantic and, in
`protection`, the `cryptography` primitives and, in `grid_factors` and
`analysis`, numpy and scipy.
"""

from carbon_domain.errors import (
    AmbiguousFactor,
    DomainError,
    FactorLibraryError,
    FactorNotFound,
    FormulaInputError,
    UnitError,
)
from carbon_domain.factors import FACTOR_TIMEZONE, FactorLibrary, FactorRow, Scope
from carbon_domain.formulas import (
    FORMULA_VERSION,
    FormulaResult,
    cems_hourly_mass_kg,
    co2_percent_to_mg_m3,
    combustion_emission,
    dry_concentration,
    electricity_emission,
    fixed_carbon,
    heat_emission,
    inventory_total,
    process_emission,
    standard_dry_flow,
)
from carbon_domain.schemas import (
    COLUMN_ENVELOPE_VERSION,
    ENVELOPE_VERSION,
    QUALITY_CODE,
    QUALITY_NAMES,
    ColumnEnvelope,
    DeviceBatch,
    DeviceReadings,
    Envelope,
    PointKind,
    Quality,
    Reading,
)
from carbon_domain.units import Dimension, canonical_unit, convert, dimension_of, known_units

__all__ = [
    # schemas
    "Quality",
    "QUALITY_CODE",
    "QUALITY_NAMES",
    "PointKind",
    "Reading",
    "Envelope",
    "ColumnEnvelope",
    "DeviceReadings",
    "DeviceBatch",
    "ENVELOPE_VERSION",
    "COLUMN_ENVELOPE_VERSION",
    # units
    "Dimension",
    "convert",
    "dimension_of",
    "canonical_unit",
    "known_units",
    # factors
    "Scope",
    "FactorRow",
    "FactorLibrary",
    "FACTOR_TIMEZONE",
    # formulas
    "FORMULA_VERSION",
    "FormulaResult",
    "combustion_emission",
    "electricity_emission",
    "heat_emission",
    "process_emission",
    "fixed_carbon",
    "inventory_total",
    "standard_dry_flow",
    "dry_concentration",
    "co2_percent_to_mg_m3",
    "cems_hourly_mass_kg",
    # errors
    "DomainError",
    "UnitError",
    "FactorNotFound",
    "AmbiguousFactor",
    "FactorLibraryError",
    "FormulaInputError",
]
