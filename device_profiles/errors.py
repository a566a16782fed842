"""Errors raised by device_profiles.

    ProfileError    a profile file is missing, not YAML, or fails validation;
                    ``source`` names the file and ``errors`` lists every problem.

Codec errors while decoding a block are `carbon_domain.registers.RegisterCodecError`.
"""

from __future__ import annotations

__all__ = ["ProfileError"]


class ProfileError(Exception):
    """A profile that cannot be loaded, with every problem found."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = list(errors)
        lines = "\n".join(f"  {error}" for error in self.errors)
        count = len(self.errors)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun}\n{lines}")
