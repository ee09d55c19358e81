"""``python -m potran.cli``: the same as the ``potran`` command."""
import sys

from potran.cli import main

sys.exit(main())
