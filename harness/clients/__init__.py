"""Reference clients of the Vexa API that pass every client rule of ``RULES.md``.

Three faces of one policy (:mod:`harness.clients.policy`): a sync httpx client
(:class:`~harness.clients.sync_client.VexaClient`), an asyncio one
(:class:`~harness.clients.async_client.AsyncVexaClient`), and a command-protocol script,
``python -m harness.clients.command_client <operation> <args-json>``. Read them as the
behaviour the harness asks of your own client: reconcile before re-sending ``POST /bots``,
full-jitter exponential backoff, ``Retry-After`` in both forms, bounded attempts and time, a
timeout on every request, and no retry of 400/401/403/404/409/422.
"""
