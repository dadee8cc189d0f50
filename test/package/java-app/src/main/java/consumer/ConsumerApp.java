// A Java CDK app, as a Java user writes one: synthesizes one key (alias, grant) with the jsii-generated
// Maven package. Usage: java consumer.ConsumerApp <outdir> <validTo, ISO-8601 instant>
package consumer;

import java.time.Instant;

import io.github.importedkmskey.ImportedKmsKey;
import io.github.importedkmskey.KeyMaterial;
import io.github.importedkmskey.KeyMaterialExpiration;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.secretsmanager.ISecret;
import software.amazon.awscdk.services.secretsmanager.Secret;

public final class ConsumerApp {
    private ConsumerApp() { }

    public static void main(final String[] args) {
        App cdkApp = new App(AppProps.builder().outdir(args[0]).build());
        Stack stack = new Stack(cdkApp, "JavaConsumer");
        ISecret secret = Secret.fromSecretNameV2(stack, "Material", "payments/material");
        ImportedKmsKey key = ImportedKmsKey.Builder.create(stack, "Key")
                .keyMaterial(KeyMaterial.fromSecret(secret))
                .expiration(KeyMaterialExpiration.at(Instant.parse(args[1])))
                .alias("alias/payments")
                .build();
        Role role = Role.Builder.create(stack, "App").assumedBy(new ServicePrincipal("lambda.amazonaws.com")).build();
        key.grantEncryptDecrypt(role);
        cdkApp.synth();
    }
}
