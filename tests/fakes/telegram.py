"""A fake Telegram Bot API server on loopback, for the real PTB Application to talk HTTP to.

It keeps the state a bot can observe (chats, members, the bot's messages as users see them,
command menus), queues the updates that `people.py` makes as users, records every call, and
answers like Telegram when a request breaks the platform's rules (`rules.py`: HTML subset,
lengths, callback_data; here: unknown chats, blocked bots, edits that change nothing).

A test can also take Telegram down for a while (`outage`): every call answers 502, or 200 with
a proxy's page instead of the Bot API's JSON, or hangs — and a hung call still delivers its
message, as real Telegram may, so that a sender's repeats after a time-out are observable.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakes import rules, tg_html
from tests.fakes.flood import COUNTED, Flood
from tests.fakes.rules import ApiError, bad, member_json

PNG = b"\x89PNG\r\n\x1a\n"
PROXY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
MAX_CAPTION = 1024  # characters after entities

BOT_ID = 7000000001
JSON_FIELDS = {
    "reply_markup",
    "entities",
    "link_preview_options",
    "commands",
    "scope",
    "allowed_updates",
    "reply_parameters",
}
STRING_FIELDS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "inline_query_id",
    "next_offset",
    "url",
    "language_code",
    "secret_token",
}
# Telegram's rule for setWebhook's secret_token.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_RETRY = 0.2  # seconds before the fake posts an update its webhook refused again


@dataclass
class Call:
    """One request the bot made, and what the fake answered."""

    index: int
    method: str
    params: dict[str, Any]
    result: Any = None
    error: ApiError | None = None
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Outage:
    """A time in which every call but getUpdates misbehaves the same way (monotonic clock):
    `"502"` answers the Bot API's 502 Bad Gateway; `"garbled"` answers 200 with a proxy's HTML
    page; `"hang"` delivers the message but holds the answer until the outage ends (a caller
    that gives up first never learns it went through). The bot's long poll is left alone
    unless `updates` (a whole outage, as operators see one)."""

    kind: str
    start: float
    end: float
    updates: bool = False

    def covers(self, at: float) -> bool:
        return self.start <= at < self.end


@dataclass
class BotMessage:
    """A message the bot sent, as the chat's members see it now."""

    chat_id: int
    message_id: int
    text: str  # plain text, after HTML parsing
    html: str  # what the bot sent
    entities: list[dict[str, Any]]
    keyboard: list[list[dict[str, Any]]]
    date: float
    thread_id: int | None = None
    silent: bool = False
    deleted: bool = False
    edits: int = 0
    params: dict[str, Any] = field(default_factory=dict)

    def buttons(self) -> list[dict[str, Any]]:
        return [b for row in self.keyboard for b in row]

    def button(self, text_part: str) -> dict[str, Any]:
        found = [b for b in self.buttons() if text_part in b["text"]]
        if len(found) != 1:
            raise AssertionError(f"{len(found)} buttons with {text_part!r} in {self.buttons()}")
        return found[0]


