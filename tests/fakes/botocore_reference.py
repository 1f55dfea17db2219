"""What botocore makes of a profile: the reference the differential tests hold awsrun to.

Run as a program with the environment under test: `botocore_reference.py [PROFILE]`. Prints
one JSON object: the keys and the region, or the type of the error botocore raised.
"""

from __future__ import annotations

import json
import sys

import botocore.session


def resolve(profile: str | None) -> dict[str, object]:
    session = botocore.session.Session(profile=profile)
    try:
        region = session.get_config_variable("region")
        found = session.get_credentials()
        if found is None:
            return {"error": "NoCredentials"}
        frozen = found.get_frozen_credentials()
    except Exception as error:  # any failure is an answer: botocore refused the setup
        return {"error": type(error).__name__, "message": str(error)}
    return {
        "access_key_id": frozen.access_key,
        "secret_access_key": frozen.secret_key,
        "session_token": frozen.token,
        "region": region,
    }


if __name__ == "__main__":
    print(json.dumps(resolve(sys.argv[1] if len(sys.argv) > 1 else None)))
