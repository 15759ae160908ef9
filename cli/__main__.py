"""`python -m emotrace.cli ...` (and `torchrun -m emotrace.cli ...`): the same as `emotrace ...`."""

import sys

from emotrace.cli.main import main

sys.exit(main())
