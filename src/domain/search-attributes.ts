import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Lifeline's custom search attributes, upserted on every transition so that operators can query
 * `LifelineAgent="x" AND LifelineStatus="running"` in the Temporal UI.
 */
export const searchAttributes = {
  agent: defineSearchAttributeKey('LifelineAgent', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('LifelineStatus', SearchAttributeType.KEYWORD),
  trigger: defineSearchAttributeKey('LifelineTrigger', SearchAttributeType.KEYWORD),
  schedule: defineSearchAttributeKey('LifelineSchedule', SearchAttributeType.KEYWORD),
  /** The team it runs for: `default` when it named none. */
  tenant: defineSearchAttributeKey('LifelineTenant', SearchAttributeType.KEYWORD),
  /** Where the workflow is (ExecutionPhase): `awaiting_worker` finds the runs every busy worker left waiting. */
  phase: defineSearchAttributeKey('LifelinePhase', SearchAttributeType.KEYWORD),
} as const;

/** Name → CLI type name, as `temporal server start-dev --search-attribute NAME=Keyword` wants it. */
export const searchAttributeCliTypes: Record<string, 'Keyword'> = Object.fromEntries(
  Object.values(searchAttributes).map((key) => [key.name, 'Keyword'] as const),
);
