# The Worker example in workerd, from a clone of this repository after `npm ci` (which builds dist/ and
# build/engine.wasm). From the repository's root:
#
#   npx workerd serve examples/workerd/config.capnp
#   curl -i http://127.0.0.1:8080/demo/foo.tar.gz                    # 200, x-in-toto-verified: sha256:...
#   curl -s http://127.0.0.1:8080/demo-tampered-product/foo.tar.gz   # 409, the verdict: the failing rule
#
# Your own releases and key: `--directory-path origin=/path/to/releases` (one directory per release:
# root.layout, the links, inspections/<name>.link, the artifacts) and LAYOUT_KEY below.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "verifier", worker = .verifier),
    # The artifact store: a directory of releases (relative to where workerd runs). Here, the conformance
    # vectors' scenarios: `demo` verifies, `demo-tampered-product` does not.
    (name = "origin", disk = (path = "test/conformance/vectors/scenarios")),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8080", http = (), service = "verifier") ],
);

const verifier :Workerd.Worker = (
  modules = .modules,
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "ORIGIN", service = "origin"),
    # The project owner's public key you trust to sign layouts (securesystemslib JSON or PEM): the demo's.
    (name = "LAYOUT_KEY", text = embed "../../test/conformance/vectors/scenarios/demo/keys/owner.pub"),
    # To skip inspections (a warning in the verdict; the artifact's digest check stands in for them):
    # (name = "SKIP_INSPECTIONS", text = "1"),
  ],
);

