package smoke;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.github.cdkservicespecificcredential.CredentialService;
import io.github.cdkservicespecificcredential.ServiceSpecificCredential;
import java.util.Map;
import org.junit.jupiter.api.Test;
import software.amazon.awscdk.App;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.assertions.Template;
import software.amazon.awscdk.services.iam.User;

class SmokeTest {
    @Test
    void codeCommitAndBedrockCredentialsSynthesize() {
        Stack stack = new Stack(new App(), "JavaSmoke");
        User user = User.Builder.create(stack, "GitUser").build();
        ServiceSpecificCredential.Builder.create(stack, "Git").user(user).service(CredentialService.CODECOMMIT).build();
        ServiceSpecificCredential.Builder.create(stack, "Bedrock").user(user).service(CredentialService.BEDROCK)
            .expiresAfter(Duration.days(30)).build();

        Template template = Template.fromStack(stack);
        template.resourceCountIs("Custom::ServiceSpecificCredential", 2);
        template.resourceCountIs("AWS::Lambda::Function", 1);
        template.hasResourceProperties("Custom::ServiceSpecificCredential",
            Map.of("ServiceName", "bedrock.amazonaws.com", "CredentialAgeDays", "30"));
    }

    @Test
    void synthTimeValidationReachesJava() {
        Stack stack = new Stack(new App(), "JavaSmoke");
        User user = User.Builder.create(stack, "GitUser").build();
        RuntimeException err = assertThrows(RuntimeException.class, () ->
            ServiceSpecificCredential.Builder.create(stack, "Bad").user(user).service(CredentialService.KEYSPACES)
                .expiresAfter(Duration.days(1)).build());
        assertEquals(true, err.getMessage().contains("only supported for API-key services"));
    }
}
