"""Partner feeds (DESIGN §6): public events built from the log per partner, filtered by
consent when disclosed, under per-partner pseudonyms, over webhooks, SSE, GraphQL
subscriptions and a pull API, with every disclosure logged.

Imports ``domain`` and ``store``; the API and CLI import this package, never the reverse.
"""
