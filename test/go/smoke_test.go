// The generated Go module, used from a Go CDK app as Construct Hub's Go users would use it.
package gosmoke

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	ssc "github.com/cdk-service-specific-credential/cdk-service-specific-credential-go/cdkservicespecificcredential"
)

type object = map[string]interface{}

func newStack() awscdk.Stack {
	env := &awscdk.Environment{Account: jsii.String("123456789012"), Region: jsii.String("us-east-1")}
	return awscdk.NewStack(awscdk.NewApp(nil), jsii.String("GoSmoke"), &awscdk.StackProps{Env: env})
}

func TestCodeCommitAndBedrockCredentialsSynthesize(t *testing.T) {
	stack := newStack()
	user := awsiam.NewUser(stack, jsii.String("GitUser"), nil)
	ssc.NewServiceSpecificCredential(stack, jsii.String("Git"), &ssc.ServiceSpecificCredentialProps{
		User: user, Service: ssc.CredentialService_CODECOMMIT(),
	})
	ssc.NewServiceSpecificCredential(stack, jsii.String("Bedrock"), &ssc.ServiceSpecificCredentialProps{
		User: user, Service: ssc.CredentialService_BEDROCK(), ExpiresAfter: awscdk.Duration_Days(jsii.Number(30)),
	})

	template := assertions.Template_FromStack(stack, nil)
	template.ResourceCountIs(jsii.String("Custom::ServiceSpecificCredential"), jsii.Number(2))
	template.ResourceCountIs(jsii.String("AWS::SecretsManager::Secret"), jsii.Number(2))
	template.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(1))
	template.HasResourceProperties(jsii.String("Custom::ServiceSpecificCredential"), object{
		"ServiceName": "codecommit.amazonaws.com", "Status": "Active", "ResetSerial": "0",
		"CredentialAgeDays": assertions.Match_Absent(),
	})
	template.HasResourceProperties(jsii.String("Custom::ServiceSpecificCredential"), object{
		"ServiceName": "bedrock.amazonaws.com", "CredentialAgeDays": "30",
	})
	// The handler asset travelled inside the module's embedded jsii bundle.
	template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), object{"Handler": "index.handler", "Timeout": 900})
}

func TestGrantReadGivesReadAndDecrypt(t *testing.T) {
	stack := newStack()
	key := awskms.NewKey(stack, jsii.String("Key"), nil)
	git := ssc.NewServiceSpecificCredential(stack, jsii.String("Git"), &ssc.ServiceSpecificCredentialProps{
		User: awsiam.NewUser(stack, jsii.String("GitUser"), nil), Service: ssc.CredentialService_CODECOMMIT(), EncryptionKey: key,
	})
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})

	git.GrantRead(reader)

	template := assertions.Template_FromStack(stack, nil)
	template.HasResourceProperties(jsii.String("AWS::IAM::Policy"), object{
		"Roles": []interface{}{object{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^Reader"))}},
		"PolicyDocument": object{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&object{
			"Action": []interface{}{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"},
		})})},
	})
	template.HasResourceProperties(jsii.String("AWS::KMS::Key"), object{
		"KeyPolicy": object{"Statement": assertions.Match_ArrayWith(&[]interface{}{assertions.Match_ObjectLike(&object{
			"Action":    "kms:Decrypt",
			"Principal": object{"AWS": object{"Fn::GetAtt": []interface{}{assertions.Match_StringLikeRegexp(jsii.String("^Reader")), "Arn"}}},
		})})},
	})
}

func TestSynthTimeValidationReachesGo(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("an expiry on a CodeCommit password was accepted")
		}
	}()
	stack := newStack()
	ssc.NewServiceSpecificCredential(stack, jsii.String("Bad"), &ssc.ServiceSpecificCredentialProps{
		User: awsiam.NewUser(stack, jsii.String("U"), nil), Service: ssc.CredentialService_CODECOMMIT(),
		ExpiresAfter: awscdk.Duration_Days(jsii.Number(30)),
	})
}

func TestAnImportedCredentialIsGrantedAndNeverManaged(t *testing.T) {
	stack := newStack()
	git := ssc.ServiceSpecificCredential_FromServiceSpecificCredentialAttributes(stack, jsii.String("Shared"), &ssc.ServiceSpecificCredentialAttributes{
		ServiceSpecificCredentialId: jsii.String("ACCAEXAMPLE123456789"),
		SecretArn:                   jsii.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/git-AbCdEf"),
	})
	reader := awsiam.NewRole(stack, jsii.String("Reader"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})

	git.GrantRead(reader)

	template := assertions.Template_FromStack(stack, nil)
	template.ResourceCountIs(jsii.String("Custom::ServiceSpecificCredential"), jsii.Number(0))
	if *git.ServiceSpecificCredentialId() != "ACCAEXAMPLE123456789" {
		t.Fatalf("id %s", *git.ServiceSpecificCredentialId())
	}
}

func TestXRayKeyWithReplicaAndExpiryAlert(t *testing.T) {
	stack := newStack()
	key := ssc.NewServiceSpecificCredential(stack, jsii.String("XRay"), &ssc.ServiceSpecificCredentialProps{
		User:           awsiam.NewUser(stack, jsii.String("TraceUser"), nil),
		Service:        ssc.CredentialService_XRAY(),
		ExpiresAfter:   awscdk.Duration_Days(jsii.Number(90)),
		ReplicaRegions: &[]*awssecretsmanager.ReplicaRegion{{Region: jsii.String("eu-west-1")}},
	})

	rule := key.OnExpiring(jsii.String("ExpiresSoon"), &ssc.OnExpiringOptions{Before: awscdk.Duration_Days(jsii.Number(14))})

	template := assertions.Template_FromStack(stack, nil)
	template.HasResourceProperties(jsii.String("Custom::ServiceSpecificCredential"), object{
		"ServiceName": "xray.amazonaws.com", "CredentialAgeDays": "90",
	})
	template.HasResourceProperties(jsii.String("AWS::SecretsManager::Secret"), object{
		"ReplicaRegions": []interface{}{object{"Region": "eu-west-1"}},
	})
	template.HasResourceProperties(jsii.String("Custom::ServiceSpecificCredentialExpiryAlert"), object{"LeadSeconds": "1209600"})
	template.ResourceCountIs(jsii.String("AWS::Scheduler::Schedule"), jsii.Number(1))
	if *rule.Node().Path() != "GoSmoke/XRay/ExpiresSoon" {
		t.Fatalf("rule path %s", *rule.Node().Path())
	}
}
