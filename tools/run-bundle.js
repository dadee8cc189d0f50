// Runs the synthesized handler bundle like Lambda would: `node run-bundle.js <bundle>/index.js`.
// Reads a JSON array of Provider-framework events on stdin, invokes them concurrently, and prints
// one line `RESULTS <json>`: per event, SUCCESS with the response or FAILED with the error message
// (what the Provider framework would send to CloudFormation as Reason).
const { handler } = require(process.argv[2]);

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', async () => {
  const events = JSON.parse(input);
  const results = await Promise.all(events.map((event) => handler(event).then(
    (response) => ({ status: 'SUCCESS', response }),
    (error) => ({ status: 'FAILED', reason: error.message }),
  )));
  process.stdout.write(`\nRESULTS ${JSON.stringify(results)}\n`);
});
