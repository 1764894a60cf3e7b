"""The internals behind :mod:`harness.strategies` and :mod:`harness.stateful`.

Nothing here is public: import from those two modules. One job per module —
``operations`` (the protocol's requests as fault targets), ``faults`` (fault values, schedules,
rules and plans), ``requests`` (valid and invalid ``POST /bots`` bodies), ``responses``
(schema-valid but unusual answers from api.v1), ``webhooks`` (noisy delivery streams),
``calls`` (one client call on the fake, on virtual time, as runs the rules judge), ``facts``
(what a call met, in the words the rules read) and ``program`` (a failure as a program).
"""
