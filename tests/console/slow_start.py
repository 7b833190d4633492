"""An impl whose module takes seconds to import, so that a test can kill ``hogar serve``
during its start-up."""

from __future__ import annotations

import time

time.sleep(8)


def same(x):
    return x
