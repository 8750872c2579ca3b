"""``python -m captum_noisemask_lab`` runs the lab's command line."""

import sys

from .cli import main

sys.exit(main())
