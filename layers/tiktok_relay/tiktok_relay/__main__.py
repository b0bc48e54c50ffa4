"""`python -m tiktok_relay` is the `tiktok-relay` command."""

import sys

from tiktok_relay.cli import main

sys.exit(main())
