"""``python -m hogar_nb`` is the ``hogar`` command."""

import sys

from .cli import main

sys.exit(main())
