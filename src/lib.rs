//! The workspace-level end-to-end tests (`tests/`) and benchmarks (`benches/`)
//! live in this package, and the hardware-in-loop scenario matrix [`hil`] that
//! `cargo xtask hil` runs and the replay tests play back.

pub mod hil;
