/**
 * `npx imported-kms-key <command>`: the operator's side of offline wrapping (docs/offline-wrapping.md).
 * Bundled by scripts/bundle-cli.mjs into assets/cli/index.js, the package's "bin": the package
 * gains no runtime dependency. Exit codes: see EXIT in output.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT, fail } from './output';
import { parameters } from './parameters';
import { status } from './status';
import { upload } from './upload';

const EXIT_CODES = `
Exit codes: 0 done, 1 refused (by this CLI or the handler) or import failed, 2 usage error,
3 AWS or S3 error, 4 no result within --wait.`;

function number(name: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`${name} must be a number, at least ${min}.`);
    return n;
  };
}

function program(): Command {
  const root = new Command('imported-kms-key')
    .description('Operator CLI for ImportedKmsKey offline wrapping: fetch an import-parameter set, wrap in your HSM, upload.')
    .configureHelp({ helpWidth: 100 })
    .exitOverride()
    .showHelpAfterError(false)
    .addHelpText('after', EXIT_CODES);
  const common = (command: Command): Command => command
    .requiredOption('--bucket <name>', "the parameter bucket (the key's parameterBucket: the stack's, or yours)")
    .requiredOption('--key <arn>', "the key's ARN (an alias or key id needs --region and kms:DescribeKey)")
    .option('--region <region>', "AWS Region (default: the key ARN's)")
    .option('--json', 'print one JSON object instead of text', false)
    .addHelpText('after', EXIT_CODES);

  common(root.command('parameters')
    .description('Download the freshest complete import-parameter set of a key, verify it against its manifest, '
      + 'request a fresh one when it runs short, and print the wrap recipe for openssl, AWS CloudHSM and YubiHSM.'))
    .option('--out <dir>', 'folder to write the set to', '.')
    .option('--min-hours <n>', 'request a fresh set when fewer hours than this remain', number('--min-hours', 0), 2)
    .option('--wait <seconds>', "after a request, how long to wait for the handler's answer (and download the set it names); 0 does not wait", number('--wait', 0), 0)
    .option('--set <name>', 'take this set (one material of a rotated key), not the freshest')
    .addOption(new Option('--interval <seconds>', 'seconds between polls of the answer').default(2).argParser(number('--interval', 0.1)).hideHelp())
    .action(async (o: { bucket: string; key: string; region?: string; out: string; minHours: number; set?: string; wait: number; interval: number; json: boolean }) => parameters(o));

  common(root.command('upload')
    .description("Check a wrapped blob against its parameter set, upload it, and wait for the handler's result."))
    .requiredOption('--file <path>', 'the blob the HSM wrote (binary)')
    .option('--set <name>', 'the parameter set it was wrapped for (default: the freshest complete one)')
    .option('--wait <seconds>', 'how long to wait for the result; 0 uploads without waiting', number('--wait', 0), 300)
    .addOption(new Option('--interval <seconds>', 'seconds between polls of the result').default(5).argParser(number('--interval', 0.1)).hideHelp())
    .action(async (o: { bucket: string; key: string; file: string; set?: string; region?: string; wait: number; interval: number; json: boolean }) => upload(o));

  common(root.command('status')
    .description("What the bucket says about a key: its parameter sets and the hours left, uploads, refresh requests, the handler's last result (S3 only, no KMS)."))
    .action(async (o: { bucket: string; key: string; region?: string; json: boolean }) => status(o));
  return root;
}

async function main(argv: string[]): Promise<void> {
  // The SDK is bundled at a pinned version: its warning about the Node.js versions future SDK
  // releases will need says nothing about this CLI (which supports the package's engines).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const json = argv.includes('--json');
  try {
    await program().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end 0; every other parse failure is a usage error (commander printed it).
      process.exitCode = ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code) ? EXIT.OK : EXIT.USAGE;
      return;
    }
    fail(json, error instanceof CliError ? error : new CliError(`unexpected error (${(error as Error).name}: ${(error as Error).message}).`, EXIT.AWS));
  }
}

void main(process.argv);
