/**
 * `npm run bench`: every figure is a ratio against a baseline measured in this same run.
 * Prints a table and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { cpus, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { startEmulators } from '../tools/emulators';
import { benchColdStart } from './cold-start';
import { benchImportPath } from './import-path';
import { benchSynthScaling } from './synth-scaling';

async function main() {
  const emulators = await startEmulators();
  let importPath;
  try {
    importPath = await benchImportPath(emulators);
  } finally {
    await emulators.stop();
  }
  const synth = await benchSynthScaling();
  const coldStart = benchColdStart();
  const results = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}`, node: process.version },
    emulators: 'local-kms v0.0.0-20260228092603-2a5e92d09ab6 (KMS), moto 5.2.5 (Secrets Manager), on 127.0.0.1',
    ...importPath,
    ...synth,
    ...coldStart,
  };
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

  const ip = results.importPath;
  const cs = results.coldStart;
  const n100 = results.synth.find((r) => r.keys === 100)!;
  console.log('\nbenchmark                          | measured                                   | target');
  console.log('-----------------------------------|--------------------------------------------|----------------');
  console.log(`import path: handler / confirmed   | ${ip.ratio} (${ip.handlerMedianMs} ms / ${ip.minimalSequenceMedianMs} ms, median of ${ip.runs}) | <= 1.10`);
  const { perCreate, perUpdate, perConvergedUpdate } = results.apiCalls;
  console.log(`API calls per Create / Update      | ${perCreate.total} / ${perUpdate.total} ${JSON.stringify(perCreate.byOperation)} | 5 / 5`);
  console.log(`API calls per Update, nothing to do | ${perConvergedUpdate.total} ${JSON.stringify(perConvergedUpdate.byOperation)} | no ImportKeyMaterial`);
  for (const r of results.synth) {
    console.log(`synth N=${String(r.keys).padEnd(3)} time / bytes ratio     | ${r.synthTimeRatio} / ${r.templateBytesRatio} (${r.importedSynthMs} vs ${r.plainSynthMs} ms; ${r.lambdaFunctions} functions, ${r.resources} resources) | ${r.keys === 100 ? '<= 2.0 / <= 2.0' : ''}`);
  }
  console.log(`limits at N=200                    | ${JSON.stringify(results.limitsAtLargestN)} | under limits`);
  console.log(`bundle size                        | ${(cs.bundleBytes / 1024).toFixed(0)} KB | <= 600 KB`);
  console.log(`cold load: bundle / SDK only       | ${cs.ratio} (${cs.bundleLoadMedianMs} ms / ${cs.sdkOnlyLoadMedianMs} ms) | <= 1.2`);
  console.log(`50 concurrent Creates              | ${results.concurrency.succeeded}/50 ok, ${results.concurrency.createsPerSecond} creates/s | all succeed`);
  console.log(`\nN=100 synth ratio ${n100.synthTimeRatio}, bytes ratio ${n100.templateBytesRatio}; wrote bench/results.json`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
