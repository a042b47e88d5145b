"""Forecast: what becomes of each slot, decided once for the worker and for every prediction.

``decide_slot`` (slot.py) is the worker's per-slot decision, plan -> render -> guard plus
missed, paused and skipped, over a read-only ``StateView`` (view.py); the worker acts on its
``SlotDecision`` (record, claim, deliver) and ``predict`` (predictions.py) chains it slot after
slot over the stored state with its own predictions laid over it, so ``amplifier preview``
and the next ``run`` agree by construction. Dry runs (rehearsals) read and keep a state of
their own beside the live one (view.py). Nothing here writes to the store or sends anything.
"""

from __future__ import annotations

from amplifier.forecast.predictions import (
    UNFORESEEABLE,
    AccountForecast,
    Forecast,
    SlotForecast,
    first_run,
    predict,
    start_scope,
    window_start,
)
from amplifier.forecast.slot import SlotDecision, decide_slot
from amplifier.forecast.view import (
    Pause,
    StateView,
    StoreView,
    Wait,
    pause_reason,
    rehearsal_key,
    rehearsals,
    slot_key,
)

__all__ = [
    "UNFORESEEABLE",
    "AccountForecast",
    "Forecast",
    "Pause",
    "SlotDecision",
    "SlotForecast",
    "StateView",
    "StoreView",
    "Wait",
    "decide_slot",
    "first_run",
    "pause_reason",
    "predict",
    "rehearsal_key",
    "rehearsals",
    "slot_key",
    "start_scope",
    "window_start",
]
