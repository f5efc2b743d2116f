//! Owner of the workspace-level end-to-end tests (`tests/`) and benchmarks (`benches/`).
