"""A customer-managed KMS key with rotation on, an alias and an explicit key policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from components import policy_documents
from components.policy_documents import Statement

ROTATION_PERIOD_DAYS = 365
DELETION_WINDOW_DAYS = 30


@dataclass
class EncryptionKeyArgs:
    description: str
    account_id: str
    alias: str
    tags: dict[str, str]
    # Grants to AWS services, beyond the account's own administration of the key.
    service_statements: Sequence[Statement] = field(default_factory=list)


class EncryptionKey(pulumi.ComponentResource):
    key: aws.kms.Key
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: EncryptionKeyArgs, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__("trialimaging:security:EncryptionKey", name, None, opts)

        statements = [policy_documents.key_administration(args.account_id), *args.service_statements]
        self.key = aws.kms.Key(
            name,
            description=args.description,
            enable_key_rotation=True,
            rotation_period_in_days=ROTATION_PERIOD_DAYS,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=policy_documents.document(statements),
            tags=args.tags,
            # Losing this key makes every object encrypted under it unreadable (REC-04).
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias}",
            target_key_id=self.key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.key.arn
        self.register_outputs({"arn": self.arn})
