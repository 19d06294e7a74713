"""The bidding package's worker tick, under the name the composition root registers it by.

TODO(merge): ``market/app.py`` registers ``bidding.timeline.tick`` directly; then delete this
module. The services themselves live in :mod:`bidding.purchases`, :mod:`bidding.timeline`,
:mod:`bidding.clarifications` and :mod:`bidding.queries`.
"""

from __future__ import annotations

from bidding.timeline import tick

__all__ = ["tick"]
