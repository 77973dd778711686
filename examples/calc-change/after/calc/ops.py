"""Arithmetic helpers."""

from calc.rounding import round_to


def add(a: float, b: float, precision: int = 2) -> float:
    return round_to(a + b, precision)


def subtract(a: float, b: float) -> float:
    return a - b


def divide(a: float, b: float, *, precision: int = 2) -> float:
    if b == 0:
        raise ZeroDivisionError("cannot divide by zero")
    return round_to(a / b, precision)


def _check(value: float) -> None:
    if value != value:
        raise ValueError("NaN")


class Accumulator:
    def __init__(self, start: float = 0.0) -> None:
        self.total = start

    def push(self, value: float, times: int = 1) -> float:
        if times < 1:
            raise ValueError("times must be at least 1")
        self.total += value * times
        return self.total
