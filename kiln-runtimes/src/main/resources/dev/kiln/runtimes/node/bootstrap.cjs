// Kiln's bootstrap for Node.js functions: the Lambda Runtime API client.
//
// It loads the handler named by _HANDLER from LAMBDA_TASK_ROOT (CommonJS or ES module), then
// loops: take the next event (GET /next blocks), call the handler with the event and a context,
// and post the result or the error document, as AWS's Node.js runtime does: the same handler
// strings, context, console format, error documents and init error types. Standard library only;
// one keep-alive connection for all requests.
//
// A CommonJS script rather than an ES module: as the entry point, an ES module makes Node.js 20
// start its ES module loader before the first line runs, 17 ms of a 140 ms start here (BENCHMARKS.md,
// "Node.js snapshot and JDK AOT cache"); a CommonJS handler then never pays for it, and an ES
// module handler pays it at its import(), as before.

'use strict';

const http = require('node:http');
const { Writable } = require('node:stream');
const fs = require('node:fs');
const path = require('node:path');
const util = require('node:util');
const nodeModule = require('node:module');
const { createRequire } = nodeModule;
const { pathToFileURL } = require('node:url');

const [host, port] = (() => {
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
})();
const BASE = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, method, path: urlPath, agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function post(urlPath, doc, headers = {}) {
  const body = Buffer.from(doc);
  return request('POST', urlPath, body, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...headers });
}

// ---- console, as Lambda formats it --------------------------------------------------------

let currentRequestId;
const jsonLogs = process.env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const minLevel = LEVELS.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || 'TRACE').toUpperCase());

function patchConsole() {
  const write = (level, args) => {
    if (LEVELS.indexOf(level) < minLevel) return;
    const time = new Date().toISOString();
    let line;
    if (jsonLogs) {
      line = JSON.stringify({ timestamp: time, level, requestId: currentRequestId, message: util.format(...args) });
    } else {
      line = `${time}\t${currentRequestId}\t${level}\t${util.format(...args)}`.replace(/\n/g, '\r');
    }
    process.stdout.write(line + '\n');
  };
  console.log = (...a) => write('INFO', a);
  console.info = (...a) => write('INFO', a);
  console.warn = (...a) => write('WARN', a);
  console.error = (...a) => write('ERROR', a);
  console.debug = (...a) => write('DEBUG', a);
  console.trace = (...a) => write('TRACE', a);
  console.fatal = (...a) => write('FATAL', a);
}

// ---- errors --------------------------------------------------------------------------------

function errorDoc(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      trace: (err.stack || '').split('\n'),
    };
  }
  return { errorType: typeof err === 'string' ? 'string' : typeof err, errorMessage: typeof err === 'string' ? err : JSON.stringify(err), trace: [] };
}

class InitError extends Error {
  constructor(type, message, cause) {
    super(message);
    this.name = type;
    if (cause && cause.stack) this.stack = `${type}: ${message}\n` + cause.stack.split('\n').slice(1).join('\n');
  }
}

// ---- loading the handler -------------------------------------------------------------------

function moduleType(dir, root) {
  let d = dir;
  while (true) {
    const pkg = path.join(d, 'package.json');
    if (fs.existsSync(pkg)) {
      try { return JSON.parse(fs.readFileSync(pkg, 'utf8')).type === 'module' ? 'module' : 'commonjs'; } catch { return 'commonjs'; }
    }
    if (d === root || d === path.dirname(d)) return 'commonjs';
    d = path.dirname(d);
  }
}

// ES modules ignore NODE_PATH, yet on Lambda (Node.js 18 and later) an `import` of a package that
// only the runtime or a layer has works: the AWS SDK for JavaScript at /var/runtime/node_modules, a
// layer's nodejs/node_modules or nodejs/nodeNN/node_modules. Kiln's resolve hook does the same:
// when Node's own resolution finds nothing, it tries again from each NODE_PATH directory, in order.
//
// A loader hook costs a worker thread at start-up (40 ms on Node.js 20), so it is registered only
// where an `import` may need it: before an ES module handler is imported, and when a layer has a
// nodejs/ directory. A CommonJS handler's `require` reads NODE_PATH itself and pays nothing.
// (Registering it only once an import has failed, and importing again, would run twice any module
// that ran before a top-level `await import()` failed.)
let nodePathHook = false;

function registerNodePathHook() {
  if (nodePathHook || typeof nodeModule.register !== 'function') return;
  nodePathHook = true;
  const dirs = (process.env.NODE_PATH || '').split(':')
    .filter((d) => d && fs.existsSync(d))
    .map((d) => pathToFileURL(d + '/').href);
  const hooks = `
const dirs = ${JSON.stringify(dirs)};
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    const bare = !specifier.startsWith('.') && !specifier.startsWith('/')
      && !/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(specifier);
    if (!bare || !e || e.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    for (const dir of dirs) {
      try { return await next(specifier, { ...context, parentURL: dir + 'index.mjs' }); } catch {}
    }
    throw e;
  }
}`;
  nodeModule.register('data:text/javascript,' + encodeURIComponent(hooks));
}

