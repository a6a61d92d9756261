//! Client and server in one process, on one key set and without files:
//! for tests, benchmarks and a one-call check of a program.

use std::sync::Arc;
use std::time::Duration;

use orion_dialects::tensor::Tensor;

use super::{Error, Program};
use crate::interp::{MemoryEstimate, RunOptions, Session, Timings};

/// A program with every key (secret, public, evaluation) in one session.
#[derive(Debug)]
pub struct LocalRun {
    program: Arc<Program>,
    session: Session,
    estimate: MemoryEstimate,
}

impl LocalRun {
    /// Generates the program's keys, once the memory they, the
    /// bootstrapping matrices and the evaluation need is known to fit
    /// (`Program::fit_memory`).
    pub fn new(program: Arc<Program>, opts: &RunOptions) -> Result<LocalRun, Error> {
        let (opts, estimate) = program.fit_memory(opts, "the encrypted run", |e| *e)?;
        let mut session = Session::new(program.module(), &opts)?;
        session.pin_module(program.module());
        Ok(LocalRun {
            program,
            session,
            estimate,
        })
    }

    /// The memory estimate the run was admitted with.
    pub fn memory_estimate(&self) -> MemoryEstimate {
        self.estimate
    }

    /// Encodes the program's plaintexts ahead of the first run (optional).
    pub fn prepare(&mut self) -> Result<Duration, Error> {
        Ok(self.session.prepare(self.program.module())?)
    }

    /// Encrypts `x`, evaluates, decrypts: the program's outputs and the time
    /// of each phase.
    pub fn run(&mut self, x: &Tensor) -> Result<(Vec<Tensor>, Timings), Error> {
        self.program.check_input(x)?;
        Ok(self
            .session
            .run(self.program.module(), std::slice::from_ref(x))?)
    }

    /// The session underneath (timings, memory use, op profile).
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, to change its progress output.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }
}
