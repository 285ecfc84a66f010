"""Entry point for ``python -m scene_dsl``."""

import sys

from scene_dsl.cli import main

sys.exit(main())
