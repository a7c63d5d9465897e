"""Card numbers are shortened wherever text is kept; everything else that looks numeric survives."""

from __future__ import annotations

import pytest

from desktop_app.core.cards import looks_like_card, luhn_valid, redact_cards


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111", "•••• 1111"),
        ("4111-1111-1111-1111", "•••• 1111"),
        ("4111111111111111", "•••• 1111"),
        ("Paid with 5555 5555 5555 4444.", "Paid with •••• 4444."),
        ("amex 3782 822463 10005", "amex •••• 0005"),
        ("discover 6011111111111117 ok", "discover •••• 1117 ok"),
        ("visa13 4222222222222 end", "visa13 •••• 2222 end"),
        # The expiry and code written after the number go too.
        ("4111 1111 1111 1111 11/29 737", "•••• 1111 ••/•• •••"),
        ("card 4111111111111111, exp 11/2029, cvc 737.", "card •••• 1111, exp ••/••, cvc •••."),
        ("5555555555554444 12 30", "•••• 4444 12 30"),
        # Labelled anywhere.
        ("CVC: 737", "CVC: •••"),
        ("security code 1234", "security code •••"),
        ("Expiry 11/29", "Expiry ••/••"),
        # Two cards: each is found, neither window eats the other.
        ("4111111111111111 and 5555 5555 5555 4444", "•••• 1111 and •••• 4444"),
    ],
)
def test_card_shapes_are_shortened(text: str, expected: str) -> None:
    assert redact_cards(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order #1234567890123456 placed on 11/29",  # 16 digits, not an issuer prefix
        "Order 4111111111111112 shipped",  # fails the Luhn check
        "Call +44 20 7946 0958 or 020 7946 0958",
        "Tracking 9400 1000 0000 0000 0000 00",
        "Total $1,234.56 on 2026-11-29 at 11:29",
        "Flight BA 737 on 11/29",  # no card near it, no label
        "version 4.11.1111.1111",
        "ISBN 978-3-16-148410-0",
        # Ids: a session id whose digits (341-4985-8888-09) pass the Luhn check after an Amex prefix.
        "Session 21a3dbdf-d341-4985-8888-09f650f296eb started",
        "12345678-1234-4234-8234-123456789012",
        "",
    ],
)
def test_other_numbers_survive(text: str) -> None:
    assert redact_cards(text) == text


def test_luhn_and_prefix() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert looks_like_card("4111 1111 1111 1111")
    assert not looks_like_card("1111 1111 1111 1117")  # Luhn-valid, but no network starts with 1
    assert not looks_like_card("411111111111")  # 12 digits


def test_a_timeline_entry_keeps_its_ids_whatever_they_look_like() -> None:
    from desktop_app.core import timeline as tl

    looks_like_a_card = "4111111111111111"  # an id could, by chance, pass every card check
    entry = tl.SessionStarted(at=1.0, session_id=looks_like_a_card, backend="Cloud", backend_kind="cloud")
    assert tl.redacted(entry, redact_cards).session_id == looks_like_a_card
