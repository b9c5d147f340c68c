import { execFileSync } from "node:child_process";
import path from "node:path";

/** Paths of the binaries hack/build-tools builds, from the same pinned versions. */
export interface Tools {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  kwok: string;
  kwokStages: string;
  natsServer: string;
  helm: string;
}

export function toolPaths(root: string): Tools {
  const out = execFileSync(path.join(root, "hack", "build-tools"), ["--print"], { encoding: "utf8" });
  const vars = Object.fromEntries(out.trim().split("\n").map((l) => l.split("=", 2) as [string, string]));
  const need = (k: string): string => {
    const v = vars[k];
    if (!v) throw new Error(`hack/build-tools --print did not name ${k}`);
    return v;
  };
  return {
    etcd: need("ETCD_BIN"),
    kubeApiserver: need("KUBE_APISERVER_BIN"),
    kubeControllerManager: need("KUBE_CONTROLLER_MANAGER_BIN"),
    kubeScheduler: need("KUBE_SCHEDULER_BIN"),
    kubectl: need("KUBECTL_BIN"),
    kwok: need("KWOK_BIN"),
    kwokStages: need("KWOK_STAGES"),
    natsServer: need("NATS_SERVER_BIN"),
    helm: need("HELM_BIN"),
  };
}
