import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ValidationReport } from '../../tools/template';

/**
 * Synthesizes what `build` adds to a fresh app under cdk-nag's AwsSolutions checks; returns each
 * unacknowledged finding as `<rule> at <construct paths>`, and the whole validation report.
 */
export function nagFindings(build: (app: App) => void): { open: string[]; report: ValidationReport } {
  const outdir = mkdtempSync(join(tmpdir(), 'nag-'));
  const app = new App({ outdir });
  build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch {
    // the report says what failed
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as ValidationReport;
  const [nag] = report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
  return { open: nag.violations.map((v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`), report };
}
