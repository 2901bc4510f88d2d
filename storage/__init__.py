"""Visnyk's storage: the database behind async functions by topic that return frozen dataclasses.

Callers open a `Database` (see `storage.db`) and pass it to the topic modules
(`storage.chats`, `storage.sections`, `storage.subscriptions`). Nothing here imports `bot` or
`telegram`.
"""
