"""``python -m dslkit.train``: see :mod:`dslkit.train.cli`."""

import sys

from dslkit.train.cli import main

sys.exit(main())
