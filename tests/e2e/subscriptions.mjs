// Subscriptions across processes, with the `graphql-ws` client: two servers (A and B) on one
// fresh Postgres database; changes made through A reach subscribers connected to B (LISTEN/
// NOTIFY). Needs SERVER_BIN (the content-api binary) and PG_URL (a Postgres server URL without
// a database name, default postgres://postgres@127.0.0.1:5432).
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const bin = process.env.SERVER_BIN;
const pg = process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const samples = new URL('../../samples', import.meta.url).pathname;
if (!bin) throw new Error('SERVER_BIN is not set');

const database = `content_e2e_${process.pid}_${Date.now()}`;
const psql = (sql) => execFileSync('psql', [`${pg}/postgres`, '-qAtc', sql], { stdio: 'pipe' });
const env = { ...process.env, DATABASE_URL: `${pg}/${database}`, RUST_LOG: 'info' };

function check(cond, message) {
  if (!cond) throw new Error(`FAIL ${message}`);
  console.log(`ok   ${message}`);
}

/** Starts a server on a free port; resolves with its base URL once it listens. */
async function start(name) {
  const child = spawn(bin, ['serve'], { env: { ...env, BIND_ADDR: '127.0.0.1:0' } });
  let log = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${log}`)), 30000);
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const found = /serving GraphQL on (http:\/\/[^\s/]+)\/graphql/.exec(log);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${log}`)));
  });
  return { child, url };
}

/** The next value of a subscription (or its error), within a time limit. */
function nextOf(client, payload, label) {
  const values = [];
  let wake;
  let failure;
  const dispose = client.subscribe(payload, {
    next: (v) => {
      values.push(v);
      wake?.();
    },
    error: (e) => {
      failure = e;
      wake?.();
    },
    complete: () => {},
  });
  return {
    dispose,
    async next(ms = 10000) {
      if (!values.length && !failure) {
        await new Promise((resolve, reject) => {
          wake = resolve;
          setTimeout(() => reject(new Error(`${label}: nothing within ${ms} ms`)), ms);
        });
      }
      if (failure) throw new Error(`${label}: ${JSON.stringify(failure)}`);
      return values.shift();
    },
  };
}

async function post(base, query, variables, token) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

psql(`CREATE DATABASE "${database}"`);
const servers = [];
const clients = [];
try {
  execFileSync(bin, ['import', samples], { env, stdio: 'pipe' });
  const token = execFileSync(bin, ['keys', 'create', '--role', 'editor', '--name', 'e2e'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .toString()
    .trim();
  const a = await start('A');
  const b = await start('B');
  servers.push(a.child, b.child);
  console.log(`ok   two servers on database ${database}: A ${a.url}, B ${b.url}`);

  const wsUrl = (base) => `${base.replace('http', 'ws')}/graphql/ws`;
  const anonymous = createClient({ url: wsUrl(b.url), webSocketImpl: WebSocket, retryAttempts: 0 });
  const editor = createClient({
    url: wsUrl(b.url),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  clients.push(anonymous, editor);

  const published = nextOf(
    anonymous,
    { query: 'subscription { articlePublished(tagSlugs: ["deepseek"]) { title author { name } } }' },
    'articlePublished',
  );
  const author = (await post(a.url, '{ authors(first: 1) { nodes { slug name } } }')).authors.nodes[0];
  const created = (
    await post(
      a.url,
      'mutation($i: CreateArticleInput!) { createArticle(input: $i) { id } }',
      { i: { title: '跨进程订阅测试', body: '# 标题\n\n正文', authorSlug: author.slug, tagSlugs: ['deepseek'] } },
      token,
    )
  ).createArticle;

  // A draft: anonymous subscribers cannot follow it; the editor's token can.
  const hidden = nextOf(
    anonymous,
    { query: 'subscription($id: ID!) { articleUpdated(id: $id) { title } }', variables: { id: created.id } },
    'anonymous articleUpdated',
  );
  const hiddenResult = await hidden.next();
  check(
    hiddenResult.errors?.[0]?.extensions?.code === 'NOT_FOUND',
    'an anonymous subscriber cannot follow a draft',
  );
  const followed = nextOf(
    editor,
    { query: 'subscription($id: ID!) { articleUpdated(id: $id) { title status } }', variables: { id: created.id } },
    'editor articleUpdated',
  );
  await new Promise((r) => setTimeout(r, 300));

  await post(a.url, 'mutation($id: ID!) { publishArticle(id: $id) { status } }', { id: created.id }, token);
  const got = await published.next();
  check(got.data.articlePublished.title === '跨进程订阅测试', 'published through A, received on B');
  check(got.data.articlePublished.author.name === author.name, 'the subscriber read the author');
  const followedGot = await followed.next();
  check(followedGot.data.articleUpdated.status === 'PUBLISHED', 'the editor (token in connection_init) followed its draft');

  const stats = nextOf(
    anonymous,
    { query: 'subscription($id: ID!) { articleStats(id: $id) { likes } }', variables: { id: created.id } },
    'articleStats',
  );
  await new Promise((r) => setTimeout(r, 300));
  for (let i = 0; i < 3; i += 1) {
    await post(a.url, 'mutation($id: ID!) { likeArticle(id: $id) { likes } }', { id: created.id }, token);
  }
  let likes = 0;
  let messages = 0;
  while (likes < 3) {
    likes = (await stats.next()).data.articleStats.likes;
    messages += 1;
  }
  check(messages < 3, `three likes through A arrived on B coalesced (${messages} message)`);
  console.log('subscriptions: all passed');
} finally {
  for (const c of clients) await c.dispose();
  for (const s of servers) {
    s.kill('SIGTERM');
    await once(s, 'exit');
  }
  psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
}
process.exit(0);
