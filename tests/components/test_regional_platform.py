"""The regional platform under mocks: the properties that matter for PHI."""

import json
from pathlib import Path

import pytest

from tests.components.plans import actions_of, as_list, policy_statements

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KEY = "aws:kms/key:Key"
REGIONAL_STACKS = ["eu-west-1", "eu-central-1", "us-east-1"]
ACCOUNT = {"eu-west-1": "111111111111", "eu-central-1": "111111111111", "us-east-1": "222222222222"}


def bucket_name(stack: str, role: str) -> str:
    return f"ti-demo-{stack}-{role}-{ACCOUNT[stack]}"


@pytest.mark.parametrize("stack", REGIONAL_STACKS)
def test_every_aws_resource_uses_the_stack_region_provider(plan_of, stack):
    plan = plan_of(stack)
    providers = [r for r in plan.resources if r.type == "pulumi:providers:aws"]
    assert len(providers) == 1
    provider = providers[0]
    assert provider.inputs["region"] == stack
    assert json.loads(provider.inputs["allowedAccountIds"]) == [ACCOUNT[stack]]
    for resource in plan.resources:
        if resource.type.startswith("aws:"):
            assert resource.provider == provider.urn, resource.urn
            assert "region" not in resource.inputs, f"{resource.urn} overrides the provider region"


@pytest.mark.parametrize("stack", REGIONAL_STACKS)
def test_raw_and_deidentified_sides_have_separate_rotating_protected_keys(plan_of, stack):
    plan = plan_of(stack)
    keys = {r.name: r for r in plan.of_type(KEY)}
    assert set(keys) == {"platform-raw-key", "platform-deid-key"}
    for key in keys.values():
        assert key.inputs["enableKeyRotation"] is True, key.urn
        assert key.inputs["rotationPeriodInDays"] == 365
        assert key.inputs["deletionWindowInDays"] == 30
        assert key.protect, f"{key.urn} must be protected against deletion"
    raw_arn = keys["platform-raw-key"].outputs["arn"]
    deid_arn = keys["platform-deid-key"].outputs["arn"]
    assert raw_arn != deid_arn
    assert f":{stack}:" in raw_arn and f":{stack}:" in deid_arn


@pytest.mark.parametrize(
    ("role", "key_name"),
    [("raw", "platform-raw-key"), ("quarantine", "platform-raw-key"),
     ("access-logs", "platform-raw-key"), ("deidentified", "platform-deid-key")],
)
def test_buckets_are_encrypted_with_their_sides_key(plan_of, role, key_name):
    plan = plan_of("eu-west-1")
    key_arn = plan.one(KEY, key_name).outputs["arn"]
    rule = plan.bucket_config(SSE, bucket_name("eu-west-1", role)).inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key_arn}
    assert rule["bucketKeyEnabled"] is True


