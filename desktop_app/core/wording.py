"""Small pieces of wording used across the app, so money and counts read the same everywhere."""

from __future__ import annotations

from decimal import Decimal


def format_cost(usd: Decimal) -> str:
    """Dollars as people read them: cents for normal amounts, more digits only for fractions of a cent."""
    return f"${usd:.2f}" if abs(usd) >= Decimal("0.01") or usd == 0 else f"${usd:.4f}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
