// Apollo Federation: @apollo/gateway (IntrospectAndCompose) composes this API (BASE_URL) with a
// small reviews subgraph that extends Article, then runs queries that cross both ways:
//   content → reviews: an article with its reviews (the gateway calls the reviews subgraph's
//     _entities with our Article ids);
//   reviews → content: the reviews subgraph's top article, completed with title, author and
//     tags by our _entities.
import { ApolloGateway, IntrospectAndCompose } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import gql from 'graphql-tag';

const base = process.env.BASE_URL ?? 'http://127.0.0.1:8000';
const slug = 'woshipm-6183097';

async function ours(query, variables = {}) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`content API: ${JSON.stringify(body.errors)}`);
  return body.data;
}

function check(cond, message) {
  if (!cond) {
    console.error(`FAIL ${message}`);
    process.exit(1);
  }
  console.log(`ok   ${message}`);
}

// The sample article, read straight from the content API, is what the gateway must return.
const expected = (
  await ours(
    'query($s: String) { article(slug: $s) { id title author { name } tags { name } } }',
    { s: slug },
  )
).article;

const reviews = {
  [expected.id]: [
    { rating: 5, comment: '分析到位' },
    { rating: 4, comment: 'Clear and well sourced' },
  ],
};

const reviewsServer = new ApolloServer({
  schema: buildSubgraphSchema({
    typeDefs: gql`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

      type Article @key(fields: "id") {
        id: ID!
        reviews: [Review!]!
      }

      type Review {
        rating: Int!
        comment: String!
      }

      type Query {
        topReviewed: Article
      }
    `,
    resolvers: {
      Query: { topReviewed: () => ({ __typename: 'Article', id: expected.id }) },
      Article: {
        __resolveReference: (ref) => ({ id: ref.id }),
        reviews: (article) => reviews[article.id] ?? [],
      },
    },
  }),
});
const { url: reviewsUrl } = await startStandaloneServer(reviewsServer, { listen: { port: 0 } });

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: 'content', url: `${base}/graphql` },
      { name: 'reviews', url: reviewsUrl },
    ],
  }),
});
const gatewayServer = new ApolloServer({ gateway });
const { url: gatewayUrl } = await startStandaloneServer(gatewayServer, { listen: { port: 0 } });
console.log('ok   the gateway composed the content and reviews subgraphs');

async function viaGateway(query, variables = {}) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

try {
  const down = await viaGateway(
    'query($s: String) { article(slug: $s) { title author { name } reviews { rating comment } } }',
    { s: slug },
  );
  check(!down.errors, `content → reviews has no errors ${JSON.stringify(down.errors ?? '')}`);
  check(down.data.article.title === expected.title, 'content → reviews: title from the content API');
  check(
    down.data.article.author.name === expected.author.name,
    'content → reviews: author from the content API',
  );
  check(
    JSON.stringify(down.data.article.reviews) === JSON.stringify(reviews[expected.id]),
    'content → reviews: reviews from the reviews subgraph',
  );

  const up = await viaGateway('{ topReviewed { id title author { name } tags { name } } }');
  check(!up.errors, `reviews → content has no errors ${JSON.stringify(up.errors ?? '')}`);
  check(
    up.data.topReviewed.title === expected.title,
    'reviews → content: _entities resolved the title',
  );
  check(
    JSON.stringify(up.data.topReviewed.tags) === JSON.stringify(expected.tags),
    'reviews → content: _entities resolved the tags',
  );
  console.log('federation: all passed');
} finally {
  await gatewayServer.stop();
  await reviewsServer.stop();
}
