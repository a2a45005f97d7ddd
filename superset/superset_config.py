"""Superset configuration for `make bi` (SUPERSET_CONFIG_PATH points here).

Everything machine-specific lives under SUPERSET_HOME (default data/superset,
gitignored): the metadata store and the secret key generated at install
(superset/bootstrap.py), unless SUPERSET_SECRET_KEY is set.
"""

import os
from pathlib import Path

SUPERSET_HOME = Path(os.environ.get("SUPERSET_HOME") or Path(__file__).resolve().parent.parent / "data" / "superset")

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY", "").strip()
if not SECRET_KEY:
    _key_file = SUPERSET_HOME / "secret_key"
    if not _key_file.is_file():
        raise RuntimeError(f"{_key_file} does not exist: run `make bi` (it generates the key) or set SUPERSET_SECRET_KEY.")
    SECRET_KEY = _key_file.read_text().strip()

SQLALCHEMY_DATABASE_URI = f"sqlite:///{SUPERSET_HOME / 'superset.db'}"

# Live data: no result cache, so a chart shows the published file as it is now.
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
CACHE_DEFAULT_TIMEOUT = 0

# Offline, single user on 127.0.0.1: no thumbnails or alerts workers, no
# telemetry, no external map tiles.
FEATURE_FLAGS = {"THUMBNAILS": False, "ALERT_REPORTS": False, "ENABLE_TEMPLATE_PROCESSING": False}
SCARF_ANALYTICS = False
TALISMAN_ENABLED = False
RATELIMIT_STORAGE_URI = "memory://"
ROW_LIMIT = 50000
SQLLAB_CTAS_NO_LIMIT = False
FEATURE_FLAGS["DASHBOARD_VIRTUALIZATION"] = False
