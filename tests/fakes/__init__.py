"""Fakes for what cannot run here: Telegram (its Bot API server and its users)."""