class FakeTelegram:
    """The server, its state, and the actions of the test's users."""

    def __init__(self, token: str, username: str = "visnyk_test_bot") -> None:
        self.token = token
        self.bot = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Visnyk",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], str] = {}  # (chat, user) -> status; bot included
        self.blocked_by: set[int] = set()  # private chats whose user blocked the bot
        self.migrated: dict[int, int] = {}  # group id -> its supergroup's id
        self.messages: dict[tuple[int, int], BotMessage] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.inline_queries: dict[str, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._query_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._poller: asyncio.Future[None] | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.webhook = ""
        self.webhook_secret = ""
        self.webhook_settings: dict[str, Any] = {}  # allowed_updates, max_connections
        # What the bot's webhook answered to each post: (update_id, HTTP status).
        self.webhook_answers: list[tuple[int, int]] = []
        self._pusher: asyncio.Task[None] | None = None
        self.flood: Flood | None = None  # Telegram's flood limits, when a test turns them on
        # Paid messages the bot's Stars balance still pays for (None: no end); past it, a paid
        # send is refused as Telegram refuses it, and nothing is sent.
        self.paid_budget: int | None = None
        self.scripted: dict[int, list[ApiError]] = {}
        self.outages: list[Outage] = []
        self.pushed: dict[int, float] = {}  # update id -> when a test made it
        # A test's hooks, for crash tests that kill the bot at a precise moment (None: none):
        # `on_call` sees each call once answered, before the bot gets the answer; `on_handout`
        # sees the updates a getUpdates answer is about to hand out.
        self.on_call: Callable[[Call], None] | None = None
        self.on_handout: Callable[[list[dict[str, Any]]], None] | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/__stats", self._stats)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        return self.base_url

    async def stop(self) -> None:
        await self._stop_pushing()
        if self._poller and not self._poller.done():
            self._poller.set_result(None)
        if self._runner:
            await self._runner.cleanup()

    # ---- HTTP ------------------------------------------------------------------------------

    async def _stats(self, _request: web.Request) -> web.Response:
        """For benchmarks that run the fake in another process."""
        flood = self.flood
        sent = [c.at for c in self.calls if c.method == "sendMessage" and c.ok]
        return web.json_response(
            {
                "sent": len(sent),
                "span": (max(sent) - min(sent)) if len(sent) > 1 else 0.0,
                "rejected": flood.rejected if flood else 0,
                "ignored": flood.ignored if flood else 0,
                "max_in_second": flood.max_in_second if flood else 0,
            }
        )

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        if token != self.token:
            # Telegram answers 401 to a well-formed token it does not know, 404 to anything else.
            bot_id, colon, _ = token.partition(":")
            code = 401 if colon and bot_id.isdigit() else 404
            description = "Unauthorized" if code == 401 else "Not Found"
            return web.json_response(
                {"ok": False, "error_code": code, "description": description}, status=code
            )
        method = request.match_info["method"]
        params = await self._params(request)
        handler = getattr(self, "_api_" + method.lower(), None)
        call = Call(len(self.calls), method, params)
        outage = self._outage(call)
        if outage is not None and outage.kind == "502":
            call.error = ApiError(502, "Bad Gateway")
        elif outage is not None and outage.kind == "garbled":
            call.error = ApiError(200, "", raw=PROXY_PAGE)
        elif handler is None:
            call.error = ApiError(404, "Not Found: method not found")
        else:
            try:
                self._faults(method, params)
                call.result = await handler(params)
            except ApiError as e:
                call.error = e
        if self.on_call is not None:
            self.on_call(call)
        if method != "getUpdates":
            await self._record(call)
        if outage is not None and outage.kind == "hang":
            await asyncio.sleep(outage.end - time.monotonic())  # done, but nobody is told
        if call.error is not None and call.error.raw is not None:
            return web.Response(
                text=call.error.raw, status=call.error.code, content_type="text/html"
            )
        if call.error is not None:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": call.error.code,
                "description": call.error.description,
            }
            if call.error.parameters:
                body["parameters"] = call.error.parameters
            return web.json_response(body, status=call.error.code)
        return web.json_response({"ok": True, "result": call.result})

    def _faults(self, method: str, params: dict[str, Any]) -> None:
        """Scripted failures first, then the flood limits."""
        if method not in COUNTED:
            return
        try:
            chat_id = int(params.get("chat_id", 0))
        except (TypeError, ValueError):
            chat_id = 0
        script = self.scripted.get(chat_id) or self.scripted.get(0)
        if script:
            raise script.pop(0)
        paid = params.get("allow_paid_broadcast") in (True, "true", "True", 1, "1")
        if paid and self.paid_budget is not None:
            if self.paid_budget <= 0:
                raise ApiError(400, "Bad Request: BALANCE_TOO_LOW")
            self.paid_budget -= 1
        if self.flood is not None:
            wait = self.flood.check(chat_id, paid=paid)
            if wait is not None:
                raise ApiError(
                    429, f"Too Many Requests: retry after {int(wait)}", {"retry_after": int(wait)}
                )

    def outage(self, kind: str, seconds: float, *, updates: bool = False) -> Outage:
        """From now on, for `seconds`, every call (but getUpdates, unless `updates`) fails as
        `kind` says."""
        if kind not in ("502", "garbled", "hang"):
            raise ValueError(f"no such outage: {kind!r}")
        now = time.monotonic()
        self.outages.append(Outage(kind, now, now + seconds, updates))
        return self.outages[-1]

    def _outage(self, call: Call) -> Outage | None:
        polling = call.method == "getUpdates"
        return next(
            (o for o in self.outages if o.covers(call.at) and (o.updates or not polling)), None
        )

    def during(self, outage: Outage) -> list[Call]:
        """The calls that arrived while the outage lasted (getUpdates is not recorded)."""
        return [c for c in self.calls if outage.covers(c.at)]

    def script(self, *errors: ApiError, chat_id: int = 0) -> None:
        """The next sends (to `chat_id`, or to any chat for 0) fail with these errors."""
        self.scripted.setdefault(chat_id, []).extend(errors)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, bytes] = {}
        if request.content_type == "application/json":
            raw |= await request.json()
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, str):
                    raw[key] = value
                else:  # an uploaded file (multipart): its bytes
                    uploads[key] = value.file.read()
        params: dict[str, Any] = {}
        for key, value in raw.items():
            params[key] = value
            if isinstance(value, str) and key not in STRING_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    if key in JSON_FIELDS:
                        raise
        for key, data in uploads.items():
            params[key] = data
        return params

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # ---- updates ---------------------------------------------------------------------------

    async def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        self.pushed[update_id] = time.monotonic()
        async with self._changed:
            self._updates.append({"update_id": update_id, kind: payload})
            self._changed.notify_all()
        return update_id

    async def _api_getupdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if self._poller and not self._poller.done():
            # Telegram ends the older long poll when a new one arrives.
            self._poller.set_exception(
                ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            )
        poller: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._poller = poller
        offset = int(p.get("offset", 0))
        limit = int(p.get("limit", 100))
        deadline = time.monotonic() + float(p.get("timeout", 0))
        async with self._changed:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not poller.done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                waiter = asyncio.ensure_future(self._changed.wait())
                done, _ = await asyncio.wait(
                    {waiter, poller}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
                )
                if waiter not in done:
                    waiter.cancel()
                    # The condition's lock must be held again before leaving the block.
                    await asyncio.gather(waiter, return_exceptions=True)
            if poller.done() and poller.exception() is not None:
                raise poller.exception()  # type: ignore[misc]
            if self._poller is poller:
                self._poller = None
            poller.cancel()
            handed = self._updates[:limit]
            if handed and self.on_handout is not None:
                self.on_handout(handed)
            return handed

    # ---- the bot's own identity and menus --------------------------------------------------

    async def _api_getme(self, p: dict[str, Any]) -> dict[str, Any]:
        return self.bot

    async def _api_deletewebhook(self, p: dict[str, Any]) -> bool:
        self.webhook, self.webhook_secret, self.webhook_settings = "", "", {}
        await self._stop_pushing()
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setwebhook(self, p: dict[str, Any]) -> bool:
        url = str(p.get("url", ""))
        if not url:
            return await self._api_deletewebhook(p)
        parts = urlsplit(url)
        # Telegram posts to https only; the fake also to loopback over http (the bot under test).
        if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = str(p.get("secret_token", ""))
        if secret and not SECRET_TOKEN.fullmatch(secret):
            raise bad("secret token contains unallowed characters")
        connections = int(p.get("max_connections", 40))
        if not 1 <= connections <= 100:
            raise bad("bad webhook: max_connections must be between 1 and 100")
        self.webhook, self.webhook_secret = url, secret
        self.webhook_settings = {
            "max_connections": connections,
            "allowed_updates": p.get("allowed_updates"),
        }
        if p.get("drop_pending_updates"):
            self._updates.clear()
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_to_webhook(), name="fake-webhook")
        return True

    async def _api_getwebhookinfo(self, p: dict[str, Any]) -> dict[str, Any]:
        settings = {k: v for k, v in self.webhook_settings.items() if v is not None}
        return {
            "url": self.webhook,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            **settings,
        }

    async def post_to_webhook(
        self, update: dict[str, Any] | bytes, *, secret: str | None = None
    ) -> int:
        """POST `update` to the bot's webhook as Telegram would, with `secret` in the header
        (None: the secret the bot set); the HTTP status it answered."""
        secret = self.webhook_secret if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        body = io.BytesIO(update if isinstance(update, bytes) else json.dumps(update).encode())
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook, data=body, headers=headers) as answer,
        ):
            return answer.status

    async def _push_to_webhook(self) -> None:
        """While a webhook is set: post each update to it in order, as Telegram does, and post
        again (after a pause) any it did not answer 2xx."""
        while self.webhook:
            async with self._changed:
                await self._changed.wait_for(lambda: bool(self._updates) or not self.webhook)
                if not self.webhook:
                    return
                update = self._updates[0]
            try:
                status = await self.post_to_webhook(update)
            except aiohttp.ClientError:
                status = 0  # the bot's server did not answer at all
            self.webhook_answers.append((update["update_id"], status))
            if 200 <= status < 300:
                async with self._changed:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
            else:
                await asyncio.sleep(WEBHOOK_RETRY)

    async def _stop_pushing(self) -> None:
        pusher, self._pusher = self._pusher, None
        if pusher is not None and pusher is not asyncio.current_task():
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher

    async def _api_setmycommands(self, p: dict[str, Any]) -> bool:
        commands = rules.commands(p)
        self.commands[self._scope_key(p)] = commands
        return True

    async def _api_getmycommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(self._scope_key(p), [])

    async def _api_deletemycommands(self, p: dict[str, Any]) -> bool:
        self.commands.pop(self._scope_key(p), None)
        return True

    @staticmethod
    def _scope_key(p: dict[str, Any]) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        name = scope["type"] + (f":{scope['chat_id']}" if "chat_id" in scope else "")
        return name, p.get("language_code", "")

    # ---- chats -----------------------------------------------------------------------------

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if isinstance(chat_id, str) and chat_id.startswith("@"):  # a public chat's username
            for chat in self.chats.values():
                if chat.get("username", "").lower() == chat_id[1:].lower():
                    return chat
            raise bad("chat not found")
        try:
            chat = self.chats[int(chat_id)]
        except (KeyError, ValueError, TypeError):
            raise bad("chat not found") from None
        return chat

    def _check_can_send(self, chat: dict[str, Any]) -> None:
        if chat["id"] in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrated[chat["id"]]},
            )
        if chat["type"] == "private":
            if chat["id"] in self.blocked_by:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            return
        if self.members.get((chat["id"], BOT_ID), "left") in ("left", "kicked"):
            kind = {"group": "group chat", "supergroup": "supergroup chat"}.get(
                chat["type"], "channel chat"
            )
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")

    async def _api_getchat(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._chat(p.get("chat_id")) | {"accent_color_id": 0, "max_reaction_count": 11}

    async def _api_getchatmember(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        user_id = int(p["user_id"])
        user = self.bot if user_id == BOT_ID else self.users.get(user_id)
        if user is None:
            raise bad("PARTICIPANT_ID_INVALID")
        return member_json(user, self.members.get((chat["id"], user_id), "left"))

    # ---- messages --------------------------------------------------------------------------

    def _message_json(self, m: BotMessage) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": m.message_id,
            "date": int(m.date),
            "chat": self.chats[m.chat_id],
            "from": self.bot,
            "text": m.text,
        }
        if m.entities:
            out["entities"] = m.entities
        if m.keyboard:
            out["reply_markup"] = {"inline_keyboard": m.keyboard}
        if m.thread_id is not None:
            out |= {"message_thread_id": m.thread_id, "is_topic_message": True}
        if m.edits:
            out["edit_date"] = int(time.time())
        return out

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    async def _api_sendmessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p.get("chat_id"))
        self._check_can_send(chat)
        text, entities = rules.message_text(p)
        keyboard = rules.keyboard(p)
        rules.link_preview(p)
        m = BotMessage(
            chat_id=chat["id"],
            message_id=self._next_message_id(chat["id"]),
            text=text,
            html=p["text"],
            entities=entities,
            keyboard=keyboard,
            date=time.time(),
            thread_id=p.get("message_thread_id"),
            silent=bool(p.get("disable_notification")),
            params=p,
        )
        self.messages[(m.chat_id, m.message_id)] = m
        return self._message_json(m)

    async def _api_sendphoto(self, p: dict[str, Any]) -> dict[str, Any]:
        """A photo uploaded with the request (PNG or JPEG), with an optional HTML caption."""
        chat = self._chat(p.get("chat_id"))
        self._check_can_send(chat)
        photo = p.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = p.get(photo.removeprefix("attach://"))
        if not isinstance(photo, bytes) or not photo.startswith((PNG, b"\xff\xd8\xff")):
            raise bad("IMAGE_PROCESS_FAILED")
        caption, entities = ("", [])
        if p.get("caption"):
            caption, entities = rules.message_text({"text": p["caption"], **p})
            if tg_html.utf16_len(caption) > MAX_CAPTION:
                raise bad("message caption is too long")
        m = BotMessage(
            chat_id=chat["id"], message_id=self._next_message_id(chat["id"]), text=caption,
            html=str(p.get("caption", "")), entities=entities, keyboard=rules.keyboard(p),
            date=time.time(), params=p | {"photo": photo},
        )  # fmt: skip
        self.messages[(m.chat_id, m.message_id)] = m
        return self._message_json(m) | {"photo": [{"file_id": f"photo{m.message_id}",
                                                   "file_unique_id": f"p{m.message_id}",
                                                   "width": 1, "height": 1}]}  # fmt: skip

    def _own_message(self, p: dict[str, Any], missing: str) -> BotMessage:
        chat = self._chat(p.get("chat_id"))
        m = self.messages.get((chat["id"], int(p.get("message_id", 0))))
        if m is None or m.deleted:
            raise bad(missing)
        return m

    async def _api_editmessagetext(self, p: dict[str, Any]) -> dict[str, Any]:
        m = self._own_message(p, "message to edit not found")
        text, entities = rules.message_text(p)
        keyboard = rules.keyboard(p)
        if (text, entities, keyboard) == (m.text, m.entities, m.keyboard):
            raise bad(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        m.text, m.html, m.entities, m.keyboard = text, p["text"], entities, keyboard
        m.edits += 1
        return self._message_json(m)

    async def _api_editmessagereplymarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        m = self._own_message(p, "message to edit not found")
        keyboard = rules.keyboard(p)
        if keyboard == m.keyboard:
            raise bad(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        m.keyboard = keyboard
        m.edits += 1
        return self._message_json(m)

    async def _api_deletemessage(self, p: dict[str, Any]) -> bool:
        m = self._own_message(p, "message to delete not found")
        if time.time() - m.date > 48 * 3600:
            raise bad("message can't be deleted")
        m.deleted = True
        return True

    async def _api_answerinlinequery(self, p: dict[str, Any]) -> bool:
        query = self.inline_queries.get(str(p.get("inline_query_id")))
        if query is None or query["answered"]:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        query["results"] = rules.inline_results(p)
        query["next_offset"] = p.get("next_offset", "")
        query["answered"] = True
        return True

    async def _api_answercallbackquery(self, p: dict[str, Any]) -> bool:
        query = self.callback_queries.get(str(p.get("callback_query_id")))
        if query is None or query["answered"]:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        text = p.get("text") or ""
        if len(text) > rules.MAX_CALLBACK_ANSWER:
            raise bad("MESSAGE_TOO_LONG")
        query["answered"] = True
        query["answer"] = p
        return True

    # ---- waiting ---------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[Call], bool], *, after: int = 0, within: float = 5.0
    ) -> Call:
        """The first call at index ≥ `after` that matches, waiting for it up to `within` s."""

        async def find() -> Call:
            async with self._changed:
                while True:
                    for call in self.calls[after:]:
                        if predicate(call):
                            return call
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(find(), within)
        except TimeoutError:
            seen = [
                (c.method, c.params.get("chat_id"), c.error and c.error.description)
                for c in self.calls[after:]
            ]
            raise AssertionError(f"no matching call within {within}s; calls: {seen}") from None
