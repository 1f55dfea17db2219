from __future__ import annotations

import sys

from awsrun.cli import main

sys.exit(main())
