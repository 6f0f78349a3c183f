"""Facts computed from parsed rows (not file readers): ESP events, ESP tracking
with its value scales, ccmsetup runs, task-sequence runs and steps.

Each module exposes ``TABLES`` and ``derive(rows) -> {table: rows}``; parsers
name the derivers of their rows (`espfleet.parsers.base.Derivation`) and
`espfleet.parsers.DERIVERS` maps the names to the modules.
"""
