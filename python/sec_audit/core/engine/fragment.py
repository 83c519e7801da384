"""`BodyFragment`: an already scrubbed, bounded JSON object from `capture_body`."""

from __future__ import annotations

__all__ = ["BodyFragment"]


class BodyFragment:
    """Finished JSON text (default separators, pure ASCII) that `render` embeds verbatim.

    Only engines create these; holding the text instead of a parsed object keeps request
    bodies out of Python objects on the native path.
    """

    __slots__ = ("_json",)
    _json: str

    def __init__(self, json: str) -> None:
        if not isinstance(json, str):
            raise TypeError(f"BodyFragment.json must be str, not {type(json).__name__}")
        _set_json(self, json)  # the slot's own setter: cheaper than object.__setattr__

    @property
    def json(self) -> str:
        return self._json

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("BodyFragment is immutable")

    def __repr__(self) -> str:
        return f"BodyFragment({self._json!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, BodyFragment):
            return self._json == other._json
        return NotImplemented

    def __hash__(self) -> int:
        return hash(("BodyFragment", self._json))


_set_json = BodyFragment.__dict__["_json"].__set__
