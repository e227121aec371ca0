"""`python -m tray` runs the porttray command line."""

import sys

from tray.cli import main

sys.exit(main())
