"""Deliberately broken Vexa clients: each breaks named rules of RULES.md, and only those.

Every module is both a Python adapter (``ADAPTER``, for in-process runs) and a command-protocol
client (``python tests/broken_clients/<name>.py <operation> <args-json>``). ``BREAKS`` names
the rules the conformance job must fail it on; it must pass (or skip) every other rule.
Most are the reference client with one part of its policy turned wrong, so each breaks one
thing; ``urllib3_hidden_retry`` is its own code on ``requests``.
"""
