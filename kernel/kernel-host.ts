/**
 * The pool's window onto the notebook (pool/host.ts), registered once by the engine. The
 * context a pool stores on each task is the cell run that submitted it (the
 * AsyncLocalStorage store), so worker output and displays land in that cell, and an
 * interrupt of that cell finds its tasks.
 */

import { registerHost, type CellScript, type Host } from "../pool/host";
import { publishDisplay } from "./display";
import type { OutputRouter, OutputTarget } from "./output";

export function registerKernelHost<T extends OutputTarget>(
  router: OutputRouter<T>,
  isRun: (context: unknown) => context is T,
  scripts: () => Iterable<CellScript>,
): Host {
  const target = (context: unknown): T | undefined => (isRun(context) ? context : undefined);
  const host: Host = {
    currentContext: () => router.running(),
    write: (context, stream, text) => router.write(target(context), stream, text),
    display: (context, bundle, options) => publishDisplay(router, target(context), bundle, options),
    cells: scripts,
  };
  registerHost(host);
  return host;
}
