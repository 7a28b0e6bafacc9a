import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pendar.support import customer, openssl_keys, other_customer, settings  # noqa: F401
