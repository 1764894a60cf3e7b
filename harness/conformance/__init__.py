"""Conformance: scenarios run a client against the fake; rules judge what the journal shows."""
