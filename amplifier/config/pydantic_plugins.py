"""pydantic's plugin search, switched off before the first model is built.

When pydantic builds its first model it reads the entry points of every installed package,
looking for plugins: ~35 ms at every start of every command, for plugins amplifier does not
use. ``PYDANTIC_DISABLE_PLUGINS`` is pydantic's own switch; an operator who sets it (to ``""``
to load them all) keeps that setting. Imported by the package first, before any model.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
