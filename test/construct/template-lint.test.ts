import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { ExampleStack } from '../../example/example-stack';
import { CFN_LINT_BIN } from '../../tools/emulators';
import { ValidationReport } from '../../tools/template';

/** The example app synthesized with aws-cdk-lib's own template validation turned into errors. */
function synthExample(): { outdir: string; templateFile: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'lint-'));
  const app = new App({ outdir, context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = new ExampleStack(app, 'ImportedKmsKeyExample');
  app.synth();
  return { outdir, templateFile: join(outdir, stack.templateFile) };
}

test('the example template passes aws-cdk-lib\'s template validation with validateAgainstDefaultRules on', () => {
  const { outdir } = synthExample();
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  const violations = report.pluginReports.flatMap((r) =>
    r.violations.map((v) => `${r.pluginName}: ${v.ruleName}`));
  expect(report.pluginReports.length).toBeGreaterThan(0);
  expect(violations).toEqual([]);
});

/**
 * Warnings aws-cdk-lib itself causes, which no construct can avoid:
 * W3005, lambda.Function's explicit DependsOn on its role; W3045, the AccessControl that
 * s3.Bucket sets on a server-access-log bucket.
 */
const KNOWN_CDK_WARNINGS = /:W3005:'\w+Role\w+' dependency already enforced|:W3045:'AccessControl' is a legacy property/;

test('the example template passes cfn-lint with no errors, and only warnings aws-cdk-lib itself causes', () => {
  const { templateFile } = synthExample();
  const lint = spawnSync(CFN_LINT_BIN, ['--format', 'parseable', templateFile], { encoding: 'utf8' });
  if (lint.error) throw new Error(`${CFN_LINT_BIN} could not run (${lint.error.message}): run 'bash scripts/install-emulators.sh'`);
  const findings = lint.stdout.trim().split('\n').filter(Boolean);
  expect(findings.filter((f) => /:E\d+:/.test(f))).toEqual([]);
  expect(findings.filter((f) => /:W\d+:/.test(f) && !KNOWN_CDK_WARNINGS.test(f))).toEqual([]);
  expect(lint.status! & 2).toBe(0); // cfn-lint's exit code bit 2: errors
});