// imports an ES module handler, with NODE_PATH searched as on Lambda
async function importWithNodePath(url) {
  registerNodePathHook();
  return import(url);
}

async function loadHandler() {
  if (fs.existsSync(path.join(process.env.KILN_LAYERS_DIR || '/opt', 'nodejs'))) registerNodePathHook();
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handlerString = process.env._HANDLER || '';
  const slash = handlerString.lastIndexOf('/');
  const dirPart = handlerString.slice(0, slash + 1);
  const rest = handlerString.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot < 1 || dot === rest.length - 1) {
    throw new InitError('Runtime.MalformedHandlerName', `Bad handler ${handlerString}`);
  }
  const moduleName = dirPart + rest.slice(0, dot);
  const propertyPath = rest.slice(dot + 1).split('.');
  const base = path.resolve(root, moduleName);

  let file;
  for (const ext of ['.js', '.mjs', '.cjs']) {
    if (fs.existsSync(base + ext)) { file = base + ext; break; }
  }
  let mod;
  try {
    if (!file) {
      // let require produce Node's own "Cannot find module" message, as AWS's runtime does
      createRequire(path.join(root, 'index.js'))(base);
    }
    const esm = file.endsWith('.mjs') || (file.endsWith('.js') && moduleType(path.dirname(file), root) === 'module');
    if (esm) {
      mod = await importWithNodePath(pathToFileURL(file).href);
    } else {
      try {
        mod = createRequire(file)(file);
      } catch (e) {
        if (e && e.code === 'ERR_REQUIRE_ESM') mod = await importWithNodePath(pathToFileURL(file).href);
        else throw e;
      }
    }
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new InitError('Runtime.UserCodeSyntaxError', `${e.name}: ${e.message}`, e);
    }
    if (e && (e.code === 'MODULE_NOT_FOUND' || e.code === 'ERR_MODULE_NOT_FOUND')) {
      throw new InitError('Runtime.ImportModuleError', `Error: ${e.message}`, e);
    }
    throw e;
  }
  let fn = mod;
  for (const p of propertyPath) fn = fn == null ? undefined : fn[p];
  if (fn === undefined && mod && mod.default) {
    fn = mod.default;
    for (const p of propertyPath) fn = fn == null ? undefined : fn[p];
  }
  if (typeof fn !== 'function') {
    throw new InitError('Runtime.HandlerNotFound', `${rest} is undefined or not exported`);
  }
  return fn;
}

// ---- response streaming, as Lambda's Node.js runtime offers it ----------------------------

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const HTTP_PRELUDE_TYPE = 'application/vnd.awslambda.http-integration-response';

globalThis.awslambda = {
  // the handler is called with (event, responseStream, context) and its writes are streamed
  streamifyResponse(handler, options) {
    handler[STREAMING] = 'response';
    if (options && options.highWaterMark) handler[HIGH_WATER_MARK] = options.highWaterMark;
    return handler;
  },
  HttpResponseStream: class HttpResponseStream {
    // a function URL's status and headers: the JSON prelude, then 8 NUL bytes, then the body
    static from(stream, prelude) {
      stream.setContentType(HTTP_PRELUDE_TYPE);
      const metadata = JSON.stringify(prelude);
      stream._onBeforeFirstWrite = (write) => {
        write(metadata);
        write(new Uint8Array(8));
      };
      return stream;
    }
  },
};

// The response as a Writable: the POST (streaming mode, chunked) starts with the first write, so
// that setContentType can still change its Content-Type; an error after that goes in the trailers.
function responseStream(id, highWaterMark) {
  let req;
  let contentType = 'application/octet-stream';
  let answered;
  const start = () => {
    if (req) return;
    req = http.request({
      host, port, method: 'POST', agent,
      path: `${BASE}/invocation/${id}/response`,
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        'Content-Type': contentType,
        Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
      },
    });
    answered = new Promise((resolve) => {
      req.on('response', (res) => { res.resume(); res.on('end', resolve); res.on('error', resolve); });
      req.on('error', resolve);
      req.on('close', resolve);
    });
    if (stream._onBeforeFirstWrite) {
      const hook = stream._onBeforeFirstWrite;
      stream._onBeforeFirstWrite = undefined;
      hook((bytes) => req.write(bytes));
    }
  };
  const stream = new Writable({
    highWaterMark,
    write(chunk, encoding, callback) {
      start();
      req.write(chunk, encoding, () => callback());
    },
    final(callback) {
      start();
      req.end(() => callback());
    },
  });
  stream.setContentType = (type) => { if (!req) contentType = type; };
  stream.started = () => req !== undefined;
  // a failure once bytes are out: Lambda's trailers, then the end of the body
  stream.failWith = (doc) => {
    start();
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': doc.errorType,
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(doc)).toString('base64'),
    });
    req.end();
  };
  stream.answered = () => answered || Promise.resolve();
  return stream;
}

