import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from '../../example/example-stack';
import { ValidationReport } from '../../tools/template';

/** The synthesized template with asset hashes replaced, so the snapshot only changes with the template's shape. */
function normalisedTemplate(stack: ExampleStack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(json.replace(/[0-9a-f]{64}(\.zip)?/g, (_hash, zip) => `<asset hash>${zip ?? ''}`));
}

test('the example stack matches its snapshot', () => {
  const stack = new ExampleStack(new App(), 'ImportedKmsKeyExample', { env: { account: '111122223333', region: 'eu-west-1' } });
  expect(normalisedTemplate(stack)).toMatchSnapshot();
});

test('cdk-nag AwsSolutions finds nothing unacknowledged in the example stack, and every acknowledgement gives a reason', () => {
  const outdir = join(tmpdir(), `nag-${process.pid}`);
  const app = new App({ outdir });
  new ExampleStack(app, 'ImportedKmsKeyExample');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let failure: Error | undefined;
  try {
    app.synth();
  } catch (error) {
    failure = error as Error;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  const [nag] = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
  const open = nag.violations.map((v) =>
    `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`);
  expect(open).toEqual([]);
  expect(failure).toBeUndefined();
  const acknowledged = nag.suppressedViolations;
  expect(acknowledged.map((a) => a.ruleName).sort()).toEqual([
    'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    'AwsSolutions-IAM5[Action::s3:Abort*]',
    'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
    'AwsSolutions-IAM5[Action::s3:GetBucket*]',
    'AwsSolutions-IAM5[Action::s3:GetObject*]',
    'AwsSolutions-IAM5[Action::s3:List*]',
    'AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/*]',
    'AwsSolutions-IAM5[Resource::<ImportedKmsKeyProviderHandler08174DFE.Arn>:*]',
    'AwsSolutions-KMS5', // one per key: the payments key and the session key
    'AwsSolutions-KMS5',
  ]);
  for (const a of acknowledged) expect(a.reason.length).toBeGreaterThan(40);
});
