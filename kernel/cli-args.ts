/** The arguments of an `nbpool` subcommand: `--help` prints the usage, a mistake says why. */

/** The parsed options, or the exit code when there is nothing to run (0 for help, 2 for a mistake). */
export function readArgs<T extends object>(command: string, usage: string, args: string[], parse: (args: string[]) => T | "help"): T | number {
  try {
    const parsed = parse(args);
    if (parsed !== "help") return parsed;
    process.stdout.write(`${usage}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`nbpool ${command}: ${(err as Error).message}\n\n${usage}\n`);
    return 2;
  }
}
