import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentExecution } from '../src/workflows/agent-execution.js';
import { ConfigError, loadConfig } from '../src/config/config.js';

import type { CodecKey } from '../src/config/codec-keys.js';
import { ENCRYPTED_ENCODING, EncryptionCodec, METADATA_KEY_ID } from '../src/payload-codec/encryption-codec.js';
import { payloadFromJson, payloadToJson, type JsonPayload } from '../src/payload-codec/payload-json.js';
import { protoText } from './support/history-text.js';
import { startHarness, type Harness } from './support/lifeline-harness.js';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.js';

const newKey = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const keysEnv = (keys: CodecKey[]) => keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');
const toPayload = (value: unknown) => defaultPayloadConverter.toPayload(value);
const metadataText = (payload: Payload, key: string) => Buffer.from(payload.metadata?.[key] ?? []).toString();

describe('the AES-256-GCM payload codec', () => {
  it('round-trips payloads and hides their content and original encoding', async () => {
    const codec = new EncryptionCodec([newKey('k1')]);
    const original = toPayload({ prompt: 'summarise the quarterly numbers' });
    const [encrypted] = await codec.encode([original]);
    expect(metadataText(encrypted!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(metadataText(encrypted!, METADATA_KEY_ID)).toBe('k1');
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('quarterly');
    expect(Buffer.from(encrypted!.data!).toString('latin1')).not.toContain('json/plain');
    const [decoded] = await codec.decode([encrypted!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ prompt: 'summarise the quarterly numbers' });
  });

  it('decodes payloads of an older key after a new key is put first, and encrypts with the new one', async () => {
    const old = newKey('2025-01');
    const encryptedBefore = await new EncryptionCodec([old]).encode([toPayload('written before rotation')]);
    const rotated = new EncryptionCodec([newKey('2025-06'), old]);
    const [decoded] = await rotated.decode(encryptedBefore);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toBe('written before rotation');
    const [fresh] = await rotated.encode([toPayload('written after rotation')]);
    expect(metadataText(fresh!, METADATA_KEY_ID)).toBe('2025-06');
  });

  it('rejects a tampered ciphertext and a relabelled key id', async () => {
    const a = newKey('a');
    const codec = new EncryptionCodec([a, { id: 'b', key: a.key }]);
    const [encrypted] = await codec.encode([toPayload('do not alter me')]);
    const data = Buffer.from(encrypted!.data!);
    data[20] = data[20]! ^ 0x01;
    await expect(codec.decode([{ ...encrypted!, data }])).rejects.toThrow(/key id "a".*failed authentication/);
    const relabelled = { ...encrypted!, metadata: { ...encrypted!.metadata, [METADATA_KEY_ID]: Buffer.from('b') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/key id "b".*failed authentication/);
  });

  it('names an unknown key id and the configured ones', async () => {
    const encrypted = await new EncryptionCodec([newKey('retired')]).encode([toPayload('x')]);
    await expect(new EncryptionCodec([newKey('current')]).decode(encrypted)).rejects.toThrow(
      'a payload is encrypted with key id "retired", which is not among the configured keys (current)',
    );
  });

  it('passes unencrypted payloads through decode, so histories from before encryption stay readable', async () => {
    const plain = toPayload('older history');
    expect(await new EncryptionCodec([newKey('k')]).decode([plain])).toEqual([plain]);
  });
});

describe('codec configuration', () => {
  const good = keysEnv([newKey('k1')]);

  it.each([
    ['no key id', 'bm90IGEga2V5'],
    ['a key that is not base64', 'k1:not*base64!'],
    ['a 16-byte key', `k1:${randomBytes(16).toString('base64')}`],
    ['a repeated key id', `${good},${good}`],
  ])('rejects %s with a ConfigError naming LIFELINE_CODEC_KEYS and the requirement', (_case, value) => {
    const load = () => loadConfig({ LIFELINE_CODEC_KEYS: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/LIFELINE_CODEC_KEYS.*exactly 32 bytes in standard base64/);
  });

  it('never echoes key material in the error', () => {
    const secret = randomBytes(16).toString('base64');
    expect(() => loadConfig({ LIFELINE_CODEC_KEYS: `k1:${secret}` })).toThrow(/key "k1" decodes to 16 bytes, not 32/);
    try {
      loadConfig({ LIFELINE_CODEC_KEYS: `k1:${secret}` });
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  it('reads keys in order, treats an empty value as off, and wants keys for a codec port', () => {
    const two = [newKey('new'), newKey('old')];
    expect(loadConfig({ LIFELINE_CODEC_KEYS: keysEnv(two) }).codec.keys).toEqual(two);
    expect(loadConfig({ LIFELINE_CODEC_KEYS: '' }).codec.keys).toBeUndefined();
    expect(() => loadConfig({ LIFELINE_CODEC_PORT: '8888' })).toThrow(/LIFELINE_CODEC_PORT.*needs LIFELINE_CODEC_KEYS/);
  });

  it('listens on loopback by default, and beyond it serves decrypted payloads only with a token or on purpose', () => {
    const codec = { LIFELINE_CODEC_KEYS: keysEnv([newKey('k')]), LIFELINE_CODEC_PORT: '8888' };
    expect(loadConfig(codec).listenHost).toBe('127.0.0.1');
    const open = { ...codec, LIFELINE_LISTEN_HOST: '0.0.0.0' };
    expect(() => loadConfig(open)).toThrow(/LIFELINE_CODEC_AUTH_TOKEN: .*0\.0\.0\.0.*LIFELINE_CODEC_ALLOW_UNAUTHENTICATED=true/);
    expect(loadConfig({ ...open, LIFELINE_CODEC_AUTH_TOKEN: 'secret' }).listenHost).toBe('0.0.0.0');
    expect(loadConfig({ ...open, LIFELINE_CODEC_ALLOW_UNAUTHENTICATED: 'true' }).listenHost).toBe('0.0.0.0');
    expect(() => loadConfig({ ...open, LIFELINE_CODEC_ALLOW_UNAUTHENTICATED: 'yes' })).toThrow(/must be true or false/);
  });
});

describe('a worker and client with the codec on', () => {
  const keys = [newKey('primary')];
  const authToken = randomBytes(12).toString('hex');
  // Temporal Cloud's UI, as a deployment configures it for its codec endpoint.
  const uiOrigin = 'https://cloud.temporal.io';
  let h: Harness;
  let worker: WorkerProcess;
  let codecUrl: string;

  beforeAll(async () => {
    h = await startHarness({ agents: { demo: {} }, worker: false, codec: new EncryptionCodec(keys) });
    const codecPort = await getPort();
    worker = await startWorkerProcess(h, `codec-${h.taskQueue}`, {
      LIFELINE_CODEC_KEYS: keysEnv(keys),
      LIFELINE_CODEC_PORT: String(codecPort),
      LIFELINE_CODEC_AUTH_TOKEN: authToken,
      LIFELINE_CODEC_CORS_ORIGINS: uiOrigin,
      LIFELINE_CODEC_ALLOWED_HOSTS: 'codec.internal',
      LIFELINE_METRICS_PORT: '0',
    });
    codecUrl = `http://127.0.0.1:${codecPort}`;
  });
  afterAll(async () => {
    await worker?.kill('SIGTERM');
    await h?.close();
  });

  const codecRequest = (path: string, payloads: JsonPayload[], headers: Record<string, string> = {}) =>
    fetch(`${codecUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': h.namespace, authorization: `Bearer ${authToken}`, ...headers },
      body: JSON.stringify({ payloads }),
    });

  it('keeps the prompt out of the stored history, runs the execution, and decodes it through the codec endpoint', async () => {
    const marker = `confidential-${randomBytes(6).toString('hex')}`;
    const { executionId } = await h.client.startExecution({ agent: h.agent('demo'), prompt: `succeed 0 ${marker}` });
    const row = await h.client.waitForExecution(executionId, 60_000);
    expect(row.status).toBe('succeeded');
    expect(row.output).toContain(marker);

    const withoutCodec = new Client({ connection: h.temporal.connection, namespace: h.namespace });
    const history = await withoutCodec.workflow.getHandle(executionId).fetchHistory();
    const stored = protoText(history);
    expect(stored).toContain(ENCRYPTED_ENCODING);
    expect(stored).not.toContain(marker);

    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    expect(input).toHaveLength(1);
    const res = await codecRequest(`/${h.namespace}/decode`, input.map(payloadToJson), { origin: uiOrigin });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const { payloads } = (await res.json()) as { payloads: JsonPayload[] };
    const decoded = defaultPayloadConverter.fromPayload<{ prompt: string }>(payloadFromJson(payloads[0]!));
    expect(decoded.prompt).toBe(`succeed 0 ${marker}`);
  });

  it('keeps failure messages out of the stored history too, and the client still reads them', async () => {
    const unknownAgent = `unknown-${randomBytes(6).toString('hex')}`;
    // Started directly, as any service could: the worker's admission names the unknown agent in its failure.
    const handle = await h.temporal.workflow.start(agentExecution, {
      taskQueue: h.taskQueue,
      workflowId: `codec-failure-${randomBytes(4).toString('hex')}`,
      args: [{ agent: unknownAgent, prompt: 'succeed 0', busyPolicy: 'skip', trigger: 'api' }],
    });
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const messages: string[] = [];
    for (let err: unknown = failure; err instanceof Error; err = err.cause) messages.push(err.message);
    expect(messages.join(' / ')).toContain(`unknown agent "${unknownAgent}"`);

    // The agent name is also a search attribute, which is never encrypted: look at the failures alone.
    const withoutCodec = new Client({ connection: h.temporal.connection, namespace: h.namespace });
    const events = (await withoutCodec.workflow.getHandle(handle.workflowId).fetchHistory()).events ?? [];
    const failures = events.flatMap((e) => [e.markerRecordedEventAttributes?.failure, e.workflowExecutionFailedEventAttributes?.failure]);
    const stored = failures.filter((f) => f);
    expect(stored.length).toBeGreaterThanOrEqual(2);
    expect(protoText(stored)).toContain('Encoded failure');
    expect(protoText(stored)).not.toContain(unknownAgent);
  });

  it('encodes through the endpoint with the first key', async () => {
    const res = await codecRequest('/encode', [payloadToJson(toPayload('typed into the UI'))]);
    expect(res.status).toBe(200);
    const { payloads } = (await res.json()) as { payloads: JsonPayload[] };
    const encoded = payloadFromJson(payloads[0]!);
    expect(metadataText(encoded, METADATA_KEY_ID)).toBe('primary');
    const [decoded] = await new EncryptionCodec(keys).decode([encoded]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toBe('typed into the UI');
  });

  it('refuses requests without the bearer token and answers CORS preflights for the UI origin only', async () => {
    const encrypted = await new EncryptionCodec(keys).encode([toPayload('x')]);
    const unauthorised = await codecRequest('/decode', encrypted.map(payloadToJson), { authorization: 'Bearer wrong' });
    expect(unauthorised.status).toBe(401);

    // As a browser asks when a public UI (Temporal Cloud's) calls a codec on a private address.
    const preflight = (origin: string) =>
      fetch(`${codecUrl}/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace,authorization',
          'access-control-request-private-network': 'true',
        },
      });
    const fromUi = await preflight(uiOrigin);
    expect(fromUi.status).toBe(204);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(fromUi.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    expect(fromUi.headers.get('access-control-allow-private-network')).toBe('true');
    const fromElsewhere = await preflight('http://evil.example');
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect(fromElsewhere.headers.get('access-control-allow-private-network')).toBeNull();
  });

  it('answers only requests that name it: a rebound name (DNS rebinding) gets nothing', async () => {
    const encrypted = (await new EncryptionCodec(keys).encode([toPayload('secret prompt')])).map(payloadToJson);
    // fetch will not send another Host: a raw request does, as a browser on a rebound name would.
    const decodeAs = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const body = JSON.stringify({ payloads: encrypted });
        const req = httpRequest(`${codecUrl}/decode`, {
          method: 'POST',
          headers: { host, 'content-type': 'application/json', authorization: `Bearer ${authToken}` },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const rebound = await decodeAs('evil.example:8888');
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain(Buffer.from(JSON.stringify('secret prompt')).toString('base64'));
    expect(rebound.body).toContain('LIFELINE_CODEC_ALLOWED_HOSTS');
    for (const host of ['127.0.0.1:8888', 'localhost:8888', '[::1]:8888', 'codec.internal', 'CODEC.INTERNAL:443']) {
      expect((await decodeAs(host)).status, host).toBe(200);
    }
  });

  it('answers a malformed body with 400', async () => {
    const res = await fetch(`${codecUrl}/decode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${authToken}` },
      body: '{"payloads": "nope"}',
    });
    expect(res.status).toBe(400);
  });
});
