// What every app in another jsii language (Python, Go) must synthesize with the packaged library: an
// EXTERNAL key, an import custom resource that names the secret but holds no material, the alias, the
// grant, and the handler asset byte-identical to the pre-built bundle.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CfnResources, CfnTemplate } from '../../tools/template';

const root = resolve(__dirname, '..', '..');

/** KMS takes a ValidTo at most 365 days ahead: 180 days from now, in whole seconds. */
export const validTo = new Date(Math.floor(Date.now() / 1000) * 1000 + 180 * 86_400_000).toISOString().replace('.000Z', 'Z');

/** The tests, on the app a `beforeAll` synthesized into `synthesized().outdir` as stack `stack`. */
export function testSynthesizedApp(language: string, stack: string, synthesized: () => { outdir: string }): void {
  const resources = (): CfnResources => (JSON.parse(readFileSync(join(synthesized().outdir, `${stack}.template.json`), 'utf8')) as CfnTemplate).Resources;
  const ofType = (type: string) => Object.values(resources()).filter((r) => r.Type === type);

  test(`the ${language} app gets an EXTERNAL key, an import custom resource without material, an alias and a grant`, () => {
    const [key] = ofType('AWS::KMS::Key');
    expect(key.Properties).toMatchObject({ Origin: 'EXTERNAL' });
    const [imp] = ofType('Custom::ImportedKmsKeyMaterial');
    expect(imp.Properties).toMatchObject({ ValidTo: validTo });
    expect(imp.Properties.SecretId).toBeDefined();
    // The material itself never reaches the template: only references to where it is.
    expect(Object.keys(imp.Properties)).not.toEqual(expect.arrayContaining(['Material', 'KeyMaterial', 'SecretString']));
    expect(ofType('AWS::KMS::Alias').map((r) => r.Properties.AliasName)).toEqual(['alias/payments']);
    const grants = ofType('AWS::IAM::Policy').filter((p) => JSON.stringify(p.Properties).includes('kms:Encrypt'));
    expect(grants).toHaveLength(1);
    expect(JSON.stringify(grants[0].Properties)).toContain('kms:Decrypt');
  });

  test(`the handler asset the ${language} app synthesizes is the pre-built bundle, byte for byte`, () => {
    const { outdir } = synthesized();
    const bundle = readFileSync(join(root, 'assets', 'import-handler', 'index.js'));
    const shipped = readdirSync(outdir).filter((f) => f.startsWith('asset.') && existsSync(join(outdir, f, 'index.js')))
      .filter((f) => readFileSync(join(outdir, f, 'index.js')).equals(bundle));
    expect(shipped).toHaveLength(1);
  });
}
