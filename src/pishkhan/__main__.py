import sys

from pishkhan.cli import main

sys.exit(main())
