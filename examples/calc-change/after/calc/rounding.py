"""Rounding shared by the operations."""


def round_to(value: float, precision: int) -> float:
    return round(value, precision)
