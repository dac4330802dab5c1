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

export interface Flag {
  /** The argument as given. */
  arg: string;
  /** The flag, without an `=value` part. */
  flag: string;
  /** Its value: after `=`, or the next argument (which it then consumes). */
  value(): string;
}

/** The arguments one by one, `--flag=value` split and `--flag value` read on demand. */
export function* flags(args: string[]): Generator<Flag> {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    yield {
      arg,
      flag,
      value: () => {
        const v = inline ?? args[++i];
        if (v === undefined || v === "") throw new Error(`${flag} needs a value`);
        return v;
      },
    };
  }
}
