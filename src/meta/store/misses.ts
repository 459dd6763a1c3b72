/**
 * How many complete listings in a row must lack a run, collection, version or sweep before it leaves
 * the tree. One is not enough: W&B pages runs with offset cursors, so rows inserted while a client
 * pages through a project shift later rows past the cursor and one complete-looking listing can
 * miss them. A row whose own query says it is gone is deleted at once, without waiting.
 */
export const MISSES_TO_DROP = 2;
