"""``python -m captum_noisemask``: the library's command line (``explain-dataset``, ``report``)."""

import sys

from .cli import main

sys.exit(main())
