"""Request body of the groups service (/api/v1/groups)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["GroupCreate"]


class GroupCreate(BaseModel):
    """A new enterprise group and its member enterprises."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    members: list[str] = Field(min_length=1, max_length=500, description="enterprise ids")

    @field_validator("members")
    @classmethod
    def _members_once(cls, value: list[str]) -> list[str]:
        twice = sorted({m for m in value if value.count(m) > 1})
        if twice:
            raise ValueError(f"name each member once; named more than once: {twice}")
        return value
