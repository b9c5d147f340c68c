import { loadInputs, simulateObjects, type InputReader } from "../../scheduler/index.ts";
import { OutputFormat, type SimulateOptions } from "./options.ts";
import { toJson, toTable } from "./output.ts";

/** `kubectl sovereign simulate`: read, decide, print. Input errors propagate as InputError. */
export async function runSimulate({ options, reader, write }: {
  options: SimulateOptions;
  reader: InputReader;
  write: (text: string) => void;
}): Promise<void> {
  const inputs = await loadInputs({ paths: options.files, reader });
  const decisions = simulateObjects({ ...inputs, now: options.now });
  if (options.output === OutputFormat.table) {
    const countries = new Map(inputs.clusters.map((c) => [c.metadata.name, c.spec.residency.country as string]));
    write(toTable(decisions, (name) => countries.get(name) ?? ""));
  } else {
    write(toJson(decisions));
  }
}
