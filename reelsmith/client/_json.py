"""JSON as it comes off the wire, and lenient typed reads of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

JsonValue: TypeAlias = "None | bool | int | float | str | list[JsonValue] | dict[str, JsonValue]"
JsonObject: TypeAlias = Mapping[str, JsonValue]


class Fields:
    """Typed reads of one JSON object. A field that is missing, null or of another type reads as
    the default, so that a field Akool adds, drops or retypes (numbers sent as strings, as its
    own clients do) never breaks a caller; what was really sent stays in ``raw``."""

    def __init__(self, value: JsonValue | JsonObject) -> None:
        if isinstance(value, dict):
            self.raw: dict[str, JsonValue] = value
        else:
            self.raw = dict(value) if isinstance(value, Mapping) else {}

    def _first(self, names: tuple[str, ...]) -> JsonValue:
        for name in names:
            if self.raw.get(name) is not None:
                return self.raw[name]
        return None

    def text(self, *names: str) -> str:
        """The first of ``names`` that is set, as a string ("" when none is)."""
        value = self._first(names)
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return ""

    def optional_integer(self, *names: str) -> int | None:
        """The first of ``names`` that is set, as an integer (numeric strings too); else None."""
        value = self._first(names)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                return None
        return None

    def integer(self, *names: str, default: int = 0) -> int:
        """As :meth:`optional_integer`, with ``default`` where none is set."""
        found = self.optional_integer(*names)
        return default if found is None else found

    def number(self, *names: str) -> float:
        """The first of ``names`` that is set, as a number; an integer stays an int, so that 20
        credits print as 20."""
        value = self._first(names)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                parsed = float(value.strip())
            except ValueError:
                return 0
            return int(parsed) if parsed.is_integer() else parsed
        return 0

    def optional_number(self, *names: str) -> float | None:
        """As :meth:`number`, but None where none of ``names`` is set."""
        return None if self._first(names) is None else self.number(*names)

    def flag(self, *names: str) -> bool:
        """The first of ``names`` that is set, as a boolean (``"true"`` and 1 count)."""
        value = self._first(names)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    def texts(self, name: str) -> list[str]:
        """A list of strings (other items left out)."""
        value = self.raw.get(name)
        return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []

    def integers(self, name: str) -> list[int]:
        """A list of integers (other items left out)."""
        value = self.raw.get(name)
        if not isinstance(value, list):
            return []
        return [item for item in value if isinstance(item, int) and not isinstance(item, bool)]

    def object(self, name: str) -> Fields:
        """A nested object (empty when absent)."""
        return Fields(self.raw.get(name))

    def objects(self, name: str) -> list[Fields]:
        """A list of nested objects (other items left out)."""
        value = self.raw.get(name)
        return [Fields(item) for item in value if isinstance(item, dict)] if isinstance(value, list) else []

    def has(self, name: str) -> bool:
        """Whether ``name`` is set (present and not null)."""
        return self.raw.get(name) is not None
