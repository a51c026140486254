"""Normalisation: small ordered steps that turn what adapters emit into typed, comparable values.

Pure functions, no database: :mod:`.dates` (when), :mod:`.prices` (offers, availability, status),
:mod:`.titles` (display and matching keys), :mod:`.categories` and :mod:`.venues` (vocabularies
kept as data in ``aggregator/data``), and :mod:`.pipeline`, which runs the steps in order.
"""
