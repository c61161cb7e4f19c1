"""Argument checks shared by the models and transforms: each raises at construction a
``ValueError`` (wrong value) or ``TypeError`` (wrong type) that names the argument, the
value given and what is accepted."""
import numbers
from typing import Any, Container, Sequence


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_positive_int(**values: Any) -> None:
    """Each value must be an int >= 1."""
    for name, value in values.items():
        if not _is_int(value) or value < 1:
            raise ValueError(f'{name} must be a positive int, got {value!r}')


def check_int_range(name: str, value: Any, low: int, high: int) -> None:
    """``value`` must be an int in ``low..high`` (both included)."""
    if not _is_int(value) or not low <= value <= high:
        raise ValueError(f'{name} must be an int in {low}..{high}, got {value!r}')


def check_rate(**values: Any) -> None:
    """Each value must be a probability in [0, 1) (dropout, drop path: 1 drops everything)."""
    for name, value in values.items():
        if not _is_number(value) or not 0 <= value < 1:
            raise ValueError(f'{name} must be a number in [0, 1), got {value!r}')


def check_positive(**values: Any) -> None:
    """Each value must be a number > 0."""
    for name, value in values.items():
        if not _is_number(value) or not value > 0:
            raise ValueError(f'{name} must be a number > 0, got {value!r}')


def check_non_negative(**values: Any) -> None:
    """Each value must be a number >= 0."""
    for name, value in values.items():
        if not _is_number(value) or value < 0:
            raise ValueError(f'{name} must be a number >= 0, got {value!r}')


def check_bool(**values: Any) -> None:
    """Each value must be True or False (a string such as 'False' would count as true)."""
    for name, value in values.items():
        if not isinstance(value, bool):
            raise TypeError(f'{name} must be True or False, got {value!r}')


def check_choice(name: str, value: Any, choices: Container) -> None:
    """``value`` must be one of ``choices``."""
    if value not in choices:
        raise ValueError(f'{name} must be one of {tuple(choices)}, got {value!r}')


def check_number_pair(name: str, value: Any, what: str = 'numbers') -> Sequence[float]:
    """``value`` must hold two numbers >= 0 (``what`` they are, for the message); returns
    them as floats."""
    if (isinstance(value, (str, bytes)) or not hasattr(value, '__len__') or len(value) != 2
            or not all(_is_number(v) and v >= 0 for v in value)):
        raise ValueError(f'{name} takes two {what} >= 0, got {value!r}')
    return tuple(float(v) for v in value)
