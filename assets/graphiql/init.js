// Mounts GraphiQL on the page served at GET /graphql; operations go to the same origin.
// A file rather than an inline script, so the page's Content-Security-Policy can be 'self'.
'use strict';

const fetcher = GraphiQL.createFetcher({ url: '/graphql' });
const root = ReactDOM.createRoot(document.getElementById('graphiql'));

// With introspection off (the production profile) the server answers `__schema` with null.
// GraphiQL would call that an invalid schema; say what it means instead, and still run queries.
const NO_INTROSPECTION =
  'Introspection is disabled on this server, so there are no docs or completion here. ' +
  'Queries still run; the schema is schema.graphql in the project repository.';

fetch('/graphql', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }),
})
  .then((response) => response.json())
  .then((result) => result?.data?.__schema != null)
  .catch(() => true) // let GraphiQL fetch the schema and report what goes wrong
  .then((introspection) => {
    const props = { fetcher, defaultEditorToolsVisibility: true };
    root.render(
      introspection
        ? React.createElement(GraphiQL, props)
        : React.createElement(
            GraphiQL,
            { ...props, schema: null },
            React.createElement(GraphiQL.Footer, null, NO_INTROSPECTION),
          ),
    );
  });
