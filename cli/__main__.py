"""`python -m cli ...` (and `torchrun -m cli ...`): the same as `emotrace ...`."""

import sys

from cli.main import main

sys.exit(main())
