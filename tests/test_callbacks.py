"""The button codec: every tap survives the round trip within 64 bytes; nothing else is read."""

from __future__ import annotations

import pytest

from bot.callbacks import (
    MAX_ID,
    MAX_OFFSET,
    CardTap,
    FetchTap,
    FlashAction,
    FlashTap,
    InstantTap,
    LanguageTap,
    LatestPage,
    ModeTap,
    SearchPage,
    SectionTap,
    StopTap,
    Tap,
    decode,
    encode,
    number,
)

LONGEST: list[Tap] = [
    SectionTap("x" * 32),
    SectionTap("x" * 32, welcome=True),
    ModeTap("x" * 32, welcome=True),
    ModeTap("x" * 32, welcome=True, instant=True),
    ModeTap("x" * 32, instant=False),
    InstantTap("x" * 32),
    LanguageTap("uk"),
    StopTap(True),
    StopTap(False),
    LatestPage("x" * 32, MAX_OFFSET),
    SearchPage(MAX_ID, MAX_OFFSET),
    CardTap(MAX_ID),
    *(FlashTap(MAX_ID, action) for action in FlashAction),
    FetchTap(),
]


@pytest.mark.parametrize("tap", LONGEST, ids=repr)
def test_every_tap_round_trips_within_64_bytes(tap: Tap) -> None:
    data = encode(tap)
    assert 1 <= len(data.encode()) <= 64
    assert decode(data) == tap


def test_the_formats_of_buttons_already_in_chats() -> None:
    assert decode("sec:world") == SectionTap("world")
    assert decode("wmode:world") == ModeTap("world", welcome=True)
    assert decode("lt:mine:10") == LatestPage("mine", 10)
    assert decode("sr:12:20") == SearchPage(12, 20)
    assert decode("card:1234") == CardTap(1234)
    assert decode("al:7:quiet") == FlashTap(7, FlashAction.QUIET)
    assert decode("stop:yes") == StopTap(True)
    assert decode("fetch") == FetchTap()
    assert decode("now:world") == InstantTap("world")
    assert encode(InstantTap("world")) == "now:world"


@pytest.mark.parametrize(
    "data",
    [
        None, "", "x" * 65, "card", "card:", "card:-1", "card:²", "card:٣", "card:01",
        "card:99999999999999999999999", "card:1:2", "card: 1", "lt:all:1000000000",
        "lt:all:-10", "lt:ALL:0", "lt:all", "lt:../x:0", "sr:1", "sr:x:0", "sr:1:1e3",
        "al:1:launch", "al:1", "al:-1:send", "lang:ru", "lang:", "stop:maybe", "sec:",
        "sec:World", "sec:" + "x" * 33, "mode:a:b", "fetch:1", "\x00", "card:1\n",
        "ＣＡＲＤ:1", "sec:світ", "now:", "now:World", "now:a:b", "now:" + "x" * 33,
    ],
)  # fmt: skip
def test_anything_else_is_not_a_tap(data: object) -> None:
    assert decode(data) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("12", 12), ("9007199254740991", 9007199254740991), ("", None), ("-1", None),
     ("+1", None), ("²", None), ("٣", None), ("1.0", None), (" 1", None), ("012", None),
     ("99999999999999999999999", None), ("1_000", None)],
)  # fmt: skip
def test_numbers_are_ascii_digits_within_bounds(text: str, expected: int | None) -> None:
    assert number(text) == expected


def test_signed_numbers_and_their_bound() -> None:
    assert number("-1001234567890", 2**53, signed=True) == -1001234567890
    assert number("-", signed=True) is None
    assert number("--5", signed=True) is None
    assert number(str(2**53 + 1), 2**53) is None
