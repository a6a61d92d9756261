//! Admission control: at most `max_concurrent` evaluations at once, at most
//! `max_queue` requests waiting for a turn, and the memory the running ones
//! are estimated to need within a budget. What does not fit is refused
//! with RESOURCE_EXHAUSTED before anything is allocated, never killed by
//! the kernel for want of memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

/// The limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_concurrent: usize,
    pub max_queue: usize,
    /// Bytes the running evaluations may take (beyond the key cache).
    pub memory_budget: usize,
}

/// The admission state of a server.
pub struct Admission {
    limits: Limits,
    permits: Arc<Semaphore>,
    queued: AtomicUsize,
    reserved: Arc<Mutex<usize>>,
}

/// A running request's turn and memory; both are given back on drop.
pub struct Ticket {
    _permit: OwnedSemaphorePermit,
    bytes: usize,
    reserved: Arc<Mutex<usize>>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut r = self.reserved.lock().unwrap_or_else(|e| e.into_inner());
        *r = r.saturating_sub(self.bytes);
    }
}

/// Decrements the queue count when a waiting request leaves it, however
/// it leaves (admitted, refused, or cancelled by its client).
struct InQueue<'a>(&'a AtomicUsize);

impl Drop for InQueue<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Admission {
    pub fn new(limits: Limits) -> Admission {
        Admission {
            permits: Arc::new(Semaphore::new(limits.max_concurrent.max(1))),
            limits,
            queued: AtomicUsize::new(0),
            reserved: Arc::new(Mutex::new(0)),
        }
    }

    /// Waits for a turn (in the bounded queue), then reserves `bytes`.
    pub async fn admit(&self, bytes: usize) -> Result<Ticket, Status> {
        if bytes > self.limits.memory_budget {
            return Err(Status::resource_exhausted(format!(
                "the request needs about {} MB, more than the server's memory budget of {} MB",
                bytes >> 20,
                self.limits.memory_budget >> 20
            )));
        }
        let waiting = self.queued.fetch_add(1, Ordering::SeqCst);
        let in_queue = InQueue(&self.queued);
        if waiting >= self.limits.max_queue {
            return Err(Status::resource_exhausted(format!(
                "server busy: {} requests already wait for one of {} evaluation slots",
                waiting, self.limits.max_concurrent
            )));
        }
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Status::unavailable("the server is shutting down"))?;
        drop(in_queue);
        let mut reserved = self.reserved.lock().unwrap_or_else(|e| e.into_inner());
        if *reserved + bytes > self.limits.memory_budget {
            return Err(Status::resource_exhausted(format!(
                "memory budget spent: {} of {} MB reserved by running requests, this one needs about {} MB",
                *reserved >> 20,
                self.limits.memory_budget >> 20,
                bytes >> 20
            )));
        }
        *reserved += bytes;
        Ok(Ticket {
            _permit: permit,
            bytes,
            reserved: self.reserved.clone(),
        })
    }

    /// (queued, in flight, reserved bytes).
    pub fn usage(&self) -> (usize, usize, usize) {
        let in_flight = self.limits.max_concurrent.max(1) - self.permits.available_permits();
        let reserved = *self.reserved.lock().unwrap_or_else(|e| e.into_inner());
        (self.queued.load(Ordering::SeqCst), in_flight, reserved)
    }
}
