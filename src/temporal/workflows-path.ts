import { siblingModule } from '../util/module-path.js';

/** The workflow bundle's entry point, for Worker.create and bundleWorkflowCode. */
export const workflowsPath = siblingModule(import.meta.url, '../workflows/index');
