"""``python -m tokenizer``: see :mod:`tokenizer.cli`."""

import sys

from tokenizer.cli import main

sys.exit(main())
