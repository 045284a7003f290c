"""The mocks' computed outputs: deterministic ARNs in the right region and account."""

from __future__ import annotations

from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from compliance.mocks import DEFAULT_ACCOUNT, PlanMocks

PROVIDER_URN = "urn:pulumi:dev::p::pulumi:pulumi:Stack$pulumi:providers:aws::central"
PROVIDER_REF = f"{PROVIDER_URN}::central-id"


def _mocks(region: str | None = "eu-west-1", account: str | None = "111111111111") -> PlanMocks:
    mocks = PlanMocks(project="p", stack="dev", default_region=region, default_account=account)
    mocks.remember_provider(PROVIDER_URN, {"region": "eu-central-1", "allowedAccountIds": '["444444444444"]'})
    return mocks


def _new(mocks: PlanMocks, typ: str, name: str, inputs: dict, provider: str = "") -> tuple[str, dict]:
    return mocks.new_resource(MockResourceArgs(typ=typ, name=name, inputs=inputs, provider=provider, custom=True))


def test_kms_key_arn_follows_resource_then_provider_then_config_region() -> None:
    mocks = _mocks()
    _, by_config = _new(mocks, "aws:kms/key:Key", "k", {})
    _, by_provider = _new(mocks, "aws:kms/key:Key", "k", {}, PROVIDER_REF)
    _, by_input = _new(mocks, "aws:kms/key:Key", "k", {"region": "eu-north-1"}, PROVIDER_REF)

    assert by_config["arn"] == f"arn:aws:kms:eu-west-1:111111111111:key/{by_config['keyId']}"
    assert by_provider["arn"].startswith("arn:aws:kms:eu-central-1:444444444444:key/")
    assert by_input["arn"].startswith("arn:aws:kms:eu-north-1:444444444444:key/")
    assert by_config["region"] == "eu-west-1" and by_input["region"] == "eu-north-1"


def test_outputs_are_deterministic_and_distinct_per_name() -> None:
    first = _new(_mocks(), "aws:kms/key:Key", "raw", {"enableKeyRotation": True})
    again = _new(_mocks(), "aws:kms/key:Key", "raw", {"enableKeyRotation": True})
    other = _new(_mocks(), "aws:kms/key:Key", "deid", {"enableKeyRotation": True})

    assert first == again
    assert first[1]["keyId"] != other[1]["keyId"]
    assert first[1]["enableKeyRotation"] is True  # inputs are echoed


def test_arn_shapes_per_type() -> None:
    mocks = _mocks()
    bucket_id, bucket = _new(mocks, "aws:s3/bucket:Bucket", "raw", {"bucket": "ti-raw"})
    _, queue = _new(mocks, "aws:sqs/queue:Queue", "intake", {"name": "ti-intake"})
    _, function = _new(mocks, "aws:lambda/function:Function", "deid", {"name": "ti-deid"})
    _, role = _new(mocks, "aws:iam/role:Role", "deid", {"name": "ti-deid-role"}, PROVIDER_REF)
    _, logs = _new(mocks, "aws:cloudwatch/logGroup:LogGroup", "deid", {"name": "/aws/lambda/ti-deid"})
    _, trail = _new(mocks, "aws:cloudtrail/trail:Trail", "trail", {"name": "ti-trail"})

    assert (bucket_id, bucket["arn"], bucket["bucket"]) == ("ti-raw", "arn:aws:s3:::ti-raw", "ti-raw")
    assert queue["arn"] == "arn:aws:sqs:eu-west-1:111111111111:ti-intake"
    assert queue["url"] == "https://sqs.eu-west-1.amazonaws.com/111111111111/ti-intake"
    assert function["arn"] == "arn:aws:lambda:eu-west-1:111111111111:function:ti-deid"
    assert role["arn"] == "arn:aws:iam::444444444444:role/ti-deid-role"
    assert "region" not in role
    assert logs["arn"] == "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/lambda/ti-deid"
    assert trail["arn"] == "arn:aws:cloudtrail:eu-west-1:111111111111:trail/ti-trail"


def test_autonamed_resources_get_stable_names() -> None:
    bucket_id, bucket = _new(_mocks(), "aws:s3/bucket:Bucket", "raw", {})
    _, queue = _new(_mocks(), "aws:sqs/queue:Queue", "intake", {})

    assert bucket_id == bucket["bucket"] and bucket["bucket"].startswith("raw-")
    assert queue["name"].startswith("intake-")
    assert queue["arn"] == f"arn:aws:sqs:eu-west-1:111111111111:{queue['name']}"
    assert _new(_mocks(), "aws:sqs/queue:Queue", "intake", {})[1]["name"] == queue["name"]


def test_account_defaults_when_no_allowed_accounts() -> None:
    _, key = _new(_mocks(account=None), "aws:kms/key:Key", "k", {})
    assert f":{DEFAULT_ACCOUNT}:key/" in key["arn"]


def test_invokes_answer_identity_region_and_partition() -> None:
    mocks = _mocks()

    identity = mocks.call(MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, ""))
    region = mocks.call(MockCallArgs("aws:index/getRegion:getRegion", {}, PROVIDER_REF))
    partition = mocks.call(MockCallArgs("aws:index/getPartition:getPartition", {}, ""))

    assert identity["accountId"] == "111111111111" and identity["arn"].startswith("arn:aws:iam::111111111111:")
    assert identity["userId"]
    assert (region["region"], region["name"]) == ("eu-central-1", "eu-central-1")
    assert partition == {**partition, "partition": "aws", "dnsSuffix": "amazonaws.com"}
    assert mocks.call(MockCallArgs("aws:ec2/getVpc:getVpc", {}, "")) == {}
