//! Orion runtime: the interpreter of the `ckks` dialect over the
//! [`orion_ckks`] library, and the client/server API over it ([`api`],
//! re-exported here) that every front end uses.

pub mod api;
pub mod interp;
pub mod progress;

pub use api::{Client, Encrypted, Error, LocalRun, Program, Server};
pub use interp::{RunOptions, Timings};
