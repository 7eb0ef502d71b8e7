"""The workflow and rules engine: pure functions over definitions and records.

Nothing here touches Flask, the database or ``xrm.core``.
"""
