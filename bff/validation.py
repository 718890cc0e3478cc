"""Validators shared by the schemas."""
from __future__ import annotations

from marshmallow import validate


class FullMatch(validate.Regexp):
    """validate.Regexp over the whole value: `$` alone also matches before a trailing newline.

    The pattern keeps its `^…$` so the OpenAPI document states it the way JSON Schema reads it
    (there `$` is the true end); here the value must match from its first to its last character.
    """

    def __call__(self, value: str) -> str:
        """Refuse the value unless the pattern matches all of it."""
        if self.regex.fullmatch(value) is None:
            raise validate.ValidationError(self._format_error(value))
        return value
