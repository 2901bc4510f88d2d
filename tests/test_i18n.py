"""The catalogs: complete, well-formed, with Ukrainian plurals; choosing a chat's language."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, Catalogs, parse_language, pick_language
from bot.render import help as help_view
from tests.fakes import tg_html

ROOT = Path(__file__).parent.parent


def source_messages() -> set[str]:
    """Every msgid the code uses, extracted the way `make messages` does."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "bot", method_map=[("**.py", "python")]
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_catalog_has_every_message_translated(lang: str) -> None:
    po = (LOCALES / lang / "LC_MESSAGES" / "visnyk.po").read_bytes()
    catalog = read_po(io.BytesIO(po), locale=lang)
    translated = {}
    for m in catalog:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        translated[key] = all(strings) and not m.fuzzy
    used = source_messages()
    assert used, "extraction found nothing"
    missing = sorted(used - set(translated))
    assert missing == [], f"run `make messages` and translate: {missing}"
    if lang == "uk":
        untranslated = sorted(k for k in used if not translated[k])
        assert untranslated == []


def test_ukrainian_plural_forms() -> None:
    t = Catalogs().get("uk")
    words = {
        n: t.ngettext(
            "Subscribed to {count} section.", "Subscribed to {count} sections.", n
        ).format(count=n)
        for n in (1, 2, 4, 5, 11, 12, 21, 22, 25, 101, 111)
    }
    assert words[1] == "Ви підписані на 1 розділ."
    assert words[2] == "Ви підписані на 2 розділи."
    assert words[4] == "Ви підписані на 4 розділи."
    assert words[5] == "Ви підписані на 5 розділів."
    assert words[11] == "Ви підписані на 11 розділів."
    assert words[12] == "Ви підписані на 12 розділів."
    assert words[21] == "Ви підписані на 21 розділ."
    assert words[22] == "Ви підписані на 22 розділи."
    assert words[25] == "Ви підписані на 25 розділів."
    assert words[101] == "Ви підписані на 101 розділ."
    assert words[111] == "Ви підписані на 111 розділів."


class Placeholders(dict[str, object]):
    """Any placeholder a message has, filled with plain text (numbers for counts)."""

    def __missing__(self, key: str) -> str:
        return "Світ"


def test_every_translation_is_valid_telegram_html() -> None:
    """Translators may not break the markup: each string must parse as Telegram's HTML,
    with its placeholders filled."""
    for lang in ("uk", "en"):
        po = (LOCALES / lang / "LC_MESSAGES" / "visnyk.po").read_bytes()
        for m in read_po(io.BytesIO(po), locale=lang):
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            for s in strings:
                if m.id and s:
                    tg_html.parse(s.format_map(Placeholders(count=3)))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("uk", "uk"),
        ("uk-UA", "uk"),
        ("en", "en"),
        ("en-US", "en"),
        ("ru", "uk"),
        ("be", "uk"),
        ("de", "en"),
        ("pl", "en"),
        (None, "uk"),
        ("", "uk"),
    ],
)
def test_pick_language(code: str | None, expected: str) -> None:
    assert pick_language(code, "uk") == expected


def test_pick_language_uses_the_configured_default() -> None:
    assert pick_language(None, "en") == "en"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("uk", "uk"),
        ("UA", "uk"),
        ("Українська", "uk"),
        ("en", "en"),
        ("English", "en"),
        ("англійська", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_parse_language(typed: str, expected: str | None) -> None:
    assert parse_language(typed) == expected


def test_menus_fit_telegram_limits() -> None:
    for lang in ("uk", "en"):
        t = Catalogs().get(lang)
        for command in help_view.command_menu(t) + help_view.editor_menu(t):
            assert 1 <= len(command.description) <= 256


def test_every_message_in_the_code_is_one_the_catalogs_see() -> None:
    """A gettext call Babel cannot extract (inside an f-string, say) would never be translated:
    every literal passed to gettext/ngettext in the code must be among the extracted ones."""
    import ast  # noqa: PLC0415 - only this test reads the code as a tree

    extracted = source_messages()
    unseen = []
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("gettext", "ngettext")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value not in extracted
            ):
                unseen.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.args[0].value!r}")
    assert unseen == []
