"""Pulumi mocks that stand in for the AWS provider and the engine during an offline plan.

`new_resource` echoes a resource's inputs and adds the computed outputs a program typically
consumes (`id`, `arn`, `name`, `bucket`, `url`, `keyId`, ...), so nothing the program reads turns
into an unknown that a real deployment would know. Every value is derived from the resource's
type, name, region and account: the same program gives the same report on every run.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from compliance.wire import is_secret, provider_urn

DEFAULT_ACCOUNT = "123456789012"
# Used in ARNs when neither the resource, its provider nor `aws:region` names a region.
UNSET_REGION = "region-unset"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"

_UUID_NAMESPACE = uuid.UUID("6f1c3c1e-6a4f-4d59-9a53-0c2b9d1f7a10")

# Services whose resources have no region (their ARNs leave the region field empty).
_GLOBAL_MODULES = frozenset({"iam", "organizations", "route53", "cloudfront", "globalaccelerator", "waf"})

# ARN shapes for the types the program uses; others fall back to `<service>:<kebab-type>/<name>`.
# Fields: partition, region, account, name (physical name), id, bucket, key_id, path.
_ARN_FORMATS = {
    "aws:s3/bucket:Bucket": "arn:{partition}:s3:::{bucket}",
    "aws:s3/bucketV2:BucketV2": "arn:{partition}:s3:::{bucket}",
    "aws:kms/key:Key": "arn:{partition}:kms:{region}:{account}:key/{key_id}",
    "aws:kms/replicaKey:ReplicaKey": "arn:{partition}:kms:{region}:{account}:key/{key_id}",
    "aws:kms/alias:Alias": "arn:{partition}:kms:{region}:{account}:{name}",
    "aws:sqs/queue:Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "aws:sns/topic:Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "aws:lambda/function:Function": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "aws:iam/role:Role": "arn:{partition}:iam::{account}:role{path}{name}",
    "aws:iam/policy:Policy": "arn:{partition}:iam::{account}:policy{path}{name}",
    "aws:iam/user:User": "arn:{partition}:iam::{account}:user{path}{name}",
    "aws:iam/instanceProfile:InstanceProfile": "arn:{partition}:iam::{account}:instance-profile{path}{name}",
    "aws:iam/samlProvider:SamlProvider": "arn:{partition}:iam::{account}:saml-provider/{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}",
    "aws:cloudtrail/trail:Trail": "arn:{partition}:cloudtrail:{region}:{account}:trail/{name}",
    "aws:secretsmanager/secret:Secret": "arn:{partition}:secretsmanager:{region}:{account}:secret:{name}",
    "aws:appstream/fleet:Fleet": "arn:{partition}:appstream:{region}:{account}:fleet/{name}",
    "aws:appstream/stack:Stack": "arn:{partition}:appstream:{region}:{account}:stack/{name}",
    "aws:appstream/imageBuilder:ImageBuilder": "arn:{partition}:appstream:{region}:{account}:image-builder/{name}",
    "aws:fsx/windowsFileSystem:WindowsFileSystem": "arn:{partition}:fsx:{region}:{account}:file-system/{id}",
    "aws:cloudwatch/eventRule:EventRule": "arn:{partition}:events:{region}:{account}:rule/{name}",
    "aws:dynamodb/table:Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
}

# Types whose physical name is the `name` input (autonamed when absent), exposed as output `name`.
_NAMED_TYPES = frozenset(
    {
        "aws:sqs/queue:Queue",
        "aws:sns/topic:Topic",
        "aws:lambda/function:Function",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/user:User",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:iam/samlProvider:SamlProvider",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudtrail/trail:Trail",
        "aws:secretsmanager/secret:Secret",
        "aws:appstream/fleet:Fleet",
        "aws:appstream/stack:Stack",
        "aws:appstream/imageBuilder:ImageBuilder",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:dynamodb/table:Table",
        "aws:kms/alias:Alias",
        "aws:ec2/securityGroup:SecurityGroup",
    }
)


@dataclass(frozen=True)
class StackReferenceOutputs:
    """What a StackReference read returns: the referenced stack's exports, wire-encoded."""

    outputs: dict[str, Any]
    secret_output_names: tuple[str, ...] = ()


