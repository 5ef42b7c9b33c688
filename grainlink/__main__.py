import sys

from grainlink.cli import main

sys.exit(main())
