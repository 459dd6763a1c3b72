/**
 * Knobs for how listings behave while a client pages through them: runs created between two pages
 * (the hook a test uses to show offset cursors skipping runs), and Sweep.runs giving up on big
 * sweeps as the real server's did (the SDK stopped using it in 2021, wandb/wandb#1894).
 */
import { GraphQLError } from 'graphql';
import type { FixtureBase } from './fixture-base.js';
import type { ProjectFx } from './fixture-types.js';

interface InsertPlan {
  entity: string;
  project: string;
  afterPages: number;
  count: number;
  served: number;
}

/** Default for `sweepRunsTimeoutAbove`: a guess [U]; the real limit depended on server load. */
export const SWEEP_RUNS_TIMEOUT_ABOVE = 200;

export class ListingControls {
  /** Sweep.runs of a sweep with more runs than this answers a timeout error; null = never */
  sweepRunsTimeoutAbove: number | null = SWEEP_RUNS_TIMEOUT_ABOVE;
  /** names of the runs the insert hook created, in creation order */
  readonly insertedRuns: string[] = [];
  private plan: InsertPlan | null = null;

  /**
   * After the `afterPages`-th runs page of entity/project has been served (any Project.runs query
   * of that project counts), `count` new runs are created, newer than every existing run. One shot.
   */
  insertRunsAfterPage(entity: string, project: string, afterPages: number, count: number): void {
    this.plan = { entity, project, afterPages, count, served: 0 };
  }

  reset(): void {
    this.sweepRunsTimeoutAbove = SWEEP_RUNS_TIMEOUT_ABOVE;
    this.plan = null;
    this.insertedRuns.length = 0;
  }

  /** Called once a runs page of `p` has been computed (the page itself is not affected). */
  runsPageServed(fx: FixtureBase, p: ProjectFx): void {
    const plan = this.plan;
    if (plan === null || plan.entity !== p.entityName || plan.project !== p.name) return;
    plan.served++;
    if (plan.served < plan.afterPages) return;
    this.plan = null;
    for (let i = 0; i < plan.count; i++) this.insertedRuns.push(fx.addLiveRun(p).name);
  }

  checkSweepRuns(sweepName: string, runCount: number): void {
    const limit = this.sweepRunsTimeoutAbove;
    if (limit !== null && runCount > limit) {
      throw new GraphQLError(
        `Sweep.runs of sweep ${sweepName} (${runCount} runs): the query timed out; ` +
          `filter Project.runs by {"$and":[{"sweep":"${sweepName}"}]} instead`,
      );
    }
  }
}
