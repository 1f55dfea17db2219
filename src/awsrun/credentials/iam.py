"""The IAM calls of `awsrun rotate`: a new access key for the keys' own user, and the old
one deleted. Bounded as STS calls are (the same client settings and overall deadline);
each failure is one line that names the call, never a secret."""

from __future__ import annotations

from typing import Any

from awsrun.credentials.keys import Credentials
from awsrun.deadline import call_within
from awsrun.errors import StsError


class Iam:
    def __init__(self, signer: Credentials, *, endpoint: str | None) -> None:
        import botocore.session

        from awsrun.credentials.sts import CLIENT_CONFIG

        session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        # IAM is global: its calls are signed for us-east-1 in the commercial partition.
        self._client: Any = session.create_client(
            "iam",
            region_name="us-east-1",
            endpoint_url=endpoint,
            aws_access_key_id=signer.access_key_id,
            aws_secret_access_key=signer.secret_access_key,
            aws_session_token=signer.session_token,
            config=CLIENT_CONFIG,
        )

    def create_access_key(self, user: str) -> Credentials:
        answer = self._call(
            "CreateAccessKey", lambda: self._client.create_access_key(UserName=user)
        )
        key = answer["AccessKey"]
        return Credentials(str(key["AccessKeyId"]), str(key["SecretAccessKey"]))

    def delete_access_key(self, user: str, access_key_id: str) -> None:
        self._call(
            "DeleteAccessKey",
            lambda: self._client.delete_access_key(UserName=user, AccessKeyId=access_key_id),
        )

    def _call(self, action: str, work: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        from awsrun.credentials.sts import CALL_DEADLINE_SECONDS
        from awsrun.deadline import DeadlinePassed

        try:
            return call_within(CALL_DEADLINE_SECONDS, work)
        except DeadlinePassed:
            raise StsError(f"IAM {action} did not answer within {CALL_DEADLINE_SECONDS}s") from None
        except ClientError as error:
            details = error.response.get("Error", {})
            raise StsError(
                f"IAM {action} failed: {details.get('Code', 'Error')}: "
                f"{details.get('Message', '').strip()}"
            ) from None
        except BotoCoreError as error:
            raise StsError(f"IAM {action} failed: {type(error).__name__}") from None


def user_of(arn: str) -> str | None:
    """The IAM user name in a caller ARN (`arn:aws:iam::1:user/path/alice` gives alice), or
    None for any other kind of caller (the account's root, a role session)."""
    resource = arn.split(":", 5)[-1]
    return resource.rsplit("/", 1)[-1] if resource.startswith("user/") else None


__all__ = ["Iam", "user_of"]
