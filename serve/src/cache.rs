//! Evaluation sessions (decoded keys, bootstrapping matrices, cached
//! plaintexts) of the key sets in use, kept under a byte budget and
//! evicted least recently used first.
//!
//! A session in use is shared (`Arc`): evicting it only drops the cache's
//! reference, and its memory is freed when its last request ends. Requests
//! under one key set take turns on its session (a CKKS evaluation already
//! uses every core through rayon).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use orion_ckks::serialize::KeyId;
use orion_runtime::Server;

/// A session, locked while a request evaluates on it.
pub type Session = Arc<Mutex<Server>>;

struct Entry {
    session: Session,
    bytes: usize,
    last_used: u64,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<(String, KeyId), Entry>,
    bytes: usize,
    tick: u64,
}

/// The sessions of (model, key id), within `budget` bytes.
pub struct SessionCache {
    budget: usize,
    inner: Mutex<Inner>,
}

impl SessionCache {
    pub fn new(budget: usize) -> SessionCache {
        SessionCache {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The budget, in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The session of `(model, id)`, if cached (it becomes the most
    /// recently used).
    pub fn get(&self, model: &str, id: KeyId) -> Option<Session> {
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let e = inner.entries.get_mut(&(model.to_string(), id))?;
        e.last_used = tick;
        Some(e.session.clone())
    }

    /// Caches a session of `bytes`, evicting the least recently used ones
    /// until it fits. A session larger than the whole budget is refused.
    pub fn insert(
        &self,
        model: &str,
        id: KeyId,
        session: Session,
        bytes: usize,
    ) -> Result<(), String> {
        if bytes > self.budget {
            return Err(format!(
                "the key set needs {} MB in memory, more than the key cache's budget of {} MB",
                bytes >> 20,
                self.budget >> 20
            ));
        }
        let mut inner = self.lock();
        let key = (model.to_string(), id);
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.bytes;
        }
        while inner.bytes + bytes > self.budget {
            let Some(victim) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&victim) {
                inner.bytes -= e.bytes;
            }
        }
        inner.tick += 1;
        let last_used = inner.tick;
        inner.bytes += bytes;
        inner.entries.insert(
            key,
            Entry {
                session,
                bytes,
                last_used,
            },
        );
        Ok(())
    }

    /// (bytes held, entries).
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.bytes, inner.entries.len())
    }
}
