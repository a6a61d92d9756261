//! Keeping freed memory in the process, for programs that run CKKS at
//! N = 2^16.
//!
//! An operation there allocates and frees buffers of 0.5 to 70 MB by the
//! thousand (limbs of 512 KB, whole ciphertexts, key-switching
//! decompositions). With glibc's defaults, freed memory at the top of the
//! heap goes back to the kernel and large blocks are mapped and unmapped,
//! so the next allocation is a page fault and a page zeroing per 4 KB:
//! measured on ResNet-20 encrypted, 80 s of a 372 s run (mul_plain 100 s
//! -> 44 s, the bootstraps 233 s -> 213 s), with the same peak memory. A
//! process that calls [`keep_freed_memory`] keeps what it freed for its
//! next allocations instead.

/// Sets glibc's malloc to serve blocks up to 32 MB from its heap and not
/// to trim the heap (process-wide; call once at start-up, before the
/// threads). A no-op on other C libraries.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; it is called
    // before other threads allocate.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}
