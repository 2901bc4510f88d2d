"""News out: the one path by which Visnyk sends to many chats, paced to Telegram's limits,
durable through the outbox, and sharing its limiter with the replies to commands."""