@pytest.mark.parametrize("role", ["raw", "quarantine", "deidentified", "access-logs"])
def test_every_bucket_is_versioned_private_owner_enforced_and_tls_only(plan_of, role):
    plan = plan_of("eu-west-1")
    name = bucket_name("eu-west-1", role)
    bucket = plan.one(BUCKET, f"platform-{role}")
    assert bucket.inputs["bucket"] == name
    assert bucket.protect and bucket.inputs["forceDestroy"] is False
    versioning = plan.bucket_config("aws:s3/bucketVersioning:BucketVersioning", name)
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    block = plan.bucket_config("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", name).inputs
    assert all(block[flag] is True for flag in
               ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    ownership = plan.bucket_config("aws:s3/bucketOwnershipControls:BucketOwnershipControls", name)
    assert ownership.inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    statements = policy_statements(plan.bucket_config("aws:s3/bucketPolicy:BucketPolicy", name).inputs["policy"])
    tls = [s for s in statements if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
    assert len(tls) == 1 and tls[0]["Effect"] == "Deny" and tls[0]["Principal"] == "*"
    assert set(tls[0]["Resource"]) == {f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"}


@pytest.mark.parametrize("role", ["raw", "quarantine", "deidentified"])
def test_phi_buckets_log_access_to_the_access_log_bucket(plan_of, role):
    plan = plan_of("eu-west-1")
    logging = plan.bucket_config("aws:s3/bucketLogging:BucketLogging", bucket_name("eu-west-1", role))
    assert logging.inputs["targetBucket"] == bucket_name("eu-west-1", "access-logs")
    classification = plan.one(BUCKET, f"platform-{role}").inputs["tags"]["data-classification"]
    assert classification == ("deid" if role == "deidentified" else "phi")


def test_intake_queue_and_dead_letter_queue(plan_of):
    plan = plan_of("eu-west-1")
    raw_key = plan.one(KEY, "platform-raw-key").outputs["arn"]
    queue = plan.one("aws:sqs/queue:Queue", "platform-intake")
    dlq = plan.one("aws:sqs/queue:Queue", "platform-intake-dlq")
    assert queue.inputs["kmsMasterKeyId"] == raw_key and dlq.inputs["kmsMasterKeyId"] == raw_key
    redrive = json.loads(queue.inputs["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": dlq.outputs["arn"], "maxReceiveCount": 5}
    # Six times the Lambda timeout, as AWS recommends for SQS event sources.
    assert queue.inputs["visibilityTimeoutSeconds"] == 6 * 300

    statements = policy_statements(
        plan.one("aws:sqs/queuePolicy:QueuePolicy", "platform-intake-policy").inputs["policy"]
    )
    assert len(statements) == 1
    condition = statements[0]["Condition"]
    assert condition["ArnEquals"]["aws:SourceArn"] == f"arn:aws:s3:::{bucket_name('eu-west-1', 'raw')}"
    assert condition["StringEquals"]["aws:SourceAccount"] == ACCOUNT["eu-west-1"]

    notification = plan.one("aws:s3/bucketNotification:BucketNotification", "platform-raw-events")
    assert notification.inputs["bucket"] == bucket_name("eu-west-1", "raw")
    assert notification.inputs["queues"] == [
        {"queueArn": queue.outputs["arn"], "events": ["s3:ObjectCreated:*"]}
    ]


def test_lambda_reads_raw_writes_deidentified_and_quarantine_and_nothing_else(plan_of):
    plan = plan_of("eu-west-1")
    statements = policy_statements(
        plan.one("aws:iam/rolePolicy:RolePolicy", "platform-deid-permissions").inputs["policy"]
    )
    assert all(s["Effect"] == "Allow" for s in statements)
    assert not any("*" in a for a in actions_of(statements) if a.startswith(("s3:", "kms:", "sqs:")))

    def resources_for(action: str) -> set[str]:
        return {r for s in statements if action in as_list(s["Action"]) for r in as_list(s["Resource"])}

    raw, deid, quarantine = (bucket_name("eu-west-1", r) for r in ("raw", "deidentified", "quarantine"))
    assert resources_for("s3:PutObject") == {f"arn:aws:s3:::{deid}/*", f"arn:aws:s3:::{quarantine}/*"}
    quarantine_arn = f"arn:aws:s3:::{quarantine}"
    assert resources_for("s3:GetObject") == {
        f"arn:aws:s3:::{raw}/*", f"{quarantine_arn}/outcomes/*", f"{quarantine_arn}/claims/*"}
    assert resources_for("s3:ListBucket") == {quarantine_arn}
    assert {a for a in actions_of(statements) if a.startswith("s3:")} == {
        "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:ListBucket"}
    assert not any(deid in r for r in resources_for("s3:GetObject")), "never reads de-identified data"
    raw_key = plan.one(KEY, "platform-raw-key").outputs["arn"]
    deid_key = plan.one(KEY, "platform-deid-key").outputs["arn"]
    assert resources_for("kms:GenerateDataKey") == {raw_key, deid_key}
    queue = plan.one("aws:sqs/queue:Queue", "platform-intake").outputs["arn"]
    assert resources_for("sqs:ReceiveMessage") == {queue}
    secret = plan.one("aws:secretsmanager/secret:Secret", "platform-deid-pseudonym-key").outputs["arn"]
    assert resources_for("secretsmanager:GetSecretValue") == {secret}

    trust = json.loads(plan.one("aws:iam/role:Role", "platform-deid-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_lambda_is_fed_by_the_queue_with_partial_batch_failures(plan_of):
    plan = plan_of("eu-west-1")
    function = plan.one("aws:lambda/function:Function", "platform-deid")
    assert function.inputs["handler"] == "deidentify.handler.lambda_handler"
    assert function.inputs["runtime"] == "python3.12"
    assert function.inputs["reservedConcurrentExecutions"] == 10
    env = function.inputs["environment"]["variables"]
    assert env["DEID_OUTPUT_BUCKET"] == bucket_name("eu-west-1", "deidentified")
    assert env["DEID_QUARANTINE_BUCKET"] == bucket_name("eu-west-1", "quarantine")
    assert function.inputs["kmsKeyArn"] == plan.one(KEY, "platform-raw-key").outputs["arn"]

    mapping = plan.one("aws:lambda/eventSourceMapping:EventSourceMapping", "platform-deid-intake")
    assert mapping.inputs["eventSourceArn"] == plan.one("aws:sqs/queue:Queue", "platform-intake").outputs["arn"]
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]


def test_lambda_package_holds_the_handler_and_its_dependencies(plan_of):
    function = plan_of("eu-west-1").one("aws:lambda/function:Function", "platform-deid")
    package = Path(function.inputs["code"]["path"])
    assert (package / "deidentify" / "handler.py").is_file()
    assert (package / "pydicom").is_dir() and (package / "aws_lambda_powertools").is_dir()


def test_lambda_logs_to_its_own_encrypted_log_group_with_retention(plan_of):
    plan = plan_of("eu-west-1")
    group = plan.one("aws:cloudwatch/logGroup:LogGroup", "platform-deid-logs")
    assert group.inputs["name"] == "/aws/lambda/ti-demo-eu-west-1-deidentify"
    assert group.inputs["retentionInDays"] == 3653
    assert group.inputs["kmsKeyId"] == plan.one(KEY, "platform-raw-key").outputs["arn"]
    function = plan.one("aws:lambda/function:Function", "platform-deid")
    assert function.inputs["loggingConfig"] == {"logFormat": "JSON", "logGroup": group.inputs["name"]}


def test_processing_region_exception_reaches_the_lambda(plan_of):
    env = plan_of("eu-central-1").one("aws:lambda/function:Function", "platform-deid").inputs["environment"]
    assert env["variables"]["DEID_COMPREHEND_MEDICAL_REGION"] == "eu-west-1"
    assert env["variables"]["DEID_REKOGNITION_REGION"] == "eu-central-1"
    assert plan_of("eu-central-1").exports["processingRegionExceptions"] == {"comprehendmedical": "eu-west-1"}


@pytest.mark.parametrize(("stack", "audit"), [("eu-west-1", "audit-eu"), ("eu-central-1", "audit-eu"),
                                              ("us-east-1", "audit-us")])
def test_trail_writes_to_its_jurisdictions_archive_with_validation(plan_of, stack, audit):
    plan = plan_of(stack)
    archive = plan_of(audit).exports
    trail = plan.one("aws:cloudtrail/trail:Trail", "platform-trail").inputs
    assert trail["s3BucketName"] == archive["archiveBucketName"]
    assert trail["kmsKeyId"] == archive["archiveKeyArn"]
    assert trail["enableLogFileValidation"] is True
    assert trail["isMultiRegionTrail"] is False
    assert trail["name"] == f"ti-demo-{stack}-trail"


def test_trail_records_management_and_data_events_on_every_phi_bucket(plan_of):
    plan = plan_of("eu-west-1")
    selectors = plan.one("aws:cloudtrail/trail:Trail", "platform-trail").inputs["advancedEventSelectors"]
    categories = [
        next(f["equals"] for f in s["fieldSelectors"] if f["field"] == "eventCategory") for s in selectors
    ]
    assert ["Management"] in categories and ["Data"] in categories
    data = next(s for s in selectors if ["Data"] in [f.get("equals") for f in s["fieldSelectors"]])
    arn_field = next(f for f in data["fieldSelectors"] if f["field"] == "resources.ARN")
    assert set(arn_field["startsWiths"]) == {
        f"arn:aws:s3:::{bucket_name('eu-west-1', role)}/" for role in ("raw", "quarantine", "deidentified")
    }
    assert not any(f["field"] == "readOnly" for f in data["fieldSelectors"]), "reads and writes both"


@pytest.mark.parametrize(("stack", "comprehend", "rekognition"),
                         [("eu-west-1", "eu-west-1", "eu-west-1"), ("eu-central-1", "eu-west-1", "eu-central-1")])
def test_detector_calls_are_pinned_to_their_processing_region(plan_of, stack, comprehend, rekognition):
    statements = policy_statements(
        plan_of(stack).one("aws:iam/rolePolicy:RolePolicy", "platform-deid-permissions").inputs["policy"]
    )
    pinned = {
        action: s["Condition"]["StringEquals"]["aws:RequestedRegion"]
        for s in statements for action in as_list(s["Action"])
        if action.startswith(("comprehendmedical:", "rekognition:"))
    }
    assert pinned == {"comprehendmedical:DetectPHI": comprehend, "rekognition:DetectText": rekognition}


def test_lambda_is_told_its_profile_options_and_detectors(plan_of):
    env = plan_of("eu-west-1").one("aws:lambda/function:Function", "platform-deid").inputs["environment"]
    variables = env["variables"]
    assert variables["DEID_PROFILE_OPTIONS"] == "retain-longitudinal-modified-dates"
    assert variables["DEID_PIXEL_BACKEND"] == "rekognition"
    assert variables["DEID_TEXT_BACKEND"] == "comprehendmedical"
    assert variables["DEID_LINKAGE_PREFIX"] == "linkage/"

