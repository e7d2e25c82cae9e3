// The graphql-http package's server audits (GraphQL over HTTP) against BASE_URL/graphql.
// Every audit must pass: MUST, SHOULD and MAY alike.
import { serverAudits } from 'graphql-http';

const url = `${process.env.BASE_URL ?? 'http://127.0.0.1:8080'}/graphql`;
let failed = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    console.log(`ok    ${audit.name}`);
  } else {
    failed += 1;
    console.log(`${result.status.padEnd(5)} ${audit.name}: ${result.reason}`);
  }
}
console.log(failed === 0 ? 'graphql-http audit: all passed' : `graphql-http audit: ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
