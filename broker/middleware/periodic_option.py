"""Accept periodiq's `periodic=` actor option without periodiq's habit of dropping late messages."""

from __future__ import annotations

import dramatiq


class PeriodicOption(dramatiq.Middleware):
    """Declares the `periodic` actor option.

    periodiq's own middleware acks and drops any periodic message that starts more than 30 s after
    its slot, which loses every retry and every job behind a backlog. This one never drops anything:
    a late periodic job still runs, and its slot time travels in the `scheduled_at` option.
    """

    @property
    def actor_options(self) -> set[str]:
        return {"periodic"}
