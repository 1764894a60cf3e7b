"""Every router the fake serves, in matching order: the one list to extend with a feature.

Control routes come first so ``/_harness/...`` can never be shadowed by a Vexa template.
"""

from __future__ import annotations

from harness.web.endpoints import Endpoint
from harness.web.router import Router

__all__ = ["default_routers"]


def default_routers() -> tuple[Router[Endpoint], ...]:
    from harness.web.admin_routes import ADMIN_ROUTER
    from harness.web.control import CONTROL_ROUTER
    from harness.web.interactive_routes import INTERACTIVE_ROUTER
    from harness.web.meta_routes import META_ROUTER
    from harness.web.recording_routes import RECORDING_ROUTER
    from harness.web.share_routes import SHARE_ROUTER
    from harness.web.vexa_routes import ROUTER
    from harness.web.webhook_routes import WEBHOOK_ROUTER

    return (
        CONTROL_ROUTER,
        WEBHOOK_ROUTER,
        META_ROUTER,
        ROUTER,
        RECORDING_ROUTER,
        SHARE_ROUTER,
        INTERACTIVE_ROUTER,
        ADMIN_ROUTER,
    )
