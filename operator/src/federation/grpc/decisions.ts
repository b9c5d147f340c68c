/**
 * Explain and Simulate: the scheduler's decisions, served over gRPC. Explain reads the
 * workload, the clusters, the policies and the other workloads from the host and plans
 * exactly as the control plane does (explainWorkload: the holders of its replicas, their
 * toleration and failover included); Simulate reads the documents the caller sends, with the same
 * loader and checks as `kubectl sovereign simulate`, and changes nothing anywhere.
 */
import { status } from "@grpc/grpc-js";
import type {
  Decision as DecisionMessage, ExplainRequest, ExplainResponse, SimulateRequest, SimulateResponse,
} from "../../gen/sovereign/v1/federation.ts";
import type { HostApi } from "../../kube/index.ts";
import type { Clock } from "../../runtime/index.ts";
import { decisionOf, explainWorkload, InputError, loadInputs, PolicyNotFoundError, simulateObjects } from "../../scheduler/index.ts";
import type { Decision, InputReader } from "../../scheduler/index.ts";
import { RpcError } from "./errors.ts";

export function decisionMessage(d: Decision): DecisionMessage {
  return {
    workload: d.workload,
    scheduled: d.scheduled,
    reason: d.reason,
    message: d.message,
    placements: d.placements.map((p) => ({ cluster: p.cluster, country: p.country, replicas: p.replicas })),
    rejected: d.rejected.map((r) => ({ cluster: r.cluster, reasons: [...r.reasons], messages: [] })),
    unselected: d.unselected.map((u) => ({ cluster: u.cluster, reason: u.reason })),
  };
}

/** What Explain reads from the host. */
export type ExplainSource = Pick<HostApi, "getSovereignWorkload" | "listMemberClusters" | "listResidencyPolicies" | "listSovereignWorkloads">;

/** Explain one workload on the host, as the control plane would decide it now (or at `req.now`). */
// Kubernetes' own name rules: a namespace is a DNS-1123 label, an object name a DNS-1123
// subdomain. Checked before asking the host: the host API server answers a name like
// "../x" with an error the caller saw as INTERNAL (found by the gRPC fuzzer).
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function explainHandler(params: { host: ExplainSource; clock: Clock }) {
  return async (req: ExplainRequest): Promise<ExplainResponse> => {
    if (!req.namespace || !req.name) throw new RpcError(status.INVALID_ARGUMENT, "namespace and name of the SovereignWorkload are required");
    if (req.namespace.length > 63 || !NAMESPACE.test(req.namespace)) {
      throw new RpcError(status.INVALID_ARGUMENT, `namespace: ${JSON.stringify(req.namespace.slice(0, 80))} is not a namespace name (a DNS-1123 label)`);
    }
    if (req.name.length > 253 || !OBJECT_NAME.test(req.name)) {
      throw new RpcError(status.INVALID_ARGUMENT, `name: ${JSON.stringify(req.name.slice(0, 80))} is not an object name (a DNS-1123 subdomain)`);
    }
    if (req.now && !Number.isFinite(req.now.getTime())) throw new RpcError(status.INVALID_ARGUMENT, "now: not a time");
    const [workload, clusters, policies, workloads] = await Promise.all([
      params.host.getSovereignWorkload(req.namespace, req.name),
      params.host.listMemberClusters(),
      params.host.listResidencyPolicies(),
      params.host.listSovereignWorkloads(),
    ]);
    if (!workload) throw new RpcError(status.NOT_FOUND, `SovereignWorkload ${req.namespace}/${req.name} does not exist on the host`);
    const now = (req.now ?? params.clock.now()).getTime();
    try {
      return { decision: decisionMessage(decisionOf(explainWorkload({ workload, clusters, policies, workloads, now }))) };
    } catch (err) {
      // The policy may not have reached the host's cache yet: worth retrying.
      if (err instanceof PolicyNotFoundError) throw new RpcError(status.FAILED_PRECONDITION, err.message, { retryable: true, cause: err });
      throw err;
    }
  };
}

/** Simulate documents sent by the caller; invalid input is INVALID_ARGUMENT naming the document and field. */
export function simulateHandler(params: { clock: Clock; maxDocuments?: number; maxBytes?: number }) {
  const maxDocuments = params.maxDocuments ?? 100;
  const maxBytes = params.maxBytes ?? 4 * 1024 * 1024;
  return async (req: SimulateRequest): Promise<SimulateResponse> => {
    if (req.documents.length === 0) throw new RpcError(status.INVALID_ARGUMENT, "documents: at least one YAML document is required");
    if (req.documents.length > maxDocuments) throw new RpcError(status.INVALID_ARGUMENT, `documents: at most ${maxDocuments} are accepted`);
    if (req.documents.reduce((n, d) => n + d.length, 0) > maxBytes) throw new RpcError(status.INVALID_ARGUMENT, `documents: at most ${maxBytes} bytes in total`);
    const names = req.documents.map((_, i) => `documents[${i}]`);
    const reader: InputReader = {
      readFile: async (path) => req.documents[names.indexOf(path)] ?? "",
      listDirectory: async () => undefined,
      readStdin: async () => "",
    };
    let inputs;
    try {
      inputs = await loadInputs({ paths: names, reader });
    } catch (err) {
      if (err instanceof InputError) throw new RpcError(status.INVALID_ARGUMENT, err.message, { cause: err });
      throw err;
    }
    const now = (req.now ?? params.clock.now()).getTime();
    return { decisions: simulateObjects({ ...inputs, now }).map(decisionMessage) };
  };
}
