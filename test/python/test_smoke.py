"""The built wheel, used from Python as Construct Hub's Python users would use it."""
import aws_cdk as cdk
import pytest
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from cdk_service_specific_credential import (
    CredentialRotationOptions,
    CredentialSecretKey,
    CredentialService,
    CredentialStatus,
    ServiceSpecificCredential,
)


@pytest.fixture
def stack():
    return cdk.Stack(cdk.App(), "PythonSmoke")


def test_codecommit_and_bedrock_credentials_synthesize(stack):
    user = iam.User(stack, "GitUser")
    ServiceSpecificCredential(stack, "Git", user=user, service=CredentialService.CODECOMMIT)
    ServiceSpecificCredential(
        stack, "Bedrock", user=user, service=CredentialService.BEDROCK,
        expires_after=cdk.Duration.days(30), status=CredentialStatus.INACTIVE,
    )

    template = Template.from_stack(stack)
    template.resource_count_is("Custom::ServiceSpecificCredential", 2)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource_properties("Custom::ServiceSpecificCredential", {
        "ServiceName": "codecommit.amazonaws.com", "Status": "Active", "CredentialAgeDays": Match.absent(),
    })
    template.has_resource_properties("Custom::ServiceSpecificCredential", {
        "ServiceName": "bedrock.amazonaws.com", "Status": "Inactive", "CredentialAgeDays": "30",
    })
    # The handler asset travelled inside the wheel's jsii bundle.
    template.has_resource_properties("AWS::Lambda::Function", {"Handler": "index.handler", "Timeout": 900})


def test_the_readme_python_example_with_rotation(stack):
    bot = iam.User(stack, "GitBot")
    git = ServiceSpecificCredential(stack, "GitCredential",
        user=bot,
        service=CredentialService.CODECOMMIT,
        rotation=CredentialRotationOptions(automatically_after=cdk.Duration.days(30)),
    )

    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::SecretsManager::RotationSchedule", {
        "RotationRules": {"ScheduleExpression": "rate(30 days)"}, "RotateImmediatelyOnUpdate": False,
    })
    template.has_resource_properties("Custom::ServiceSpecificCredential", {"RotationStrategy": "ALTERNATING"})
    assert git.service_user_name


def test_the_alerts_from_python(stack):
    topic = sns.Topic(stack, "Alerts")
    key = ServiceSpecificCredential(stack, "XRayKey",
        user=iam.User(stack, "Tracer"), service=CredentialService.XRAY, expires_after=cdk.Duration.days(90),
    )
    rotated = ServiceSpecificCredential(stack, "Rotated",
        user=iam.User(stack, "Agent"), service=CredentialService.BEDROCK, expires_after=cdk.Duration.days(90),
        rotation=CredentialRotationOptions(automatically_after=cdk.Duration.days(30)),
    )

    expiring = key.on_expiring("ExpiresSoon", before=cdk.Duration.days(14), target=events_targets.SnsTopic(topic))
    failed = rotated.on_rotation_failed("RotationFailed", target=events_targets.SnsTopic(topic))

    template = Template.from_stack(stack)
    template.has_resource_properties("Custom::ServiceSpecificCredentialExpiryAlert", {"LeadSeconds": str(14 * 86400)})
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({
        "detail": {"alert": ["PythonSmoke/XRayKey/ExpiresSoon"], "secretArn": Match.any_value()},
    })})
    template.has_resource_properties("AWS::Events::Rule", {"EventPattern": Match.object_like({
        "detail": Match.object_like({"eventName": ["RotationFailed"]}),
    })})
    assert expiring.node.path == "PythonSmoke/XRayKey/ExpiresSoon"
    assert failed.node.path == "PythonSmoke/Rotated/RotationFailed"
    with pytest.raises(Exception, match="watch that instead"):
        rotated.on_expiring("Never", before=cdk.Duration.days(1))


def test_attributes_come_from_the_custom_resource(stack):
    git = ServiceSpecificCredential(stack, "Git", user=iam.User(stack, "U"), service=CredentialService.CODECOMMIT)

    user_name = stack.resolve(git.service_user_name)
    secret_arn = stack.resolve(git.secret.secret_arn)
    assert user_name["Fn::GetAtt"][1] == "ServiceUserName"
    assert secret_arn["Fn::GetAtt"][1] == "SecretArn"


def test_constants_and_service_kinds():
    assert CredentialSecretKey.USERNAME == "username"
    assert CredentialSecretKey.API_KEY == "apiKey"
    assert CredentialService.of("bedrock.amazonaws.com").service_name == "bedrock.amazonaws.com"
    assert CredentialService.BEDROCK.supports_expiry
    assert not CredentialService.KEYSPACES.supports_expiry


def test_synth_time_validation_reaches_python(stack):
    with pytest.raises(Exception, match="only supported for API-key services"):
        ServiceSpecificCredential(
            stack, "Bad", user=iam.User(stack, "U"), service=CredentialService.CODECOMMIT,
            expires_after=cdk.Duration.days(1),
        )


def test_an_imported_credential_is_granted_and_never_managed(stack):
    git = ServiceSpecificCredential.from_service_specific_credential_attributes(
        stack, "Shared",
        service_specific_credential_id="ACCAEXAMPLE123456789",
        secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/git-AbCdEf",
        service_user_name="git-bot-at-123456789012",
    )
    reader = iam.Role(stack, "Reader", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))

    git.grant_read(reader)

    template = Template.from_stack(stack)
    template.resource_count_is("Custom::ServiceSpecificCredential", 0)
    template.resource_count_is("AWS::Lambda::Function", 0)
    template.has_resource_properties("AWS::IAM::Policy", {"PolicyDocument": {"Statement": [Match.object_like({
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/git-AbCdEf",
    })]}})
    assert git.service_user_name == "git-bot-at-123456789012"
    with pytest.raises(Exception, match="expirationDate of the imported credential"):
        git.expiration_date
