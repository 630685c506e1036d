// SPDX-License-Identifier: Apache-2.0
// Validates Kubernetes objects against the OpenAPI schemas of kubernetes-models (Kubernetes 1.34,
// pinned in package-lock.json) and the PodMonitor against @kubernetes-models/prometheus-operator.
// Usage: node validate.mjs OBJECTS.json   (a JSON array of objects, e.g. rendered by kustomize)
// Prints one line per object; exits 1 when any object is invalid or has no model, 2 on bad usage.
import { readFileSync } from "node:fs";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs OBJECTS.json");
  process.exit(2);
}
const objects = JSON.parse(readFileSync(file, "utf8"));

// apiVersion + kind -> the module exporting the model class.
function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  return group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

let bad = 0;
for (const obj of objects) {
  const what = `${obj.apiVersion} ${obj.kind}/${obj.metadata?.name}`;
  let Model;
  try {
    Model = (await import(modulePath(obj.apiVersion, obj.kind)))[obj.kind];
  } catch (e) {
    Model = undefined;
  }
  if (typeof Model !== "function") {
    console.log(`NO MODEL  ${what}: no schema for this apiVersion and kind`);
    bad++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`valid     ${what}`);
  } catch (e) {
    console.log(`INVALID   ${what}: ${e.message}`);
    bad++;
  }
}
console.log(`${objects.length - bad} valid, ${bad} invalid`);
process.exit(bad ? 1 : 0);
