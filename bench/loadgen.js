// The ingest bench's load generator (bench/scaleout_bench.py): signed deliveries at a fixed rate,
// open loop (a late answer never delays the schedule), each answer's latency recorded.
// In Node, so the generator is not the bottleneck: a Python client (httpx) spent more CPU per
// request than the server it measured, on the same 2 cores.
//
//   node bench/loadgen.js < spec.json
//   spec: {"url", "rate", "duration", "warmup", "headers", "body_b64"}; prints {"latencies": [s], "statuses": {code: n}}
// The first `warmup` seconds of load are sent on the same schedule and not recorded: a server's
// first answers open its connections (to Redis, its pool growing with the load) and run code
// paths for the first time, which says nothing of how it answers under a steady load.
'use strict';
const http = require('http');
const crypto = require('crypto');

function run(spec) {
  const url = new URL(spec.url);
  const body = Buffer.from(spec.body_b64, 'base64');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const warmup = Math.round(spec.rate * (spec.warmup || 0));
  const total = warmup + Math.round(spec.rate * spec.duration);
  const latencies = [];
  const statuses = {};
  const now = () => Number(process.hrtime.bigint()) / 1e9;
  const start = now() + 0.2;
  let sent = 0;
  let answered = 0;

  function record(t, code, measured) {
    if (measured) {
      latencies.push(now() - t);
      statuses[code] = (statuses[code] || 0) + 1;
    }
    if (++answered === total) {
      agent.destroy();
      process.stdout.write(JSON.stringify({ latencies, statuses }) + '\n');
    }
  }

  function fire() {
    const headers = Object.assign({}, spec.headers, {
      'X-GitHub-Delivery': crypto.randomUUID(), 'Content-Length': body.length,
    });
    const t = now();
    const measured = sent > warmup;
    let done = false;
    const once = (code) => { if (!done) { done = true; record(t, code, measured); } };
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers, agent },
      (response) => { response.resume(); response.on('end', () => once(response.statusCode)); });
    request.on('error', () => once(0));
    request.setTimeout(10000, () => request.destroy());
    request.end(body);
  }

  function tick() {
    const due = Math.min(total, Math.floor((now() - start) * spec.rate) + 1);
    while (sent < due) { sent++; fire(); }
    if (sent < total) setTimeout(tick, 1);
  }
  if (total === 0) { process.stdout.write(JSON.stringify({ latencies, statuses }) + '\n'); return; }
  setTimeout(tick, Math.max(0, (start - now()) * 1000));
}

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => run(JSON.parse(input)));
