"""Payment card numbers in text: found by their shape (13–19 digits, an issuer prefix, the Luhn
check) and shortened to their last four digits wherever text is kept or shown: history, exports,
logs, crash reports and the hand-back note."""

from __future__ import annotations

import re

# A whole run of digit groups (single spaces or dashes between them) standing as a word of its own:
# not glued to letters, so an id such as 21a3dbdf-d341-4985-8888-09f650f296eb is never a card.
# The run may be longer than a card (a quantity before it, an expiry after): _card_span finds it.
_CARD_CANDIDATE = re.compile(r"(?<![\w.,])\d(?:[ \-]?\d){12,30}(?!\w)(?![ \-]\d)")
# Issuer prefixes of the card networks people pay with (Visa 4, Mastercard 2/5, Amex/Diners/JCB 3,
# Discover/UnionPay/Maestro 6): order, tracking and phone numbers starting otherwise are kept.
_CARD_PREFIX = re.compile(r"^(?:4|5[0-5]|2[2-7]|3[0-9]|6[0-9])")
# After a card number: its expiry (MM/YY, MM/YYYY) and a lone 3–4 digit security code.
_TRAILING_WINDOW = 48
_EXPIRY = re.compile(r"(?<![\d/])(0[1-9]|1[0-2]) ?[/-] ?(\d{4}|\d{2})(?![\d/])")
_LONE_CODE = re.compile(r"(?<![\d/.,•])\d{3,4}(?![\d/.,])")
# Labelled anywhere: "CVC: 737", "security code 1234", "exp. 11/29".
_LABELLED_CODE = re.compile(r"(?i)\b(cvc2?|cvv2?|csc|cid|security code)(\W{0,3})\d{3,4}\b")
_LABELLED_EXPIRY = re.compile(
    r"(?i)\b(exp(?:iry|iration)?(?: date)?|valid thru|expires)(\W{0,3})(0[1-9]|1[0-2]) ?[/-] ?(\d{4}|\d{2})\b"
)
MASKED_CODE = "•••"
MASKED_EXPIRY = "••/••"


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def looks_like_card(candidate: str) -> bool:
    digits = re.sub(r"[ \-]", "", candidate)
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn_valid(digits)


def _card_span(candidate: str) -> tuple[int, int] | None:
    """Where the card number in a run of digit groups lies: groups before it may be a quantity
    ("2 4111 …"), groups after it an expiry or code ("… 4444 12 30"). Longest first."""
    bounds = [0] + [i + 1 for i, c in enumerate(candidate) if c in " -"]
    ends = [i for i in range(len(candidate), 0, -1) if i == len(candidate) or candidate[i] in " -"]
    spans = sorted(((a, b) for a in bounds for b in ends if b > a), key=lambda span: span[0] - span[1])
    return next((span for span in spans if looks_like_card(candidate[span[0] : span[1]])), None)


def redact_cards(text: str) -> str:
    """Card numbers become "•••• 1111"; an expiry or security code written just after one, or
    labelled as such anywhere, is masked too. Dates, phone and order numbers survive."""
    if not text or not any(c.isdigit() for c in text):
        return text
    cards: list[tuple[int, int]] = []
    for match in _CARD_CANDIDATE.finditer(text):
        span = _card_span(match.group())
        if span is not None:
            cards.append((match.start() + span[0], match.start() + span[1]))
    pieces: list[str] = []
    position = 0
    for number, (start, end) in enumerate(cards):
        pieces.append(text[position:start])
        digits = re.sub(r"[ \-]", "", text[start:end])
        pieces.append(f"•••• {digits[-4:]}")
        next_card = cards[number + 1][0] if number + 1 < len(cards) else len(text)
        position = min(end + _TRAILING_WINDOW, next_card)
        pieces.append(_LONE_CODE.sub(MASKED_CODE, _EXPIRY.sub(MASKED_EXPIRY, text[end:position])))
    pieces.append(text[position:])
    text = "".join(pieces)
    text = _LABELLED_CODE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASKED_CODE}", text)
    return _LABELLED_EXPIRY.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASKED_EXPIRY}", text)
