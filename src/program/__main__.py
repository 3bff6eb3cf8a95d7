"""``python -m program``: the same as the ``program`` command."""

import sys

from program.cli.main import main

sys.exit(main())
