"""emissions: a plant's energy and CO2, the overview and period comparisons."""

__all__: list[str] = []
