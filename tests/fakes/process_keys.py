"""A credential_process for the differential tests: long-term keys the recording STS knows."""

import json

from recordingsts import secret_for

print(
    json.dumps({"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": secret_for("AKIAPROC")})
)
