"""Events other capabilities subscribe to (badges award on path_completed).

Receivers run inside the sending request's transaction, so a completion and whatever it
triggers commit or fail together.
"""

from __future__ import annotations

from blinker import Namespace

campus_signals = Namespace()
module_completed = campus_signals.signal("module-completed")
path_completed = campus_signals.signal("path-completed")
