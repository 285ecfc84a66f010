"""``python -m dslkit.tokenizer``: see :mod:`dslkit.tokenizer.cli`."""

import sys

from dslkit.tokenizer.cli import main

sys.exit(main())
