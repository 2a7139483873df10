// Validates every document of a manifest file against the schema of its kind (kubernetes-models), offline:
// node validate.mjs FILE. Exit 1 when any document is invalid or of a kind it has no schema for.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { DaemonSet } from "kubernetes-models/apps/v1";
import { Service, ServiceAccount, Namespace } from "kubernetes-models/v1";
import { ServiceMonitor, PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
const kinds = { DaemonSet, Service, ServiceAccount, Namespace, ServiceMonitor, PrometheusRule };
let bad = 0;
for (const doc of parseAllDocuments(readFileSync(process.argv[2], "utf8"))) {
  const obj = doc.toJS();
  if (!obj) continue;
  const Kind = kinds[obj.kind];
  if (!Kind) { console.log(`FAIL no schema for kind ${obj.kind}`); bad++; continue; }
  try { new Kind(obj).validate(); console.log(`valid ${obj.apiVersion} ${obj.kind} ${obj.metadata.name}`); }
  catch (e) { console.log(`FAIL ${obj.kind} ${obj.metadata?.name}: ${e.message}`); bad++; }
}
process.exit(bad ? 1 : 0);
