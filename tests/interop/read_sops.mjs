// Independent sops reader (see shared/research/interop-oracle.md): nobody on this
// project wrote the code that does the work here.
//
//   node read_sops.mjs FILE TYPE KEYFILE      TYPE: yaml | json | env | binary
//
// 1. sops-age (typage + @noble/ciphers) decrypts the file -> plaintext #1
// 2. the data key is recovered from sops.age[].enc with age-encryption (typage)
// 3. sops-decoder walks the tree, decrypts every value with node:crypto and checks
//    the MAC; its AWS KMS client is replaced by a stub that hands it that data key
//    -> plaintext #2 (throws "Hash mismatch" on a bad MAC)
// 4. pass (print plaintext #2 as JSON, exit 0) only when #1 deep-equals #2.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isDeepStrictEqual } from "node:util";

import { Decrypter, armor } from "age-encryption";
import { decryptSops } from "sops-age";
import YAML from "yaml";

const require = createRequire(import.meta.url);

function fail(message) {
  process.stderr.write(`interop: ${message}\n`);
  process.exit(1);
}

const [file, type, keyFile] = process.argv.slice(2);
if (!file || !type || !keyFile) fail("usage: read_sops.mjs FILE TYPE KEYFILE");
const text = readFileSync(file, "utf8");
const secretKeys = readFileSync(keyFile, "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith("#"));

// --- parse the file into a tree with a `sops` object (dotenv: unflatten) ----------
function unflatten(flat) {
  const root = {};
  for (const [name, value] of Object.entries(flat)) {
    const parts = name.split("__");
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const last = i === parts.length - 1;
      const key = part.startsWith("list_") ? Number(part.slice(5)) : part.replace(/^map_/, "");
      if (last) node[key] = value;
      else {
        const next = parts[i + 1];
        if (node[key] === undefined) node[key] = next.startsWith("list_") ? [] : {};
        node = node[key];
      }
    }
  }
  return root;
}

function parseTree() {
  if (type === "yaml") return YAML.parse(text);
  if (type === "json" || type === "binary") return JSON.parse(text);
  if (type === "env") {
    const data = {};
    const meta = {};
    for (const line of text.split("\n")) {
      if (!line || line.startsWith("#")) continue;
      const at = line.indexOf("=");
      if (at < 0) fail("dotenv line without '='");
      const key = line.slice(0, at);
      const value = line.slice(at + 1).replaceAll("\\n", "\n");
      if (key.startsWith("sops_")) meta[key.slice(5)] = value;
      else data[key] = value;
    }
    const sops = unflatten(meta);
    if (sops.mac_only_encrypted !== undefined) sops.mac_only_encrypted = sops.mac_only_encrypted === "true";
    return { ...data, sops };
  }
  fail(`unknown type ${type}`);
}

const tree = parseTree();
if (!tree || typeof tree !== "object" || !tree.sops) fail("no sops metadata");
if (tree.sops.key_groups) fail("key groups / Shamir are not supported by this oracle");
const ageEntries = tree.sops.age || [];
if (ageEntries.length === 0) fail("no age recipients");

// --- 2. data key from the age armor -------------------------------------------------
async function dataKey() {
  const decrypter = new Decrypter();
  for (const key of secretKeys) decrypter.addIdentity(key);
  for (const entry of ageEntries) {
    try {
      return await decrypter.decrypt(armor.decode(entry.enc));
    } catch (error) {
      // not for us: try the next recipient
    }
  }
  fail("no identity opens any sops.age[].enc");
}

// --- 1. sops-age --------------------------------------------------------------------
const ageType = type === "binary" ? "json" : type;
let plain1;
try {
  plain1 = await decryptSops(text, { secretKey: secretKeys[0], fileType: ageType });
} catch (error) {
  fail(`sops-age: ${error.message}`);
}

// --- 3. sops-decoder with a stub KMS client -----------------------------------------
const key = await dataKey();
class KMSClient {
  async send() {
    return { Plaintext: new Uint8Array(key) };
  }
}
class DecryptCommand {
  constructor(input) {
    this.input = input;
  }
}
for (const [name, exports] of [
  ["@aws-sdk/client-kms", { KMSClient, DecryptCommand }],
  ["@aws-sdk/client-sts", { STSClient: KMSClient, AssumeRoleCommand: DecryptCommand }],
]) {
  const resolved = require.resolve(name, { paths: [require.resolve("sops-decoder")] });
  require.cache[resolved] = { id: resolved, filename: resolved, loaded: true, exports };
}
const { decrypt } = require("sops-decoder");
tree.sops.kms = [{ arn: "arn:aws:kms:us-east-1:000000000000:key/stub", enc: "AA==" }];
let plain2;
try {
  plain2 = await decrypt(tree);
} catch (error) {
  fail(`sops-decoder: ${error.message}`);
}
delete plain2.sops;

if (!isDeepStrictEqual(plain1, plain2)) fail("sops-age and sops-decoder disagree");
process.stdout.write(JSON.stringify(plain2) + "\n");
