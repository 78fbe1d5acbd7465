/** The bench worker's activities: the bare workflow's single step does nothing. */
export const benchActivities = {
  async noop(): Promise<void> {},
};
