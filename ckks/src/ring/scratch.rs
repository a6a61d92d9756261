//! A process-wide pool of limb buffers.
//!
//! A key switch at N = 2^13 touches about a hundred temporary limbs (6 MB),
//! and every operation allocates its result. Allocating them afresh costs
//! more than the arithmetic: glibc returns freed memory at the top of the
//! heap to the kernel, and every new page is then a page fault plus zeroing
//! (measured: 70% of a ModUp, and a hoisted rotation twice as slow as its
//! arithmetic). So limbs are recycled: [`RnsPoly`](crate::ring::poly::RnsPoly)
//! returns its limbs here when dropped, and internal temporaries take them
//! from here. The pool is bounded in bytes; past the bound buffers are freed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Upper bound of the memory kept by the pool.
const MAX_BYTES: usize = 256 << 20;

/// One free list per power-of-two length (limbs have length N = 2^log_n).
static FREE: [Mutex<Vec<Vec<u64>>>; 24] = [const { Mutex::new(Vec::new()) }; 24];
static KEPT_BYTES: AtomicUsize = AtomicUsize::new(0);

fn bucket(len: usize) -> Option<usize> {
    (len.is_power_of_two() && len.trailing_zeros() < 24).then(|| len.trailing_zeros() as usize)
}

/// A buffer of length `n` with unspecified contents (to be overwritten).
pub(crate) fn take(n: usize) -> Vec<u64> {
    if let Some(b) = bucket(n) {
        let v = FREE[b].lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(v) = v {
            KEPT_BYTES.fetch_sub(8 * n, Ordering::Relaxed);
            return v;
        }
    }
    vec![0u64; n]
}

/// Returns a buffer to the pool (freed if the pool is full).
pub(crate) fn give(v: Vec<u64>) {
    let n = v.len();
    if n == 0 || v.capacity() != n {
        return;
    }
    if let Some(b) = bucket(n) {
        if KEPT_BYTES.fetch_add(8 * n, Ordering::Relaxed) + 8 * n <= MAX_BYTES {
            FREE[b].lock().unwrap_or_else(|e| e.into_inner()).push(v);
        } else {
            KEPT_BYTES.fetch_sub(8 * n, Ordering::Relaxed);
        }
    }
}

/// Pool access for one ring degree (a handle kept in the context).
#[derive(Debug, Clone)]
pub(crate) struct Scratch {
    n: usize,
}

impl Scratch {
    pub(crate) fn new(n: usize) -> Self {
        Self { n }
    }

    /// A buffer of length N with unspecified contents (to be overwritten).
    pub(crate) fn take(&self) -> Vec<u64> {
        take(self.n)
    }

    /// A buffer of N zeros.
    pub(crate) fn take_zeroed(&self) -> Vec<u64> {
        let mut v = self.take();
        v.fill(0);
        v
    }

    /// A copy of `src` (length N).
    pub(crate) fn take_copy(&self, src: &[u64]) -> Vec<u64> {
        let mut v = self.take();
        v.copy_from_slice(src);
        v
    }

    /// Returns a buffer to the pool.
    pub(crate) fn give(&self, v: Vec<u64>) {
        give(v)
    }
}
