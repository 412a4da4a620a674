"""Check a job's arguments against its actor's signature and simple type hints, as JSON would carry them."""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from domain.errors import InvalidArgument

#: Annotations checked against JSON values; anything else (a dataclass, Any, a TypedDict) is left alone.
SIMPLE_TYPES: dict[Any, tuple[type, ...]] = {
    int: (int,),
    float: (int, float),
    str: (str,),
    bool: (bool,),
    list: (list, tuple),
    dict: (dict,),
    type(None): (type(None),),
}


def check_arguments(fn, actor_name: str, args: list, kwargs: dict) -> None:
    """InvalidArgument naming the first argument that is missing, extra, or of the wrong JSON type."""
    shape = _shape(fn)
    if not kwargs and shape.fits_positionally(len(args)):
        pairs = zip(shape.names, args, strict=False)  # the common case, without Signature.bind
    else:
        try:
            pairs = shape.signature.bind(*args, **kwargs).arguments.items()
        except TypeError as error:
            raise InvalidArgument(f"Arguments do not fit {actor_name}{shape.signature}: {error}.") from None
    for name, value in pairs:
        allowed = shape.allowed.get(name)
        if allowed and not _is_instance(value, allowed):
            raise InvalidArgument(
                f"Argument {name!r} of {actor_name} must be {_describe(shape.hints[name])}, not "
                f"{type(value).__name__} {value!r:.80}."
            )


@dataclass(frozen=True)
class _Shape:
    """What checking an actor's arguments needs, worked out once per function."""

    signature: inspect.Signature
    hints: dict[str, Any]
    allowed: dict[str, tuple[type, ...] | None]
    names: tuple[str, ...]  # the leading plain positional parameters
    required: int  # how many of them have no default
    plain: bool  # every parameter is one of `names`

    def fits_positionally(self, count: int) -> bool:
        return self.plain and self.required <= count <= len(self.names)


@lru_cache(maxsize=1024)
def _shape(fn) -> _Shape:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that does not resolve: check the shape only
        hints = {}
    signature = inspect.signature(fn)
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = list(signature.parameters.values())
    names = tuple(p.name for p in parameters if p.kind in positional)
    return _Shape(
        signature=signature,
        hints=hints,
        allowed={name: _allowed_types(hints.get(name)) for name in signature.parameters},
        names=names,
        required=sum(1 for p in parameters if p.kind in positional and p.default is p.empty),
        plain=len(names) == len(parameters),
    )


def _allowed_types(hint: Any) -> tuple[type, ...] | None:
    if hint is None:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        parts = [_allowed_types(arg) for arg in typing.get_args(hint)]
        return None if any(p is None for p in parts) else tuple(t for p in parts for t in p)
    return SIMPLE_TYPES.get(typing.get_origin(hint) or hint)


def _is_instance(value: Any, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and bool not in allowed:  # JSON true is no number
        return False
    return isinstance(value, allowed)


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
