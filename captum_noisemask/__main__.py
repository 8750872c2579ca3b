"""``python -m captum_noisemask`` runs the command line."""

import sys

from .lab.cli import main

sys.exit(main())
