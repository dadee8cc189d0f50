// A Go CDK app, as a Go user writes one: synthesizes one key (alias, grant) with the jsii-generated Go module.
// Usage: app <outdir> <validTo, RFC 3339>
package main

import (
	"os"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"
	"github.com/imported-kms-key/imported-kms-key-go/importedkmskey"
)

func main() {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(os.Args[1])})
	stack := awscdk.NewStack(app, jsii.String("GoConsumer"), nil)
	validTo, _ := time.Parse(time.RFC3339, os.Args[2])
	key := importedkmskey.NewImportedKmsKey(stack, jsii.String("Key"), &importedkmskey.ImportedKmsKeyProps{
		KeyMaterial: importedkmskey.KeyMaterial_FromSecret(awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("Material"), jsii.String("payments/material")), nil),
		Expiration:  importedkmskey.KeyMaterialExpiration_At(&validTo),
		Alias:       jsii.String("alias/payments"),
	})
	role := awsiam.NewRole(stack, jsii.String("App"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil)})
	key.GrantEncryptDecrypt(role)
	app.Synth(nil)
}
