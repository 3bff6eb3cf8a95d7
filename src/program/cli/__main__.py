"""``python -m program.cli``: the same as the ``program`` command."""

import sys

from program.cli.common import main

sys.exit(main())
