//! Runs passes by name, verifies after each, times them, and dumps the IR
//! after the passes the user asks for (`--print-ir-after-all`,
//! `--print-ir-after=NAME`), as mlir-opt does.

use crate::passes::{self, Pass, PassOptions, Statistics};
use orion_dialects::{verify::verify_module, Diagnostic, Module};
use std::time::{Duration, Instant};

/// When to print the IR.
#[derive(Clone, Debug, Default)]
pub enum PrintIr {
    #[default]
    Never,
    AfterAll,
    After(Vec<String>),
}

pub struct PassManager {
    passes: Vec<Box<dyn Pass>>,
    pub print_ir: PrintIr,
    /// Verify after every pass (on by default; mlir-opt does too).
    pub verify_each: bool,
    pub timings: Vec<(String, Duration)>,
    /// Counters reported by each pass that ran, in order.
    pub statistics: Vec<(String, Statistics)>,
}

impl PassManager {
    pub fn new() -> PassManager {
        PassManager {
            passes: Vec::new(),
            print_ir: PrintIr::Never,
            verify_each: true,
            timings: Vec::new(),
            statistics: Vec::new(),
        }
    }

    pub fn add(&mut self, pass: Box<dyn Pass>) {
        self.passes.push(pass);
    }

    /// Adds a pass by its registered name.
    pub fn add_by_name(&mut self, name: &str, opts: &PassOptions) -> Result<(), Diagnostic> {
        let pass = passes::by_name(name, opts).ok_or_else(|| {
            Diagnostic::new(
                Default::default(),
                format!(
                    "unknown pass '{name}' (known passes: {})",
                    passes::names().join(", ")
                ),
            )
        })?;
        self.add(pass);
        Ok(())
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.passes.iter().map(|p| p.name()).collect()
    }

    /// Whether the IR should be printed after the pass called `name`.
    pub fn should_print(&self, name: &str) -> bool {
        match &self.print_ir {
            PrintIr::Never => false,
            PrintIr::AfterAll => true,
            PrintIr::After(names) => names.iter().any(|n| n == name),
        }
    }

    /// Runs every pass in order. `dump(name, module)` is called after each
    /// pass whose IR should be printed.
    pub fn run(
        &mut self,
        module: &mut Module,
        dump: impl FnMut(&str, &Module),
    ) -> Result<(), Diagnostic> {
        self.run_observed(module, dump, |_, _| {})
    }

    /// As `run`, and `observe(name, module)` after every pass (once it is
    /// verified), e.g. to take statistics of an intermediate level.
    pub fn run_observed(
        &mut self,
        module: &mut Module,
        mut dump: impl FnMut(&str, &Module),
        mut observe: impl FnMut(&str, &Module),
    ) -> Result<(), Diagnostic> {
        for pass in &self.passes {
            let start = Instant::now();
            let stats = pass.run(module)?;
            self.statistics.push((pass.name().to_string(), stats));
            self.timings
                .push((pass.name().to_string(), start.elapsed()));
            if self.verify_each {
                verify_module(module).map_err(|d| {
                    Diagnostic::new(
                        d.loc,
                        format!("after pass '{}': {}", pass.name(), d.message),
                    )
                })?;
            }
            if self.should_print(pass.name()) {
                dump(pass.name(), module);
            }
            observe(pass.name(), module);
        }
        Ok(())
    }
}

impl Default for PassManager {
    fn default() -> Self {
        PassManager::new()
    }
}
