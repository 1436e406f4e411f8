/**
 * Runs a layout's inspections as the reference does (verifylib `run_all_inspections`): the inspection's
 * command in the verifier's working directory, with `.` recorded as materials before and as products after
 * (default excludes, symlinked directories followed), giving an unsigned link. Node only.
 *
 * Unlike the reference, the link is not written to `<inspection>.link` in the working directory: verifying
 * leaves the directory as it found it (apart from what the inspection command itself does).
 */
import type { LinkJSON } from '../metadata/models.js';
import { recordArtifacts } from './record.js';
import { DEFAULT_TIMEOUT_SECONDS, executeCommand } from './run.js';
import type { InspectionRunner } from '../verify/verify.js';

export interface NodeInspectionOptions {
  /** Where inspections run and what they record (default: this process's working directory). */
  cwd?: string;
  /** Seconds an inspection may run (default 10, the reference's LINK_CMD_EXEC_TIMEOUT). */
  timeoutSeconds?: number;
}

export function nodeInspectionRunner(options: NodeInspectionOptions = {}): InspectionRunner {
  const cwd = options.cwd ?? process.cwd();
  const record = () => recordArtifacts(['.'], { basePath: cwd, followSymlinkDirs: true });
  return async (inspection) => {
    const materials = await record();
    const byproducts = await executeCommand(inspection.run, { cwd, timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS });
    const products = await record();
    const link: LinkJSON = { _type: 'link', name: inspection.name, command: [...inspection.run], materials, products, byproducts: { ...byproducts }, environment: {} };
    return link;
  };
}
