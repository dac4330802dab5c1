/**
 * Turns the iopub messages of a cell into the outputs nbformat stores, as Jupyter front ends
 * and nbclient do: stream text merged per stream name, displays kept by display id so that
 * an update_display_data replaces the output with that id in whichever cell showed it,
 * clear_output (wait or not), execute_result with its execution count, errors.
 */

import type { CodeCell, MimeBundle, Output } from "./notebook";

/** The iopub message types that change a cell's outputs. */
export const OUTPUT_MESSAGES = new Set(["stream", "display_data", "update_display_data", "execute_result", "error", "clear_output"]);

type DisplayOutput = Extract<Output, { output_type: "display_data" | "execute_result" }>;

export class OutputCollector {
  /** Every output shown with a display id, in any cell: updates go to all of them. */
  private readonly displays = new Map<string, DisplayOutput[]>();
  /** Cells that asked for clear_output(wait=true): cleared when their next output arrives. */
  private readonly clearOnNext = new Set<CodeCell>();

  /** Apply one iopub message (parented by `cell`'s execute_request) to the notebook. */
  apply(cell: CodeCell, msgType: string, content: Record<string, unknown>): void {
    if (msgType === "clear_output") {
      if (content.wait === true) this.clearOnNext.add(cell);
      else this.clear(cell);
      return;
    }
    if (msgType === "update_display_data") {
      // Updates an existing display only; one whose id was never shown is dropped (as in JupyterLab).
      for (const output of this.displays.get(displayId(content) ?? "") ?? []) {
        output.data = bundle(content.data);
        output.metadata = metadata(content.metadata);
      }
      return;
    }
    if (this.clearOnNext.has(cell)) this.clear(cell);
    switch (msgType) {
      case "stream": {
        const name = String(content.name ?? "stdout");
        const text = String(content.text ?? "");
        const last = cell.outputs[cell.outputs.length - 1];
        if (last?.output_type === "stream" && last.name === name) last.text += text;
        else cell.outputs.push({ output_type: "stream", name, text });
        return;
      }
      case "display_data":
      case "execute_result": {
        const output: DisplayOutput =
          msgType === "display_data"
            ? { output_type: "display_data", data: bundle(content.data), metadata: metadata(content.metadata) }
            : { output_type: "execute_result", data: bundle(content.data), metadata: metadata(content.metadata), execution_count: count(content.execution_count) };
        cell.outputs.push(output);
        const id = displayId(content);
        if (id !== undefined) this.displays.set(id, [...(this.displays.get(id) ?? []), output]);
        return;
      }
      case "error":
        cell.outputs.push({
          output_type: "error",
          ename: String(content.ename ?? "Error"),
          evalue: String(content.evalue ?? ""),
          traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
        });
        return;
    }
  }

  private clear(cell: CodeCell): void {
    this.clearOnNext.delete(cell);
    cell.outputs = [];
  }
}

function displayId(content: Record<string, unknown>): string | undefined {
  const transient = content.transient as { display_id?: unknown } | undefined;
  return typeof transient?.display_id === "string" ? transient.display_id : undefined;
}

function bundle(value: unknown): MimeBundle {
  return typeof value === "object" && value !== null ? { ...(value as MimeBundle) } : {};
}

function metadata(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? { ...(value as Record<string, unknown>) } : {};
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : null;
}
