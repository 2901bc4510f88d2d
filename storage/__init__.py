"""Visnyk's storage: the database behind async functions by topic that return frozen dataclasses.

Callers open a `Database` (see `storage.db`) and pass it to the topic modules: `chats`,
`sections`, `subscriptions`, `feeds`, `articles` (with search), `outbox` (items and their
deliveries), `broadcasts` (editors' flashes), `editors` (editors, the audit log, strangers),
`stats`. The types they take and return are in `storage.types` and `storage.codes`. A block
opened with `db.transaction()` is joined by every storage call of the same task, so that one
command is one transaction. Nothing here imports `bot` or `telegram`.
"""
