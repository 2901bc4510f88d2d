"""A realistic Ukrainian news feed for benchmarks: 50 items, descriptions of several sentences
with the abbreviations and initials that trip naive sentence splitters."""

from __future__ import annotations

import datetime as dt
import random
from email.utils import format_datetime
from html import escape

TOPICS = [
    ("Світ", "Президент В. Зеленський провів переговори з прем'єр-міністром Польщі"),
    ("Економіка", "НБУ зберіг облікову ставку на рівні 13,5% річних"),
    ("Україна", "У Києві на вул. Хрещатик відкрили оновлений сквер"),
    ("Війна", "Сили оборони відбили 12 атак на Покровському напрямку"),
    ("Культура", "Фільм режисерки О. Петренко отримав приз у Берліні"),
]
SENTENCES = [
    "Про це повідомили в Офісі Президента у понеділок.",
    "Згідно зі ст. 5 ч. 2 закону, рішення набуде чинності з 1 січня 2027 р.",
    "Обсяг фінансування становить 1,5 млн грн., з них 300 тис. грн. — з місцевого бюджету.",
    "Раніше т. зв. «зелений коридор» працював лише вночі.",
    "За словами д-ра М. Коваленка, це рекордний показник за 2020–2025 рр.",
    "Детальніше про ситуацію розповіли на брифінгу в Мінфіні.",
    "Експерти очікують, що ціни стабілізуються до весни.",
    "Нагадаємо, у жовтні інфляція сповільнилася до 7,1%.",
]


def feed(items: int = 50, *, seed: int = 7, prefix: str = "https://news.example.ua") -> bytes:
    rng = random.Random(seed)
    start = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    entries = []
    for i in range(items):
        category, title = TOPICS[i % len(TOPICS)]
        text = " ".join(rng.sample(SENTENCES, rng.randint(2, 5)))
        when = format_datetime(start - dt.timedelta(minutes=17 * i))
        entries.append(
            f"<item><title>{escape(title)} ({i})</title>"
            f"<link>{prefix}/news/{i}.html?utm_source=rss&amp;utm_medium=feed</link>"
            f'<guid isPermaLink="false">{prefix}#{i}</guid>'
            f"<category>{category}</category><pubDate>{when}</pubDate>"
            f"<description><![CDATA[<p>{text}</p><p>Читати далі</p>]]></description>"
            f'<enclosure url="https://img.example.ua/{i}.jpg" type="image/jpeg" length="1"/>'
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Новини</title><link>https://news.example.ua/</link>"
        "<description>Усі новини</description>" + "".join(entries) + "</channel></rss>"
    ).encode()