# worker.js and every module it imports, as a bundler would resolve `in-toto-wasm` (its `workerd` entry):
# workerd has no module resolution of its own, and engine.wasm must be a `wasm` module, which workerd compiles
# when it loads the Worker (it refuses to compile WebAssembly from bytes at run time). A bare import resolves
# against the importing module's name, hence the one-line modules beside the importers that re-export the
# package. Generated: `node scripts/runtimes/workerd.mjs --update-example` rewrites everything below.
const modules :List(Workerd.Worker.Module) = [
  (name = "examples/workerd/worker.js", esModule = embed "worker.js"),
  (name = "node_modules/@noble/ed25519/index.js", esModule = embed "../../node_modules/@noble/ed25519/index.js"),
  (name = "node_modules/@noble/hashes/_md.js", esModule = embed "../../node_modules/@noble/hashes/_md.js"),
  (name = "node_modules/@noble/hashes/_u64.js", esModule = embed "../../node_modules/@noble/hashes/_u64.js"),
  (name = "node_modules/@noble/hashes/hmac.js", esModule = embed "../../node_modules/@noble/hashes/hmac.js"),
  (name = "node_modules/@noble/hashes/legacy.js", esModule = embed "../../node_modules/@noble/hashes/legacy.js"),
  (name = "node_modules/@noble/hashes/pbkdf2.js", esModule = embed "../../node_modules/@noble/hashes/pbkdf2.js"),
  (name = "node_modules/@noble/hashes/sha2.js", esModule = embed "../../node_modules/@noble/hashes/sha2.js"),
  (name = "node_modules/@noble/hashes/utils.js", esModule = embed "../../node_modules/@noble/hashes/utils.js"),
  (name = "build/engine.wasm", wasm = embed "../../build/engine.wasm"),
  (name = "dist/attestation/envelope.js", esModule = embed "../../dist/attestation/envelope.js"),
  (name = "dist/attestation/json.js", esModule = embed "../../dist/attestation/json.js"),
  (name = "dist/attestation/predicates.js", esModule = embed "../../dist/attestation/predicates.js"),
  (name = "dist/attestation/statement.js", esModule = embed "../../dist/attestation/statement.js"),
  (name = "dist/bigint.js", esModule = embed "../../dist/bigint.js"),
  (name = "dist/encoding.js", esModule = embed "../../dist/encoding.js"),
  (name = "dist/engine.js", esModule = embed "../../dist/engine.js"),
  (name = "dist/entry/workerd.js", esModule = embed "../../dist/entry/workerd.js"),
  (name = "dist/errors.js", esModule = embed "../../dist/errors.js"),
  (name = "dist/index.js", esModule = embed "../../dist/index.js"),
  (name = "dist/keys/crypto/checks.js", esModule = embed "../../dist/keys/crypto/checks.js"),
  (name = "dist/keys/crypto/index.js", esModule = embed "../../dist/keys/crypto/index.js"),
  (name = "dist/keys/crypto/noble.js", esModule = embed "../../dist/keys/crypto/noble.js"),
  (name = "dist/keys/crypto/node.js", esModule = embed "../../dist/keys/crypto/node.js"),
  (name = "dist/keys/crypto/pbe.js", esModule = embed "../../dist/keys/crypto/pbe.js"),
  (name = "dist/keys/crypto/webcrypto.js", esModule = embed "../../dist/keys/crypto/webcrypto.js"),
  (name = "dist/keys/der.js", esModule = embed "../../dist/keys/der.js"),
  (name = "dist/keys/keys.js", esModule = embed "../../dist/keys/keys.js"),
  (name = "dist/keys/load-private-key.js", esModule = embed "../../dist/keys/load-private-key.js"),
  (name = "dist/keys/openpgp/algorithms.js", esModule = embed "../../dist/keys/openpgp/algorithms.js"),
  (name = "dist/keys/openpgp/dsa.js", esModule = embed "../../dist/keys/openpgp/dsa.js"),
  (name = "dist/keys/openpgp/key.js", esModule = embed "../../dist/keys/openpgp/key.js"),
  (name = "dist/keys/openpgp/packets.js", esModule = embed "../../dist/keys/openpgp/packets.js"),
  (name = "dist/keys/openpgp/signature.js", esModule = embed "../../dist/keys/openpgp/signature.js"),
  (name = "dist/keys/verification-key.js", esModule = embed "../../dist/keys/verification-key.js"),
  (name = "dist/keys/x509.js", esModule = embed "../../dist/keys/x509.js"),
  (name = "dist/layout/graph.js", esModule = embed "../../dist/layout/graph.js"),
  (name = "dist/layout/layout-builder.js", esModule = embed "../../dist/layout/layout-builder.js"),
  (name = "dist/layout/lint.js", esModule = embed "../../dist/layout/lint.js"),
  (name = "dist/metadata/envelope.js", esModule = embed "../../dist/metadata/envelope.js"),
  (name = "dist/metadata/models.js", esModule = embed "../../dist/metadata/models.js"),
  (name = "dist/metadata/reference-json.js", esModule = embed "../../dist/metadata/reference-json.js"),
  (name = "dist/metadata/rules.js", esModule = embed "../../dist/metadata/rules.js"),
  (name = "dist/verify/cert-constraints.js", esModule = embed "../../dist/verify/cert-constraints.js"),
  (name = "dist/verify/link-file.js", esModule = embed "../../dist/verify/link-file.js"),
  (name = "dist/verify/link-list.js", esModule = embed "../../dist/verify/link-list.js"),
  (name = "dist/verify/link-source.js", esModule = embed "../../dist/verify/link-source.js"),
  (name = "dist/verify/rule-engine.js", esModule = embed "../../dist/verify/rule-engine.js"),
  (name = "dist/verify/verify.js", esModule = embed "../../dist/verify/verify.js"),
  (name = "dist/keys/@noble/ed25519", esModule = "export * from \"../../../node_modules/@noble/ed25519/index.js\";"),
  (name = "dist/keys/@noble/hashes/sha2.js", esModule = "export * from \"../../../../node_modules/@noble/hashes/sha2.js\";"),
  (name = "dist/keys/@noble/hashes/utils.js", esModule = "export * from \"../../../../node_modules/@noble/hashes/utils.js\";"),
  (name = "dist/keys/crypto/@noble/ed25519", esModule = "export * from \"../../../../node_modules/@noble/ed25519/index.js\";"),
  (name = "dist/keys/crypto/@noble/hashes/legacy.js", esModule = "export * from \"../../../../../node_modules/@noble/hashes/legacy.js\";"),
  (name = "dist/keys/crypto/@noble/hashes/pbkdf2.js", esModule = "export * from \"../../../../../node_modules/@noble/hashes/pbkdf2.js\";"),
  (name = "dist/keys/crypto/@noble/hashes/sha2.js", esModule = "export * from \"../../../../../node_modules/@noble/hashes/sha2.js\";"),
  (name = "dist/keys/openpgp/@noble/hashes/legacy.js", esModule = "export * from \"../../../../../node_modules/@noble/hashes/legacy.js\";"),
  (name = "dist/keys/openpgp/@noble/hashes/sha2.js", esModule = "export * from \"../../../../../node_modules/@noble/hashes/sha2.js\";"),
  (name = "dist/verify/@noble/hashes/sha2.js", esModule = "export * from \"../../../../node_modules/@noble/hashes/sha2.js\";"),
  (name = "examples/workerd/in-toto-wasm", esModule = "export * from \"../../dist/entry/workerd.js\";"),
];
