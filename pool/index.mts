// The ESM entry. It re-exports the CommonJS build, so ESM and CommonJS users share one
// module instance (one registry of pools, one host), not two copies.
export * from "./index.js";
