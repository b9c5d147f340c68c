// Compile-time guarantees of the schema builders: each @ts-expect-error below must stay an
// error. `npm run typecheck` checks that, and so does the last test here, which runs the
// TypeScript compiler on this file: under mocha alone (Node strips the types without
// checking them) the directives would otherwise prove nothing.
import assert from "node:assert/strict";
import path from "node:path";
import ts from "typescript";
import { int32, object, str } from "../../../operator/src/api/openapi.ts";

interface Sample {
  name: string;
  count?: number;
}

const THIS_FILE = path.resolve(import.meta.dirname, "schema-types.test.ts");
/** TS2578: "Unused '@ts-expect-error' directive", what a builder that lost its typing produces here. */
const UNUSED_EXPECT_ERROR = 2578;

/** The compiler's diagnostics for this file with the repository's options, optionally with its text replaced. */
function diagnosticsOf(text?: string): readonly ts.Diagnostic[] {
  const config = ts.getParsedCommandLineOfConfigFile(path.resolve(import.meta.dirname, "../../../tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(ts.flattenDiagnosticMessageText(d.messageText, "\n")) });
  assert.ok(config);
  const host = ts.createCompilerHost(config.options);
  if (text !== undefined) {
    const original = host.getSourceFile.bind(host);
    host.getSourceFile = (file, lang, ...rest) => (path.resolve(file) === THIS_FILE ? ts.createSourceFile(file, text, lang) : original(file, lang, ...rest));
  }
  const program = ts.createProgram({ rootNames: [THIS_FILE], options: config.options, host });
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(THIS_FILE));
}

const show = (ds: readonly ts.Diagnostic[]) => ds.map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);

describe("schema builders are typed against the API types", () => {
  it("object<T> must list exactly T's fields, with schemas of matching kinds, requiring only required fields", () => {
    const name = str("n", { maxLength: 8 });
    const count = int32("c");
    const ok = object<Sample>({ description: "s", properties: { name, count }, required: ["name"] });
    // @ts-expect-error count is a field of Sample and must be described
    object<Sample>({ description: "s", properties: { name } });
    // @ts-expect-error extra is not a field of Sample
    object<Sample>({ description: "s", properties: { name, count, extra: name } });
    // @ts-expect-error a string field cannot have an integer schema
    object<Sample>({ description: "s", properties: { name: count, count } });
    // @ts-expect-error count is optional in Sample, so the schema cannot require it
    object<Sample>({ description: "s", properties: { name, count }, required: ["count"] });
    assert.deepEqual(ok.required, ["name"]);
  });

  it("hold under the compiler when mocha runs them: this file type-checks, so every @ts-expect-error above is an error", function () {
    // A full type check of this file and what it imports.
    this.timeout(60_000);
    // Compared as text: a Diagnostic holds the whole program, far too big for assert to print.
    assert.deepEqual(show(diagnosticsOf()), []);
    // Positive control: a directive over a correct call is reported, so the check above
    // would fail on a builder that stopped rejecting what the directives mark.
    const source = ts.sys.readFile(THIS_FILE)!;
    const correct = 'object<Sample>({ description: "s", properties: { name, count }, required: ["name"] });';
    assert.ok(source.includes(`    const ok = ${correct}`));
    const control = diagnosticsOf(source.replace(`    const ok = ${correct}`, `    // @ts-expect-error a correct call\n    ${correct}\n    const ok = ${correct}`));
    assert.deepEqual(control.map((d) => d.code), [UNUSED_EXPECT_ERROR], show(control).join("\n"));
  });
});
