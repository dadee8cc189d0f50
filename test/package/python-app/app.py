"""A small Python CDK app using imported-kms-key, synthesized by test/python.test.ts.

Usage: python app.py OUTDIR VALID_TO (ISO-8601, e.g. 2027-01-01T00:00:00Z)
"""
import datetime
import sys

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

from imported_kms_key import ImportedKmsKey, KeyMaterial, KeyMaterialExpiration

app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "PythonConsumer", env=cdk.Environment(account="123456789012", region="eu-west-1"))

secret = secretsmanager.Secret.from_secret_name_v2(stack, "Material", "byok/payments")
key = ImportedKmsKey(
    stack,
    "Key",
    key_material=KeyMaterial.from_secret(secret),
    expiration=KeyMaterialExpiration.at(datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00"))),
    alias="alias/payments",
)
role = iam.Role(stack, "App", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
key.grant_encrypt_decrypt(role)

app.synth()
