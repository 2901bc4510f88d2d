"""`python -m bot` is the `visnyk` command."""

import sys

from bot.cli import main

sys.exit(main())