StackReferenceResolver = Callable[[str], "StackReferenceOutputs | None"]


def _short_hash(*parts: str, length: int = 7) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def _plain_string(value: Any) -> str | None:
    """A known, non-empty string, unwrapping a secret; None for unknowns and other values."""
    if is_secret(value):
        value = value.get("value")
    if isinstance(value, str) and value and not isinstance(value, Unknown):
        return value
    return None


def _kebab(type_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", type_name).lower()


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class PlanMocks(Mocks):
    """Mocks for one stack's offline plan.

    `default_region` is the stack's `aws:region`; `default_account` the first entry of
    `aws:allowedAccountIds`. Providers registered during the run are remembered (by URN, filled in
    by the capturing monitor) so a resource's region and account follow its provider.
    """

    def __init__(
        self,
        *,
        project: str,
        stack: str,
        default_region: str | None,
        default_account: str | None,
        resolve_stack_reference: StackReferenceResolver | None = None,
    ) -> None:
        self.project = project
        self.stack = stack
        self.default_region = default_region
        self.default_account = default_account or DEFAULT_ACCOUNT
        self._resolve_stack_reference = resolve_stack_reference
        self._provider_inputs: dict[str, Mapping[str, Any]] = {}
        self._lock = threading.Lock()

    # -- providers ---------------------------------------------------------------------------
    def remember_provider(self, urn: str, inputs: Mapping[str, Any]) -> None:
        with self._lock:
            self._provider_inputs[urn] = inputs

    def _provider(self, provider_ref: str | None) -> Mapping[str, Any]:
        if not provider_ref:
            return {}
        with self._lock:
            return self._provider_inputs.get(provider_urn(provider_ref), {})

    def region_for(self, inputs: Mapping[str, Any], provider_ref: str | None) -> str:
        return (
            _plain_string(inputs.get("region"))
            or _plain_string(self._provider(provider_ref).get("region"))
            or self.default_region
            or UNSET_REGION
        )

    def account_for(self, provider_ref: str | None) -> str:
        allowed = _plain_string(self._provider(provider_ref).get("allowedAccountIds"))
        if allowed:
            try:
                accounts = json.loads(allowed)
            except ValueError:
                accounts = None
            if isinstance(accounts, list) and accounts and isinstance(accounts[0], str):
                return accounts[0]
        return self.default_account

    # -- resources ---------------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if args.typ == STACK_REFERENCE_TYPE:
            return self._stack_reference(args)
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            return f"{args.name}-id", inputs
        if not args.typ.startswith("aws:"):
            return args.resource_id or f"{args.name}-id", inputs
        return self._aws_resource(args.typ, args.name, inputs, args.provider, args.resource_id)

    def _physical_name(self, typ: str, name: str, inputs: Mapping[str, Any]) -> str:
        explicit = _plain_string(inputs.get("name"))
        if explicit:
            return explicit
        prefix = _plain_string(inputs.get("namePrefix"))
        suffix = _short_hash(self.project, self.stack, typ, name)
        if prefix:
            return f"{prefix}{suffix}"
        if typ == "aws:kms/alias:Alias":
            return f"alias/{name}-{suffix}"
        # Autonaming: logical name plus a suffix (random in Pulumi, derived from the name here).
        return f"{name}-{suffix}"

    def _aws_resource(
        self,
        typ: str,
        name: str,
        inputs: dict[str, Any],
        provider_ref: str | None,
        import_id: str | None,
    ) -> tuple[str, dict[str, Any]]:
        module = typ.split(":")[1].split("/")[0]
        type_name = typ.rsplit(":", 1)[-1]
        is_global = module in _GLOBAL_MODULES
        region = "" if is_global else self.region_for(inputs, provider_ref)
        account = self.account_for(provider_ref)
        partition = partition_of(region or self.default_region or "")
        physical_name = self._physical_name(typ, name, inputs)
        outputs = dict(inputs)

        if typ in ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"):
            bucket = _plain_string(inputs.get("bucket"))
            if not bucket:
                prefix = _plain_string(inputs.get("bucketPrefix")) or f"{name}-"
                bucket = f"{prefix}{_short_hash(self.project, self.stack, typ, name)}".lower()
            resource_id = bucket
            outputs.update(
                bucket=bucket,
                bucketDomainName=f"{bucket}.s3.amazonaws.com",
                bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
            )
        else:
            resource_id = import_id or f"{name}-id"
            bucket = ""

        key_id = ""
        if typ in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            key_id = str(uuid.uuid5(_UUID_NAMESPACE, f"{self.project}/{self.stack}/{region}/{name}"))
            resource_id = key_id
            outputs["keyId"] = key_id
        if typ in _NAMED_TYPES or "name" in inputs:
            outputs["name"] = physical_name
        if typ == "aws:sqs/queue:Queue":
            outputs["url"] = f"https://sqs.{region}.amazonaws.com/{account}/{physical_name}"

        path = _plain_string(inputs.get("path")) or "/"
        arn_format = _ARN_FORMATS.get(typ)
        if arn_format is None:
            location = "" if is_global else region
            arn_format = f"arn:{{partition}}:{module}:{location}:{{account}}:{_kebab(type_name)}/{{name}}"
            physical_name = physical_name if "name" in outputs else resource_id
        arn = arn_format.format(
            partition=partition,
            region=region,
            account=account,
            name=physical_name,
            id=resource_id,
            bucket=bucket,
            key_id=key_id,
            path=path,
        )
        outputs["arn"] = arn
        outputs["id"] = resource_id

        if typ == "aws:lambda/function:Function":
            outputs.update(
                qualifiedArn=f"{arn}:$LATEST",
                version="$LATEST",
                invokeArn=(
                    f"arn:{partition}:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations"
                ),
            )
        if typ == "aws:iam/role:Role":
            outputs["uniqueId"] = "AROA" + _short_hash(self.project, typ, name, length=17).upper()
        if not is_global and region != UNSET_REGION:
            outputs.setdefault("region", region)
        if "tags" in inputs:
            outputs["tagsAll"] = self._tags_all(inputs.get("tags"), provider_ref)
        return resource_id, outputs

    def _tags_all(self, tags: Any, provider_ref: str | None) -> Any:
        """Provider default tags merged under the resource's own, as the provider computes `tagsAll`."""
        default_tags: dict[str, Any] = {}
        raw = _plain_string(self._provider(provider_ref).get("defaultTags"))
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict) and isinstance(parsed.get("tags"), dict):
                default_tags = dict(parsed["tags"])
        if not isinstance(tags, Mapping):
            return tags if not default_tags else {**default_tags}
        return {**default_tags, **dict(tags)}

    def _stack_reference(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        target = args.resource_id or _plain_string(args.inputs.get("name")) or args.name
        resolved = self._resolve_stack_reference(target) if self._resolve_stack_reference else None
        state: dict[str, Any] = {"name": target}
        if resolved is not None:
            state["outputs"] = resolved.outputs
            state["secretOutputNames"] = list(resolved.secret_output_names)
        return target, state

    # -- invokes -----------------------------------------------------------------------------
    def call(self, args: MockCallArgs) -> dict[str, Any]:
        account = self.account_for(args.provider)
        region = self.region_for(args.args, args.provider)
        partition = partition_of(region)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": account,
                "arn": f"arn:{partition}:iam::{account}:user/offline-policy-check",
                "userId": "AIDAOFFLINEPOLICYCHECK",
                "id": account,
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {
                "region": region,
                "name": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": partition,
                "dnsSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
                "reverseDnsPrefix": "cn.com.amazonaws" if partition == "aws-cn" else "com.amazonaws",
                "id": partition,
            }
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{suffix}" for suffix in "abc"]
            return {"names": names, "zoneIds": [f"{region}-az{i}" for i in (1, 2, 3)], "id": region}
        return {}
