import { ARTIFACT_COLLECTIONS, ARTIFACT_MANIFEST, ARTIFACT_TYPES, COLLECTION_VERSIONS } from './artifacts.js';
import { RUN_INPUT_ARTIFACTS, RUN_OUTPUT_ARTIFACTS } from './artifacts.js';
import { ENTITY, ENTITY_PROJECTS, PROJECT } from './entities.js';
import { ARTIFACT_FILE_URL, ARTIFACT_FILE_URLS, MEMBERSHIP_FILE_URLS } from './files.js';
import { RUN_FILE_URL, RUN_FILE_URLS, RUN_FILES } from './files.js';
import type { GqlOperation } from './operation.js';
import { PROJECT_RUNS, RUN } from './runs.js';
import { PROJECT_SWEEPS, SWEEP_RUNS } from './sweeps.js';
import { VIEWER, VIEWER_WITHOUT_ORGS } from './viewer.js';

/** Every operation wandbfs sends; the schema tests validate each of them. */
export const ALL_OPERATIONS: readonly GqlOperation[] = [
  VIEWER,
  VIEWER_WITHOUT_ORGS,
  ENTITY,
  PROJECT,
  ENTITY_PROJECTS,
  RUN,
  PROJECT_RUNS,
  RUN_FILES,
  RUN_FILE_URL,
  ARTIFACT_FILE_URL,
  RUN_FILE_URLS,
  MEMBERSHIP_FILE_URLS,
  ARTIFACT_FILE_URLS,
  ARTIFACT_TYPES,
  ARTIFACT_COLLECTIONS,
  COLLECTION_VERSIONS,
  RUN_INPUT_ARTIFACTS,
  RUN_OUTPUT_ARTIFACTS,
  ARTIFACT_MANIFEST,
  PROJECT_SWEEPS,
  SWEEP_RUNS,
];
