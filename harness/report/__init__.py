"""The HTML report: one self-contained page of verdicts and per-run timelines.

    from harness.report import render_html
    page = render_html(verdicts, runs, title="vexa-harness conform: my-client")

Pure: a function from verdicts and runs to a string. No network, no CDN: the CSS, the script
and every timeline (inline SVG, drawn here in Python) travel inside the page, so a CI
artifact opens anywhere, and the page stays readable with scripts off (passing runs are
collapsed ``<details>``; the script only adds filters and opens the run a link points to).

* :mod:`.views` — which run each piece of evidence points at, run statuses, plain-words
  descriptions of faults and plans;
* :mod:`.svg` — one run's timeline on the harness-clock axis;
* :mod:`.page` — the page itself (:func:`render_html`);
* :mod:`.pytest_html` — ``pytest --vexa-html PATH``: a report of the journals of the tests
  that used the fake.
"""

from __future__ import annotations

from harness.report.page import render_html

__all__ = ["render_html"]
