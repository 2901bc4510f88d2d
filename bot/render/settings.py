"""Pure rendering of a chat's delivery settings: digest schedule, time zone, quiet hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.render import esc
from bot.render.arrival import next_digest_line


def schedule(
    t: Translator,
    lang: str,
    *,
    enabled: bool,
    times: Sequence[str],
    zone: str,
    weekdays_only: bool,
    upcoming: dt.datetime | None,
    now: dt.datetime,
) -> str:
    """The chat's digest schedule, the next digest, and how to change it."""
    if not enabled:
        lines = [t.gettext("Digests are off.")]
    else:
        days = t.gettext("on weekdays") if weekdays_only else t.gettext("every day")
        lines = [
            t.gettext("Digests: {times} ({zone}), {days}.").format(
                times=", ".join(times), zone=esc(zone), days=days
            )
        ]
        if upcoming is not None:
            lines.append(next_digest_line(t, lang, upcoming, now, ZoneInfo(zone)))
    lines += [
        "",
        t.gettext(
            "Change it: /schedule 08:00 20:00, /schedule weekdays, /schedule daily, "
            "/schedule off, /schedule on; the zone: /timezone"
        ),
    ]
    return "\n".join(lines)


def schedule_usage(t: Translator) -> str:
    return t.gettext(
        "Give one to six times as HH:MM, e.g. /schedule 08:00 20:00; or /schedule off, "
        "/schedule on, /schedule weekdays, /schedule daily."
    )


def timezone(t: Translator, zone: str, now: dt.datetime) -> str:
    local = now.astimezone(ZoneInfo(zone))
    return "\n".join(
        [
            t.gettext("Time zone: {zone} (now {time}).").format(
                zone=esc(zone), time=f"{local:%H:%M}"
            ),
            t.gettext("Change it: /timezone Europe/Kyiv"),
        ]
    )


def timezone_set(t: Translator, zone: str, now: dt.datetime) -> str:
    local = now.astimezone(ZoneInfo(zone))
    return t.gettext("✅ Time zone: {zone} (now {time}).").format(
        zone=esc(zone), time=f"{local:%H:%M}"
    )


def timezone_usage(t: Translator, typed: str) -> str:
    shown = esc(typed[:40])
    return t.gettext(
        "I don't know the time zone «{zone}». Examples: Europe/Kyiv, Europe/Warsaw, "
        "America/New_York, UTC."
    ).format(zone=shown)


def quiet(t: Translator, start: str | None, end: str | None) -> str:
    if not start or not end:
        state = t.gettext("Quiet hours are off: stories always come with sound.")
    else:
        state = t.gettext("Quiet hours: {start}–{end}; stories then come without sound.").format(
            start=start, end=end
        )
    return "\n".join([state, t.gettext("Change them: /quiet HH:MM–HH:MM, or /quiet off")])


def quiet_usage(t: Translator) -> str:
    return t.gettext("Give quiet hours as HH:MM–HH:MM, e.g. /quiet 23:00–07:00, or /quiet off.")


def no_digest(t: Translator) -> str:
    return t.gettext("Nothing new since the last digest. See /latest.")


def no_subscriptions(t: Translator) -> str:
    return t.gettext("This chat follows no sections yet: choose them with /sections.")
