/**
 * `npx imported-kms-key <command>`: the operator's side of offline wrapping (docs/offline-wrapping.md).
 * Bundled by scripts/bundle-cli.mjs into assets/cli/index.js, the package's "bin": the package
 * gains no runtime dependency. Exit codes: see EXIT in output.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT, fail } from './output';
import { parameters } from './parameters';
import { keyStatus } from './key-status';
import { status } from './status';
import { upload } from './upload';
import { verify, type VerifyOptions } from './verify';

const EXIT_CODES = `
Exit codes: 0 done, 1 refused (by this CLI or the handler) or import failed, 2 usage error,
3 AWS or S3 error, 4 no result within --wait (status and verify: see their --help).`;
const STATUS_EXIT_CODES = `
Exit codes: 0 no key needs attention, 1 a key needs attention (PendingImport, PendingDeletion, material
expiring within --warn-days, a refused offline import), 2 usage error, 3 AWS or S3 error.`;
const VERIFY_EXIT_CODES = `
Exit codes: 0 match, 1 mismatch (or the key is not Enabled, so nothing could be checked), 2 usage error,
3 AWS error.`;

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

  root.command('status')
    .summary('Every imported key of a stack or account, or one key: state, expiration, KeyMaterialId, mode, last import result.')
    .description('Every imported key of a stack (--stack) or of the account in the Region (--all), or one key (--key): '
      + 'state, expiration, ValidTo and days left, current KeyMaterialId, aliases, mode, and for offline wrapping its '
      + "bucket's freshest set and last import result (needs KMS read access). With --bucket and --key: what the bucket says "
      + 'about one key (S3 only, no KMS: for operators).')
    .option('--stack <name>', 'the keys of this CloudFormation stack (its AWS::KMS::Key, AWS::KMS::ReplicaKey and import resources)')
    .option('--all', 'every key with imported material (Origin EXTERNAL) of the account in the Region', false)
    .option('--key <arn>', "one key (an ARN, alias or key id); with --bucket, the bucket's view only")
    .option('--bucket <name>', "the parameter bucket, for offline keys whose tags do not name one; with --key: S3 only")
    .option('--region <region>', 'AWS Region (default: the SDK\'s, or the key ARN\'s)')
    .option('--warn-days <n>', 'a key whose material expires within this many days needs attention', number('--warn-days', 0), 30)
    .option('--json', 'print one JSON object instead of text', false)
    .addHelpText('after', STATUS_EXIT_CODES)
    .action(async (o: { stack?: string; all: boolean; key?: string; bucket?: string; region?: string; warnDays: number; json: boolean }) => (
      o.bucket && o.key && !o.stack && !o.all ? status({ bucket: o.bucket, key: o.key, region: o.region, json: o.json }) : keyStatus(o)));

  root.command('verify')
    .summary("Check that a key holds the HSM's material: public key (asymmetric), known-answer MAC (HMAC).")
    .description('Check that a key holds the HSM\'s material (needs KMS access to the key). Asymmetric: kms:GetPublicKey equals --public-key. '
      + 'HMAC: kms:VerifyMac accepts the MAC the HSM computed over the message (a known-answer test). SYMMETRIC_DEFAULT: no '
      + 'known-answer test exists (KMS\'s ciphertext format cannot be reproduced outside KMS): an Encrypt/Decrypt round trip, '
      + 'and the current KeyMaterialId compared with --key-material-id.')
    .requiredOption('--key <arn>', 'the key (an ARN, alias or key id)')
    .option('--region <region>', 'AWS Region (default: the SDK\'s, or the key ARN\'s)')
    .option('--public-key <file>', "asymmetric keys: the HSM's public key, PEM or DER SubjectPublicKeyInfo")
    .option('--message <text>', 'HMAC keys: the message the HSM MACed (UTF-8)')
    .option('--message-file <path>', 'HMAC keys: the message the HSM MACed (bytes)')
    .option('--mac <hex|base64>', "HMAC keys: the HSM's MAC (HMAC-SHA-<bits> of the key spec)")
    .option('--mac-file <path>', "HMAC keys: the HSM's MAC, raw bytes, hex or base64")
    .option('--key-material-id <id>', 'SYMMETRIC_DEFAULT keys: the KeyMaterialId you expect (from the import\'s result)')
    .option('--json', 'print one JSON object instead of text', false)
    .addHelpText('after', VERIFY_EXIT_CODES)
    .action(async (o: VerifyOptions) => verify(o));
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
