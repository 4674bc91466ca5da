"""Print the api's OpenAPI document (for the SPA's generated types): python scripts/export_openapi.py [out]."""

import json
import os
import sys

os.environ.setdefault("BPMLINK_SECRET_KEY", "openapi-export-only-not-a-real-key-000000")

from bpmlink_api.app import create_app

document = json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"
if len(sys.argv) > 1:
    with open(sys.argv[1], "w", encoding="utf-8") as fh:
        fh.write(document)
else:
    sys.stdout.write(document)
