import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { executionContractJsonSchema } from '../../src/contract/execution-json-schema.js';

/**
 * `npm run contract:schema`: writes contract/execution.schema.json from the code's own schemas
 * (src/contract). The file is committed for clients in other languages; a test fails when it and the
 * code part.
 */
export const contractSchemaFile = fileURLToPath(new URL('../../contract/execution.schema.json', import.meta.url));

export function contractSchemaText(): string {
  return `${JSON.stringify(executionContractJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(contractSchemaFile, contractSchemaText());
  console.log(`wrote ${contractSchemaFile}`);
}