async function invokeStreaming(handler, event, headers, id) {
  const stream = responseStream(id, handler[HIGH_WATER_MARK]);
  const context = makeContext(headers, () => {});
  try {
    await handler(event, stream, context);
    if (!stream.writableFinished) {
      if (!stream.writableEnded) stream.end();
      await new Promise((resolve) => stream.on('finish', resolve).on('error', resolve));
    }
    await stream.answered();
  } catch (e) {
    const doc = errorDoc(e == null ? new Error('undefined') : e);
    console.error('Invoke Error', JSON.stringify(doc));
    if (stream.started()) {
      stream.failWith(doc);
      await stream.answered();
    } else {
      await post(`${BASE}/invocation/${id}/error`, JSON.stringify(doc), { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' });
    }
  }
}

// ---- one invocation ------------------------------------------------------------------------

function makeContext(headers, finish) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const cc = headers['lambda-runtime-client-context'];
  const id = headers['lambda-runtime-cognito-identity'];
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: cc ? JSON.parse(cc) : undefined,
    identity: id ? JSON.parse(id) : undefined,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    succeed: (result) => finish(null, result),
    fail: (err) => finish(err == null ? new Error('handled') : err),
    done: (err, result) => finish(err, result),
  };
  return context;
}

function invoke(handler, event, headers) {
  return new Promise((resolve) => {
    let settled = false;
    let waitForLoop = true;
    const finish = (err, result, fromCallback) => {
      if (settled) return;
      settled = true;
      const outcome = err != null && err !== undefined ? { error: err } : { result };
      if (fromCallback && waitForLoop) {
        // as on AWS: a callback's result is sent once the event loop has nothing left to do
        process.once('beforeExit', () => resolve(outcome));
      } else {
        resolve(outcome);
      }
    };
    const context = makeContext(headers, (e, r) => finish(e, r, false));
    const callback = (err, result) => {
      waitForLoop = context.callbackWaitsForEmptyEventLoop;
      finish(err, result, true);
    };
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === 'function') {
        returned.then((r) => finish(null, r, false), (e) => finish(e == null ? new Error('undefined') : e, undefined, false));
      }
    } catch (e) {
      finish(e, undefined, false);
    }
  });
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    const doc = errorDoc(e);
    console.error(JSON.stringify(doc));
    await post(`${BASE}/init/error`, JSON.stringify(doc), { 'Lambda-Runtime-Function-Error-Type': doc.errorType });
    process.exit(1);
  }

  let inFlight;
  const crash = async (err) => {
    const doc = errorDoc(err);
    console.error(`Unhandled ${doc.errorType}`, doc.errorMessage);
    if (inFlight) {
      await post(`${BASE}/invocation/${inFlight}/error`, JSON.stringify(doc), { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' }).catch(() => {});
    }
    process.exit(128);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  while (true) {
    const next = await request('GET', `${BASE}/invocation/next`);
    if (next.status !== 200) process.exit(0);
    const id = next.headers['lambda-runtime-aws-request-id'];
    inFlight = id;
    currentRequestId = id;
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    else delete process.env._X_AMZN_TRACE_ID;
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
    } catch (e) {
      event = next.body.toString('utf8');
    }
    if (handler[STREAMING] === 'response') {
      await invokeStreaming(handler, event, next.headers, id);
      inFlight = undefined;
      continue;
    }
    const outcome = await invoke(handler, event, next.headers);
    if ('error' in outcome) {
      const doc = errorDoc(outcome.error);
      console.error('Invoke Error', JSON.stringify(doc));
      await post(`${BASE}/invocation/${id}/error`, JSON.stringify(doc), { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' });
    } else {
      let body;
      try {
        body = outcome.result === undefined ? 'null' : JSON.stringify(outcome.result);
      } catch (e) {
        const doc = { errorType: 'Runtime.MarshalError', errorMessage: `Unable to stringify response body: ${e.message}`, trace: [] };
        await post(`${BASE}/invocation/${id}/error`, JSON.stringify(doc), { 'Lambda-Runtime-Function-Error-Type': 'Runtime.MarshalError' });
        inFlight = undefined;
        continue;
      }
      await post(`${BASE}/invocation/${id}/response`, body);
    }
    inFlight = undefined;
  }
}

main().catch((e) => {
  process.stderr.write(`Kiln bootstrap failed: ${e && e.stack}\n`);
  process.exit(1);
});
